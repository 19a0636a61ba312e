package reports

import (
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"harness/internal/numfmt"
	"harness/plots"
	"harness/store"
)

// reconDir is the subdirectory of a report holding the copied
// reconstruction grids.
const reconDir = "recon"

// grid is a reconstruction grid copied beside a report.
type grid struct {
	title string
	path  string // relative to the report's directory, with slashes
	width int    // pixels, 0 if unknown
}

// write draws exp's figures, copies its reconstruction grids and writes
// report.md and report.html into its directory under opts.OutDir.
func write(exp *experiment, opts Options) (Result, error) {
	dir := filepath.Join(opts.OutDir, dirName(exp.name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, err
	}
	if err := removeStale(dir); err != nil {
		return Result{}, err
	}
	figs, err := render(dir, figures(exp))
	if err != nil {
		return Result{}, err
	}
	grids, notes, err := copyGrids(exp, dir, opts.StorePath)
	if err != nil {
		return Result{}, err
	}
	logs, err := copyLogs(exp, dir, opts.StorePath)
	if err != nil {
		return Result{}, err
	}
	d := document(exp, figs, grids, notes, logs, opts)
	if opts.SingleFile {
		d.inline = func(path string) string { return dataURI(filepath.Join(dir, filepath.FromSlash(path))) }
	}
	res := Result{
		Experiment: exp.name,
		Dir:        dir,
		Markdown:   filepath.Join(dir, "report.md"),
		HTML:       filepath.Join(dir, "report.html"),
		Runs:       len(exp.runs),
		Missing:    len(exp.missing),
	}
	for _, f := range figs {
		res.Figures = append(res.Figures, f.base)
	}
	for _, g := range grids {
		res.Images = append(res.Images, g.path)
	}
	if err := writeText(res.Markdown, d.markdown); err != nil {
		return Result{}, err
	}
	if err := writeText(res.HTML, d.html); err != nil {
		return Result{}, err
	}
	return res, nil
}

// removeStale deletes the figures and grids an earlier report left, which
// this one may not redraw.
func removeStale(dir string) error {
	var stale []string
	for _, pattern := range []string{"fig-*.png", "fig-*.svg", filepath.Join(reconDir, "*.png"), filepath.Join(logDir, "*.txt")} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return err
		}
		stale = append(stale, m...)
	}
	for _, f := range stale {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	return nil
}

// render draws the figures into dir, several at a time, and returns those
// drawn in order; a chart left without data is skipped.
func render(dir string, figs []figure) ([]figure, error) {
	drawn := make([]bool, len(figs))
	errs := make([]error, len(figs))
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				err := plots.Save(figs[i].chart, filepath.Join(dir, figs[i].base))
				drawn[i] = err == nil
				if err != nil && !errors.Is(err, plots.ErrNoData) {
					errs[i] = fmt.Errorf("figure %s: %w", figs[i].base, err)
				}
			}
		}()
	}
	for i := range figs {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []figure
	for i, f := range figs {
		if drawn[i] {
			out = append(out, f)
		}
	}
	return out, nil
}

// copyGrids copies, for each configuration, the last reconstruction grid
// of its first finished seed whose grid file is found, and notes the
// configurations whose grids are all missing.
func copyGrids(exp *experiment, dir, storePath string) ([]grid, []string, error) {
	var grids []grid
	var notes []string
	used := make(map[string]bool)
	for _, c := range exp.configs {
		var ri, lost *runInfo
		var src string
		for _, r := range c.done {
			if len(r.grids) == 0 {
				continue
			}
			path, ok := resolve(r.grids[len(r.grids)-1], storePath)
			if ok {
				ri, src = r, path
				break
			}
			if lost == nil {
				lost = r
			}
		}
		if ri == nil {
			if lost != nil {
				notes = append(notes, fmt.Sprintf("The reconstruction grid of run %d (%s), %s, was not found "+
					"from the working directory nor from the store's directory.", lost.ID, lost.Name, lost.grids[len(lost.grids)-1]))
			}
			continue
		}
		name := slug(c.label)
		for used[name] {
			name += "_"
		}
		used[name] = true
		rel := reconDir + "/" + name + ".png"
		if err := os.MkdirAll(filepath.Join(dir, reconDir), 0o755); err != nil {
			return nil, nil, err
		}
		if err := copyFile(src, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return nil, nil, fmt.Errorf("reconstruction grid of run %d: %w", ri.ID, err)
		}
		g := grid{title: fmt.Sprintf("%s, seed %d (run %d)", c.label, ri.cfg.Spec.Seed, ri.ID), path: rel}
		if f, err := os.Open(src); err == nil {
			if cfg, err := png.DecodeConfig(f); err == nil {
				g.width = cfg.Width
			}
			f.Close()
		}
		grids = append(grids, g)
	}
	return grids, notes, nil
}

// logDir is the subdirectory of a report holding the logs and full
// error messages of the runs that failed.
const logDir = "logs"

// logPath finds, in a failed run's error, the log the runner named in it
// ("--- last lines of DIR/log.txt ---").
var logPath = regexp.MustCompile(`--- last lines of (.+?) ---`)

// whyShort is the longest error shown in the table of missing runs; the
// rest is in the linked file.
const whyShort = 120

// copyLogs copies, for each missing run whose error does not fit one short
// line, its log beside the report, or writes its whole error message there
// when the log is not found; it returns the files by run id, relative to
// dir.
func copyLogs(exp *experiment, dir, storePath string) (map[int64]link, error) {
	out := make(map[int64]link)
	for _, ri := range exp.missing {
		full := why(ri)
		if short := shorten(full); short == full {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, logDir), 0o755); err != nil {
			return nil, err
		}
		if m := logPath.FindStringSubmatch(ri.Error); m != nil {
			if src, ok := resolve(m[1], storePath); ok {
				rel := fmt.Sprintf("%s/run-%d-log.txt", logDir, ri.ID)
				if err := copyFile(src, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
					return nil, fmt.Errorf("log of run %d: %w", ri.ID, err)
				}
				out[ri.ID] = link{text: "full log", href: rel}
				continue
			}
		}
		rel := fmt.Sprintf("%s/run-%d-error.txt", logDir, ri.ID)
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(full+"\n"), 0o644); err != nil {
			return nil, err
		}
		out[ri.ID] = link{text: "full message", href: rel}
	}
	return out, nil
}

// shorten keeps the first line of an error, cut at whyShort characters.
func shorten(msg string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	line = strings.TrimSpace(line)
	if r := []rune(line); len(r) > whyShort {
		line = strings.TrimSpace(string(r[:whyShort-1])) + "…"
	}
	return line
}

// dataURI is the file at path as a data: URI, for a self-contained page;
// a file that cannot be read gives an empty link.
func dataURI(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	mime := "application/octet-stream"
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		mime = "image/png"
	case ".svg":
		mime = "image/svg+xml"
	case ".txt":
		mime = "text/plain;charset=utf-8"
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

func writeText(path string, render func(*strings.Builder)) error {
	var b strings.Builder
	render(&b)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return nil
}

// document lays out a report as blocks that both writers render.
func document(exp *experiment, figs []figure, grids []grid, notes []string, logs map[int64]link, opts Options) *doc {
	d := &doc{title: "Experiment " + exp.name}
	if exp.description != "" {
		d.para(exp.description)
	}
	d.para(fmt.Sprintf("Generated %s by `harness report` from `%s`. %s",
		opts.Now.UTC().Format("2006-01-02 15:04 UTC"), opts.StorePath, statusLine(exp)))
	if line := versionLine(exp); line != "" {
		d.para(line)
	}
	for _, n := range exp.notes {
		d.para(fmt.Sprintf("Note (%s): %s", n.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), n.Text))
	}
	if line := tagLine(exp); line != "" {
		d.para(line)
	}

	d.heading("Missing runs")
	if len(exp.missing) == 0 {
		d.para("Every run finished.")
	} else {
		d.para(fmt.Sprintf("%s no results and %s left out of the tables and figures:",
			plural(len(exp.missing), "run has", "runs have"), plural1(len(exp.missing), "is", "are")))
		t := table{header: []string{"run", "name", "seed", "status", "why"}, right: []bool{true, false, true}}
		for r, ri := range exp.missing {
			t.rows = append(t.rows, []string{fmt.Sprint(ri.ID), ri.Name, fmt.Sprint(ri.Seed), ri.Status, shorten(why(ri))})
			if l, ok := logs[ri.ID]; ok {
				if t.links == nil {
					t.links = make(map[cell]link)
				}
				t.links[cell{r, 4}] = l
			}
		}
		d.add(t)
	}
	if exp.superseded > 0 {
		d.para(fmt.Sprintf("%s of a configuration and seed that was run again %s left out; the latest run counts.",
			plural(exp.superseded, "earlier run", "earlier runs"), plural1(exp.superseded, "is", "are")))
	}

	d.heading("Configurations")
	d.para("Parameter counts are `model.CountParams` of each configuration's model, exact; the total includes " +
		"the two fixed position tables, as PyTorch counts them. Metrics are final values (each key's last logged " +
		"step), mean ± sample standard deviation over the seeds that finished.")
	d.add(configTable(exp))

	d.heading("CRATE-MAE against MAE")
	d.para(MatchingRule)
	if ps := pairs(exp); len(ps) > 0 {
		d.add(pairTable(exp, ps))
	} else {
		d.para("No CRATE-MAE configuration has an MAE counterpart in this experiment.")
	}

	d.heading("Best configuration per metric")
	if bs := bests(exp); len(bs) > 0 {
		d.para("By the mean over seeds: highest for accuracies, lowest for losses.")
		d.add(bestTable(exp, bs))
	} else {
		d.para("No finished run logged a final metric.")
	}

	if bt, ok := baselineTable(exp); ok {
		d.heading("Baselines")
		d.para("Does pretraining help? The same probes on the raw pixels (flattened, normalised images, computed " +
			"once per run at step 0) and on the untrained encoder (the step-0 evaluation), against the best " +
			"trained configuration of each architecture: mean ± standard deviation over the finished runs.")
		d.add(bt)
	}

	if note := sizesNote(exp); !sizesVary(exp) && note != "" {
		d.heading("Parameter efficiency")
		d.para(note)
	}
	section := ""
	for _, f := range figs {
		if f.section != section {
			section = f.section
			d.heading(section)
		}
		d.add(figBlock{title: f.chart.Title, base: f.base, caption: f.caption})
	}
	if len(figs) == 0 {
		d.heading("Figures")
		d.para("No finished run logged metrics to draw.")
	}

	if len(grids) > 0 || len(notes) > 0 {
		d.heading("Reconstructions")
		d.para("The last reconstruction grid of each configuration's first finished seed, as training wrote it: " +
			"original, masked input, reconstruction, and reconstruction with the visible patches pasted in.")
		if len(grids) > 0 {
			d.add(gallery(grids))
		}
		for _, n := range notes {
			d.para(n)
		}
	}

	if exp.toml != "" {
		d.heading("Experiment file")
		d.add(codeBlock{lang: "toml", text: exp.toml})
	}
	return d
}

// versionLine says which version of the file the report's runs are of,
// and how many runs of other versions it leaves out.
func versionLine(exp *experiment) string {
	if exp.version == 0 {
		return ""
	}
	line := fmt.Sprintf("The runs are those of version %d of the experiment file, shown at the end.", exp.version)
	if exp.otherVersions > 0 {
		line += fmt.Sprintf(" %s of earlier versions %s left out (`harness report --all-versions` draws them).",
			plural(exp.otherVersions, "run", "runs"), plural1(exp.otherVersions, "is", "are"))
	}
	return line
}

// tagLine lists the tagged runs of the report.
func tagLine(exp *experiment) string {
	var parts []string
	for _, ri := range exp.runs {
		if ts := exp.tags[ri.ID]; len(ts) > 0 {
			var s []string
			for _, t := range ts {
				s = append(s, t.String())
			}
			parts = append(parts, fmt.Sprintf("run %d %s: %s", ri.ID, ri.Name, strings.Join(s, ", ")))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Tagged runs: " + strings.Join(parts, "; ") + "."
}

// statusLine counts the runs by status.
func statusLine(exp *experiment) string {
	var parts []string
	for _, s := range []string{store.StatusDone, store.StatusFailed, store.StatusInterrupted, store.StatusRunning, store.StatusPending} {
		if n := exp.statusCount[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(parts) == 0 {
		return "The store holds no runs of this experiment."
	}
	return fmt.Sprintf("%s (%s) in %s.", plural(len(exp.runs), "run", "runs"), strings.Join(parts, ", "),
		plural(len(exp.configs), "configuration", "configurations"))
}

// plural writes n with the singular or plural noun.
func plural(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural1(n, one, many))
}

// plural1 picks the singular or plural word for n.
func plural1(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// why tells why a run has no results.
func why(ri *runInfo) string {
	if ri.cfgErr != nil {
		return ri.cfgErr.Error()
	}
	msg := strings.TrimSpace(ri.Error)
	switch ri.Status {
	case store.StatusRunning:
		if !ri.StartedAt.IsZero() {
			return "still running, started " + ri.StartedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		return "still running"
	case store.StatusPending:
		return "not started"
	case store.StatusDone:
		return "finished"
	}
	if msg == "" {
		return "no error recorded"
	}
	return msg
}

func configTable(exp *experiment) table {
	metrics := presentMetrics(exp)
	t := table{header: []string{"configuration", "architecture", "seeds done", "params total", "encoder", "decoder"}}
	t.right = []bool{false, false, true, true, true, true}
	first := len(t.header)
	for _, k := range metrics {
		t.header = append(t.header, "`"+k+"`")
		t.right = append(t.right, true)
	}
	for _, c := range exp.configs {
		row := []string{c.label, archName(c.arch), fmt.Sprintf("%d of %d", len(c.done), len(c.runs))}
		if c.countsErr == nil {
			row = append(row, numfmt.Thousands(c.counts.Total), numfmt.Thousands(c.counts.Encoder), numfmt.Thousands(c.counts.Decoder))
		} else {
			row = append(row, numfmt.Thousands(c.stored), "—", "—")
		}
		t.rows = append(t.rows, append(row, make([]string, len(metrics))...))
	}
	for i, k := range metrics {
		ss := make([]stat, len(exp.configs))
		for r, c := range exp.configs {
			ss[r] = c.stats[k]
		}
		t.setStats(first+i, ss, false, k)
	}
	return t
}

func pairTable(exp *experiment, ps []pair) table {
	metrics := presentMetrics(exp)
	t := table{header: []string{"axis values", "CRATE-MAE", "MAE", "seeds matched", "params CRATE-MAE", "params MAE", "ratio CRATE-MAE / MAE"}}
	t.right = []bool{false, false, false, true, true, true, true}
	first := len(t.header)
	for _, k := range metrics {
		t.header = append(t.header, "Δ `"+k+"`")
		t.right = append(t.right, true)
	}
	for _, p := range ps {
		setting := p.setting
		if setting == "" {
			setting = "—"
		}
		ratio := "—"
		if p.ratio > 0 {
			ratio = fmt.Sprintf("%.3f", p.ratio)
		}
		row := []string{setting, p.crate.variant, p.mae.variant, fmt.Sprint(len(p.seeds)),
			numfmt.Thousands(p.crate.total()), numfmt.Thousands(p.mae.total()), ratio}
		t.rows = append(t.rows, append(row, make([]string, len(metrics))...))
	}
	for i, k := range metrics {
		ss := make([]stat, len(ps))
		for r, p := range ps {
			ss[r] = p.diffs[k]
		}
		t.setStats(first+i, ss, true, "") // a difference has no best
	}
	return t
}

func bestTable(exp *experiment, bs []best) table {
	as := archs(exp)
	t := table{header: []string{"metric", "better", "best configuration", "value", "seeds"}, right: []bool{false, false, false, true, true}}
	for _, a := range as {
		t.header = append(t.header, "best "+archName(a), archName(a)+" value")
		t.right = append(t.right, false, true)
	}
	cols := make([][]stat, 1+len(as))
	for _, b := range bs {
		st := b.all.stats[b.metric]
		row := []string{"`" + b.metric + "`", direction(b.metric), b.all.label, "", fmt.Sprint(st.n)}
		cols[0] = append(cols[0], st)
		for i, a := range as {
			if c := b.byArch[a]; c != nil {
				row = append(row, c.label, "")
				cols[1+i] = append(cols[1+i], c.stats[b.metric])
			} else {
				row = append(row, "—", "")
				cols[1+i] = append(cols[1+i], stat{})
			}
		}
		t.rows = append(t.rows, row)
	}
	t.setStats(3, cols[0], false, "")
	for i := range as {
		t.setStats(6+2*i, cols[1+i], false, "")
	}
	return t
}

// baselineTable compares the probes on raw pixels and untrained encoders
// with the best trained configurations; ok is false when no run logged a
// baseline.
func baselineTable(exp *experiment) (table, bool) {
	as := archs(exp)
	t := table{header: []string{"metric", "raw pixels"}, right: []bool{false, true}}
	for _, a := range as {
		t.header = append(t.header, "untrained "+archName(a))
		t.right = append(t.right, true)
	}
	for _, a := range as {
		t.header = append(t.header, "best trained "+archName(a))
		t.right = append(t.right, true)
	}
	var rows [][]stat
	for _, k := range []string{keyProbeAcc, keyKNNAcc} {
		px := pixelStat(exp, pixelKey(k))
		row := []stat{px}
		found := px.n > 0
		for _, a := range as {
			st := untrainedStat(exp, k, a)
			found = found || st.n > 0
			row = append(row, st)
		}
		for _, a := range as {
			var b *config
			for _, c := range exp.configs {
				if c.arch == a && c.stats[k].n > 0 && (b == nil || better(k, c.stats[k].mean, b.stats[k].mean)) {
					b = c
				}
			}
			if b == nil {
				row = append(row, stat{})
			} else {
				row = append(row, b.stats[k]) // named in the table of bests
			}
		}
		if found {
			rows = append(rows, row)
			t.rows = append(t.rows, append([]string{"`" + k + "`"}, make([]string, len(row))...))
		}
	}
	for col := range len(t.header) - 1 {
		ss := make([]stat, len(rows))
		for r := range rows {
			ss[r] = rows[r][col]
		}
		t.setStats(1+col, ss, false, "")
	}
	// the best of each row: does pretraining beat the baselines?
	for r, row := range rows {
		bestMean := math.Inf(-1)
		for _, st := range row {
			if st.n > 0 {
				bestMean = math.Max(bestMean, st.mean)
			}
		}
		for col, st := range row {
			if st.n > 0 && st.mean == bestMean {
				t.mark(r, 1+col)
			}
		}
	}
	return t, len(rows) > 0
}

// setStats fills column col of t's rows with ss, one per row, at one
// precision: that of the column's largest value. With a metric key, the
// best mean of the column is marked.
func (t *table) setStats(col int, ss []stat, signed bool, key string) {
	var top float64
	for _, s := range ss {
		if s.n > 0 {
			top = math.Max(top, math.Max(math.Abs(s.mean), s.std))
		}
	}
	dec := decimals(top)
	var best *stat
	for i := range ss {
		t.rows[i][col] = formatStatDec(ss[i], signed, dec)
		if key != "" && ss[i].n > 0 && !math.IsNaN(ss[i].mean) && (best == nil || better(key, ss[i].mean, best.mean)) {
			best = &ss[i]
		}
	}
	if best == nil || len(ss) < 2 {
		return
	}
	for i, s := range ss {
		if s.n > 0 && s.mean == best.mean {
			t.mark(i, col)
		}
	}
}

// mark makes the cell at row r, column c strong.
func (t *table) mark(r, c int) {
	if t.strong == nil {
		t.strong = make(map[cell]bool)
	}
	t.strong[cell{r, c}] = true
}

// formatStat writes mean ± std, with decimals fitting the larger of the
// two; signed shows the sign of the mean. No value is "—".
func formatStat(s stat, signed bool) string {
	return formatStatDec(s, signed, decimals(math.Max(math.Abs(s.mean), s.std)))
}

// formatStatDec writes mean ± std with dec decimals.
func formatStatDec(s stat, signed bool, dec int) string {
	if s.n == 0 {
		return "—"
	}
	verb := "%.*f"
	if signed {
		verb = "%+.*f"
	}
	out := fmt.Sprintf(verb, dec, s.mean)
	if s.n > 1 {
		out += fmt.Sprintf(" ± %.*f", dec, s.std)
	}
	return out
}

// decimals shows about four significant digits of v.
func decimals(v float64) int {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 4
	}
	return max(0, min(8, 3-int(math.Floor(math.Log10(v)))))
}
