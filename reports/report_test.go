package reports

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"harness/internal/numfmt"
	"harness/model"
	"harness/store"
)

// generate builds the fixture's store and reports on it, returning the
// single report. $REPORTS_OUT keeps the reports there, to look at.
func generate(t *testing.T, fx fixture) (Result, string) {
	t.Helper()
	return generateWith(t, fx, Options{})
}

// generateWith is generate with more options.
func generateWith(t *testing.T, fx fixture, opts Options) (Result, string) {
	t.Helper()
	dir := t.TempDir()
	db := fx.build(t, dir)
	out := filepath.Join(dir, "reports")
	if d := os.Getenv("REPORTS_OUT"); d != "" {
		out = d
	}
	before := read(t, db)
	s, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	opts.OutDir, opts.StorePath = out, db
	res, err := Generate(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if read(t, db) != before {
		t.Error("generating the report changed the store")
	}
	if len(res) != 1 || res[0].Experiment != fx.name {
		t.Fatalf("reports %+v, want one of %s", res, fx.name)
	}
	return res[0], db
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGenerate(t *testing.T) {
	unfinished := realistic()
	unfinished.name = "unfinished"
	unfinished.extra = []extraRun{
		{variant: 0, values: []any{0.9}, seed: 7, status: store.StatusRunning, steps: 50},
		{variant: 1, values: []any{0.9}, seed: 7, status: store.StatusInterrupted, steps: 30},
		// a configuration with no finished run at all
		{variant: 1, values: []any{0.6}, seed: 0, status: store.StatusFailed, err: "out of memory <alloc 3 GiB> | retry\n  at step 10", steps: 10},
	}
	unfinished.lostGrids = true
	noneFinished := realistic()
	noneFinished.name = "none_finished"
	noneFinished.seeds = nil
	noneFinished.extra = []extraRun{{variant: 0, values: []any{0.5}, seed: 0, status: store.StatusFailed, err: "no dataset at /data/mnist"}}
	noAxes := realistic()
	noAxes.name = "sizes"
	noAxes.axes = nil
	noAxes.variants = append(noAxes.variants, fixtureVariant{"CRATE-MAE-small", smallModel("mae_crate_small")})
	noAxes.extra = nil

	tests := []struct {
		name       string
		fx         fixture
		minFigures int
		missing    []string // names and errors listed as missing
		text       []string // more text the reports must hold
	}{
		{"realistic", realistic(), 4,
			[]string{"MAE/mask_ratio=0.75/seed=2", "failed", "training diverged: train loss is NaN at step 120"},
			[]string{"2 of 3", "Parameter efficiency", "Ablation", "Training curve", "Layer-wise", "mask_ratio=0.9"}},
		{"unfinished", unfinished, 4,
			[]string{"CRATE-MAE/mask_ratio=0.9/seed=7", "still running", "MAE/mask_ratio=0.9/seed=7", "interrupted",
				"MAE/mask_ratio=0.6/seed=0", "out of memory <alloc 3 GiB> | retry"},
			[]string{"0 of 1", "The reconstruction grid of run 1 (CRATE-MAE/mask_ratio=0.5/seed=0), runs/1/recon_step000200.png, was not found"}},
		{"none finished", noneFinished, 0,
			[]string{"CRATE-MAE/mask_ratio=0.5/seed=0", "no dataset at /data/mnist"},
			[]string{"No finished run"}},
		{"variants without axes", noAxes, 4, nil, []string{"CRATE-MAE-small", "Every run finished"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := generate(t, tt.fx)
			// the page as read: <wbr> only allows a line break
			md, page := read(t, res.Markdown), strings.ReplaceAll(read(t, res.HTML), "<wbr>", "")

			if len(res.Figures) < tt.minFigures {
				t.Errorf("%d figures, want at least %d", len(res.Figures), tt.minFigures)
			}
			for _, f := range res.Figures {
				checkFigure(t, filepath.Join(res.Dir, f))
			}
			checkLinks(t, res.Dir, md, page)

			// exact parameter counts of every variant
			for _, v := range tt.fx.usedVariants() {
				n, err := model.CountParams(v.model)
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{numfmt.Thousands(n.Total), numfmt.Thousands(n.Encoder), numfmt.Thousands(n.Decoder)} {
					if !strings.Contains(md, want) || !strings.Contains(page, want) {
						t.Errorf("%s: parameter count %s is not in both reports", v.name, want)
					}
				}
			}
			for _, want := range append(tt.missing, tt.text...) {
				if !strings.Contains(unescapeMD(md), want) {
					t.Errorf("report.md does not mention %q", want)
				}
				if !strings.Contains(page, html.EscapeString(want)) {
					t.Errorf("report.html does not mention %q", want)
				}
			}
			if res.Missing != countMissing(tt.fx) {
				t.Errorf("%d runs missing, want %d", res.Missing, countMissing(tt.fx))
			}
		})
	}
}

func countMissing(fx fixture) int { return len(fx.extra) }

// usedVariants lists the variants that have runs.
func (fx fixture) usedVariants() []fixtureVariant {
	used := make(map[int]bool)
	for i := range fx.variants {
		used[i] = len(fx.seeds) > 0
	}
	for _, e := range fx.extra {
		used[e.variant] = true
	}
	var out []fixtureVariant
	for i, v := range fx.variants {
		if used[i] {
			out = append(out, v)
		}
	}
	return out
}

// checkFigure checks that a figure's PNG decodes and its SVG is an SVG
// with a title.
func checkFigure(t *testing.T, base string) {
	t.Helper()
	b, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Error(err)
		return
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s.png: %v", base, err)
	} else if img.Bounds().Dx() < 600 || img.Bounds().Dy() < 300 {
		t.Errorf("%s.png is only %v", base, img.Bounds())
	}
	svg, err := os.ReadFile(base + ".svg")
	if err != nil {
		t.Error(err)
		return
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("</svg>")) {
		t.Errorf("%s.svg is no SVG", base)
	}
}

var (
	mdLink   = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)\)`)
	htmlLink = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
)

// checkLinks checks that every link of both reports is relative and
// points at a file beside them (or, in HTML, at an anchor).
func checkLinks(t *testing.T, dir, md, page string) {
	t.Helper()
	check := func(report, link string) {
		switch {
		case strings.HasPrefix(link, "#"):
		case strings.Contains(link, ":") || strings.HasPrefix(link, "/"):
			t.Errorf("%s links outside its directory: %s", report, link)
		default:
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(link))); err != nil {
				t.Errorf("%s: broken link %s", report, link)
			}
		}
	}
	for _, m := range mdLink.FindAllStringSubmatch(md, -1) {
		check("report.md", m[1])
	}
	for _, m := range htmlLink.FindAllStringSubmatch(page, -1) {
		check("report.html", m[1])
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("report.html refers to the network")
	}
}

// unescapeMD drops the backslashes of Markdown escapes.
func unescapeMD(s string) string {
	return regexp.MustCompile(`\\(.)`).ReplaceAllString(s, "$1")
}

// The tables hold the parameter ratio and differences of each matched
// pair, and the best configurations.
func TestTables(t *testing.T) {
	res, _ := generate(t, realistic())
	md := unescapeMD(read(t, res.Markdown))
	crate, _ := model.CountParams(smallModel("mae_crate_tiny"))
	vit, _ := model.CountParams(smallModel("mae_vit_base"))
	ratio := float64(crate.Total) / float64(vit.Total)
	for _, want := range []string{
		"| mask_ratio=0.5 | CRATE-MAE | MAE | 2 | " + numfmt.Thousands(crate.Total) + " | " + numfmt.Thousands(vit.Total) + " | " + fmt.Sprintf("%.3f", ratio),
		// the failed third seed of MAE leaves two matched seeds
		"| mask_ratio=0.75 | CRATE-MAE | MAE | 2 |",
		"| `eval/linear_probe_acc` | higher | CRATE-MAE, mask_ratio=0.5 |",
		"| `eval/recon_loss` | lower |",
		"Δ `eval/knn_acc`",
		"recon/crate-mae__mask_ratio_0.5.png",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md has no %q", want)
		}
	}
}

func TestGenerateRefusesUnknownExperiment(t *testing.T) {
	dir := t.TempDir()
	db := realistic().build(t, dir)
	s, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Generate(s, Options{OutDir: filepath.Join(dir, "out"), Experiments: []string{"nope"}})
	if !errors.Is(err, ErrUnknownExperiment) || !strings.Contains(err.Error(), "mask_ratio") {
		t.Errorf("err %v, want ErrUnknownExperiment naming the known ones", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("wrote something for an unknown experiment")
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		s      stat
		signed bool
		want   string
	}{
		{stat{}, false, "—"},
		{stat{mean: 0.81234, n: 1}, false, "0.8123"},
		{stat{mean: 0.81234, std: 0.0042, n: 2}, false, "0.8123 ± 0.0042"},
		{stat{mean: 2.5, std: 0.25, n: 3}, false, "2.500 ± 0.250"},
		{stat{mean: -0.0123, std: 0.004, n: 2}, true, "-0.01230 ± 0.00400"},
		{stat{mean: 0.05, std: 0.1, n: 2}, true, "+0.0500 ± 0.1000"},
	}
	for _, tt := range tests {
		if got := formatStat(tt.s, tt.signed); got != tt.want {
			t.Errorf("formatStat(%+v, %v) = %q, want %q", tt.s, tt.signed, got, tt.want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 44638464: "44,638,464", -1234567: "-1,234,567"} {
		if got := numfmt.Thousands(n); got != want {
			t.Errorf("numfmt.Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestBreakable(t *testing.T) {
	for in, want := range map[string]string{
		"`eval/knn_acc`":      "<code>eval/<wbr>knn_<wbr>acc</code>",
		"Δ `train/loss` a<b/": "Δ <code>train/<wbr>loss</code> a&lt;b/<wbr>",
		"seeds done":          "seeds done",
	} {
		if got := breakable(in); got != want {
			t.Errorf("breakable(%q) = %q, want %q", in, got, want)
		}
	}
}
