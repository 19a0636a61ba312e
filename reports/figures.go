package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"harness/model"
	"harness/plots"
)

// figure is a chart of a report and where it goes.
type figure struct {
	section string // the heading it appears under
	base    string // file name without extension, in the report's directory
	caption string
	chart   plots.Chart
}

// line is a series before it is given its colour.
type line struct {
	series plots.Series
	arch   string
	first  *config // the first configuration on it, for ordering
}

// figures builds every chart of a report.
func figures(exp *experiment) []figure {
	var figs []figure
	figs = append(figs, paramFigures(exp)...)
	for _, a := range exp.axes {
		figs = append(figs, ablationFigures(exp, a)...)
	}
	figs = append(figs, curveFigures(exp)...)
	figs = append(figs, layerFigures(exp)...)
	// file names must differ: keys may slug alike
	used := make(map[string]int)
	for i := range figs {
		used[figs[i].base]++
		if n := used[figs[i].base]; n > 1 {
			figs[i].base += fmt.Sprintf("-%d", n)
		}
	}
	return figs
}

func metricName(key string) string {
	if n, ok := metricNames[key]; ok {
		return n
	}
	return key
}

// slug makes a key safe as part of a file name.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// split deals lines out over charts of at most plots.MaxSeries lines,
// giving each chart's lines their own colour, dash pattern and marker, and
// names the parts.
func split(lines []line, f figure) []figure {
	if len(lines) == 0 {
		return nil
	}
	per := plots.MaxSeries
	parts := (len(lines) + per - 1) / per
	var out []figure
	for p := 0; p < parts; p++ {
		g := f
		chunk := lines[p*per : min(len(lines), (p+1)*per)]
		g.chart.Series = make([]plots.Series, len(chunk))
		for i, l := range chunk {
			// colour and style both: lines that coincide, or print in
			// grey, stay apart
			l.series.Color, l.series.Style = i, i
			g.chart.Series[i] = l.series
		}
		if parts > 1 {
			g.chart.Title += fmt.Sprintf(" (part %d of %d)", p+1, parts)
			g.base += fmt.Sprintf("-part%d", p+1)
		}
		out = append(out, g)
	}
	return out
}

// sortLines orders lines by the axis values of their first configuration
// (leaving out the axes skip accepts), then by architecture and label, so
// that matched CRATE-MAE and MAE lines fall into the same chart.
func sortLines(lines []line, axes []*axisInfo, skip func(*axisInfo) bool) {
	var kept []*axisInfo
	for _, a := range axes {
		if skip == nil || !skip(a) {
			kept = append(kept, a)
		}
	}
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.first.axesLess(b.first, kept) {
			return true
		}
		if b.first.axesLess(a.first, kept) {
			return false
		}
		if ao, bo := archOrder(a.arch), archOrder(b.arch); ao != bo {
			return ao < bo
		}
		return a.series.Label < b.series.Label
	})
}

// paramFigures: final linear-probe accuracy and reconstruction loss
// against the total parameter count, one series per architecture, one
// point per size: the configuration of that architecture and size with
// the best mean over seeds, with error bars over its seeds. Without
// other ablation axes there is one configuration per size.
func paramFigures(exp *experiment) []figure {
	if !sizesVary(exp) {
		return nil
	}
	var figs []figure
	for _, k := range []string{keyProbeAcc, keyReconLoss} {
		type size struct {
			arch  string
			total int64
		}
		bestAt := make(map[size]*config)
		var sizes []size
		for _, c := range exp.configs {
			st := c.stats[k]
			if st.n == 0 || c.total() <= 0 {
				continue
			}
			z := size{c.arch, c.total()}
			b, ok := bestAt[z]
			if !ok {
				sizes = append(sizes, z)
			}
			if !ok || better(k, st.mean, b.stats[k].mean) {
				bestAt[z] = c
			}
		}
		byArch := make(map[string]*line)
		var lines []line
		var chosen []string
		tuned := false
		for _, z := range sizes {
			c := bestAt[z]
			l := byArch[z.arch]
			if l == nil {
				l = &line{series: plots.Series{Label: archName(z.arch), Style: archOrder(z.arch)}, arch: z.arch, first: c}
				byArch[z.arch] = l
			}
			st := c.stats[k]
			l.series.Points = append(l.series.Points, plots.Point{X: float64(z.total), Y: st.mean, Err: st.std})
			chosen = append(chosen, fmt.Sprintf("%s at %s: %s", archName(z.arch), plots.SI(float64(z.total)), c.label))
			for _, d := range exp.configs {
				if d != c && d.arch == c.arch && d.total() == c.total() && d.stats[k].n > 0 {
					tuned = true
				}
			}
		}
		for _, a := range archs(exp) {
			if l := byArch[a]; l != nil {
				sort.SliceStable(l.series.Points, func(i, j int) bool { return l.series.Points[i].X < l.series.Points[j].X })
				lines = append(lines, *l)
			}
		}
		caption := fmt.Sprintf("Final `%s` against the total parameter count (log scale), one series per architecture, "+
			"one point per model size: mean over seeds with error bars of ± one standard deviation.", k)
		if tuned {
			caption += " Where several configurations share an architecture and size, the point is the one with the " +
				"best mean (" + direction(k) + " is better)"
			if len(chosen) <= 8 {
				caption += ": " + strings.Join(chosen, "; ")
			}
			caption += "."
		}
		figs = append(figs, split(lines, figure{
			section: "Parameter efficiency",
			base:    "fig-params-" + slug(strings.TrimPrefix(k, "eval/")),
			caption: caption,
			chart: plots.Chart{
				Title:   "Parameter efficiency: " + metricName(k),
				XLabel:  "parameters (total, log scale)",
				YLabel:  metricName(k) + " (final)",
				LogX:    true,
				Markers: true,
			},
		})...)
	}
	return figs
}

// sizesVary tells whether some architecture was run at more than one
// parameter count, which the parameter-efficiency figures need: with one
// size per architecture they show a lone point each.
func sizesVary(exp *experiment) bool {
	sizes := make(map[string]map[int64]bool)
	for _, c := range exp.configs {
		if len(c.done) == 0 || c.total() <= 0 {
			continue
		}
		if sizes[c.arch] == nil {
			sizes[c.arch] = make(map[int64]bool)
		}
		sizes[c.arch][c.total()] = true
		if len(sizes[c.arch]) > 1 {
			return true
		}
	}
	return false
}

// sizesNote says why a report has no parameter-efficiency figure.
func sizesNote(exp *experiment) string {
	var parts []string
	for _, a := range archs(exp) {
		for _, c := range exp.configs {
			if c.arch == a && len(c.done) > 0 && c.total() > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", archName(a), plots.SI(float64(c.total()))))
				break
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "No parameter-efficiency figure: each architecture was run at one size only (" + strings.Join(parts, ", ") +
		" parameters), which would draw a lone point per architecture. The parameter counts and ratio are in the tables above."
}

// better tells whether metric value x beats y.
func better(key string, x, y float64) bool {
	if higherIsBetter(key) {
		return x > y
	}
	return x < y
}

// direction says which way a metric improves.
func direction(key string) string {
	if higherIsBetter(key) {
		return "higher"
	}
	return "lower"
}

// ablationFigures: the final metrics against the values of axis a, one
// line per variant and setting of the other axes, mean over seeds with
// error bars. When that makes more lines than one chart tells apart, the
// lines are per variant, pooling the other axes' values with the seeds.
func ablationFigures(exp *experiment, a *axisInfo) []figure {
	scale := axisScale(a)
	var figs []figure
	for _, k := range []string{keyProbeAcc, keyKNNAcc, keyReconLoss} {
		lines := ablationLines(exp, a, k, true)
		pooled := len(lines) > plots.MaxSeries
		if pooled {
			lines = ablationLines(exp, a, k, false)
		}
		chart := plots.Chart{
			Title:   fmt.Sprintf("Ablation of %s: %s", a.short, metricName(k)),
			XLabel:  a.key,
			YLabel:  metricName(k) + " (final)",
			Markers: true,
			Dodge:   true,
			HLines:  baselines(exp, k),
		}
		switch scale {
		case scaleCategories:
			chart.Categories = a.values
		case scaleLog:
			chart.LogX = true
			chart.XLabel += " (log scale)"
			fallthrough
		default:
			// ticks at the values run, not at round numbers between them
			for _, v := range a.values {
				chart.Ticks = append(chart.Ticks, plots.Tick{Value: a.num[v], Label: v})
			}
		}
		caption := fmt.Sprintf("Final `%s` against `%s`, one line per variant", k, a.key)
		if len(exp.axes) > 1 && !pooled {
			caption += " and setting of the other axes"
		}
		caption += ": mean over seeds with error bars of ± one standard deviation."
		if len(chart.HLines) > 0 {
			caption += " " + baselineCaption
		}
		switch scale {
		case scaleLog:
			caption += " The values span decades: the axis is logarithmic."
		case scaleCategories:
			if a.numeric {
				caption += " The values span decades and include zero or less: they are evenly spaced categories."
			}
		}
		if pooled {
			caption += " The other axes take too many settings for one chart: each point pools every run of the " +
				"variant at that value, over the other axes' values and the seeds."
		}
		figs = append(figs, split(lines, figure{
			section: "Ablation: " + a.key,
			base:    "fig-ablation-" + slug(a.key) + "-" + slug(strings.TrimPrefix(k, "eval/")),
			caption: caption,
			chart:   chart,
		})...)
	}
	return figs
}

// Axis scales of an ablation figure.
const (
	scaleLinear = iota
	scaleLog
	scaleCategories
)

// axisScale picks how an ablation axis is drawn: numeric values on a
// linear axis, or a logarithmic one when they are positive and span a
// factor of 20 or more (step sizes, learning rates); other values, and
// values spanning decades with zero or negatives among them, as
// categories.
func axisScale(a *axisInfo) int {
	if !a.numeric {
		return scaleCategories
	}
	lo, hi, minPos := math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, x := range a.num {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
		if x > 0 {
			minPos = math.Min(minPos, x)
		}
	}
	switch {
	case lo > 0 && hi/lo >= 20:
		return scaleLog
	case lo <= 0 && hi > 0 && hi/minPos >= 20 && len(a.num) > 2:
		return scaleCategories
	}
	return scaleLinear
}

// ablationLines gathers the final metric k of the finished runs by
// variant (and, with perSetting, setting of the axes other than a) and
// value of a.
func ablationLines(exp *experiment, a *axisInfo, k string, perSetting bool) []line {
	other := func(b *axisInfo) bool { return b == a }
	type acc struct {
		line   *line
		values map[string][]float64 // axis value → run values
	}
	byKey := make(map[string]*acc)
	var order []string
	for _, c := range exp.configs {
		v, ok := c.values[a.key]
		if !ok || c.stats[k].n == 0 {
			continue
		}
		key, label := c.variant, c.variant
		if perSetting {
			if s := c.setting(exp.axes, other); s != "" {
				key += "\x00" + s
				label += ", " + s
			}
		}
		g := byKey[key]
		if g == nil {
			g = &acc{line: &line{series: plots.Series{Label: label, Style: archOrder(c.arch)}, arch: c.arch, first: c},
				values: make(map[string][]float64)}
			byKey[key] = g
			order = append(order, key)
		}
		for _, ri := range c.done {
			if x, ok := ri.final[k]; ok {
				g.values[v] = append(g.values[v], x)
			}
		}
	}
	var lines []line
	for _, key := range order {
		g := byKey[key]
		for _, v := range a.values {
			vs := g.values[v]
			if len(vs) == 0 {
				continue
			}
			x := float64(a.index(v))
			if axisScale(a) != scaleCategories {
				x = a.num[v]
			}
			st := summarize(vs)
			g.line.series.Points = append(g.line.series.Points, plots.Point{X: x, Y: st.mean, Err: st.std})
		}
		lines = append(lines, *g.line)
	}
	if perSetting {
		sortLines(lines, exp.axes, other)
	} else {
		sortLines(lines, nil, nil)
	}
	return lines
}

// curveFigures: train/loss and eval/recon_loss against the step, one line
// per configuration, the mean over seeds with a band of ± one standard
// deviation.
func curveFigures(exp *experiment) []figure {
	var figs []figure
	for _, k := range curveKeys {
		var lines []line
		for _, c := range exp.configs {
			byStep := make(map[int64][]float64)
			for _, ri := range c.done {
				for _, sv := range ri.curves[k] {
					byStep[sv.step] = append(byStep[sv.step], sv.value)
				}
			}
			if len(byStep) == 0 {
				continue
			}
			steps := make([]int64, 0, len(byStep))
			for s := range byStep {
				steps = append(steps, s)
			}
			sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
			pts := make([]plots.Point, len(steps))
			for i, s := range steps {
				st := summarize(byStep[s])
				pts[i] = plots.Point{X: float64(s), Y: st.mean, Err: st.std}
			}
			lines = append(lines, line{
				series: plots.Series{Label: c.label + seedsNote(len(c.done)), Points: pts, Style: archOrder(c.arch)},
				arch:   c.arch, first: c,
			})
		}
		sortLines(lines, exp.axes, nil)
		// markers show where sparse curves, such as evaluations, were measured
		most := 0
		for _, l := range lines {
			most = max(most, len(l.series.Points))
		}
		caption := fmt.Sprintf("`%s` against the training step, one line per configuration: the mean over seeds, "+
			"with a band of ± one standard deviation where there are several.", k)
		hl := baselines(exp, k)
		if len(hl) > 0 {
			caption += " " + baselineCaption
		}
		figs = append(figs, split(lines, figure{
			section: "Training curves",
			base:    "fig-curve-" + slug(strings.ReplaceAll(k, "/", "_")),
			caption: caption,
			chart: plots.Chart{
				Title:   "Training curve: " + metricName(k),
				XLabel:  "step",
				YLabel:  metricName(k),
				Spread:  plots.Band,
				Markers: most <= 20,
				HLines:  hl,
			},
		})...)
	}
	return figs
}

// pixelKey is the key of metric k measured on the raw pixels, logged at
// step 0 (eval/linear_probe_acc_pixels), or "" if there is none.
func pixelKey(k string) string {
	if k == keyProbeAcc || k == keyKNNAcc {
		return k + "_pixels"
	}
	return ""
}

// baselineCaption explains the reference lines of baselines.
const baselineCaption = "The grey reference lines are the baselines pretraining should beat: the same probe on the raw " +
	"pixels (flattened, normalised images) and on each architecture's untrained encoder (the step-0 evaluation), " +
	"the mean over the finished runs."

// baselines are the reference lines of metric k (a probe accuracy): the
// probe on raw pixels and on each architecture's untrained encoder, the
// mean over the finished runs; none for other metrics.
func baselines(exp *experiment, k string) []plots.HLine {
	pk := pixelKey(k)
	if pk == "" {
		return nil
	}
	var out []plots.HLine
	if st := pixelStat(exp, pk); st.n > 0 {
		out = append(out, plots.HLine{Y: st.mean, Label: fmt.Sprintf("raw pixels: %.3f", st.mean)})
	}
	for i, a := range archs(exp) {
		if st := untrainedStat(exp, k, a); st.n > 0 {
			out = append(out, plots.HLine{Y: st.mean, Style: 1 + i,
				Label: fmt.Sprintf("untrained %s: %.3f", archName(a), st.mean)})
		}
	}
	return out
}

// pixelStat summarises the raw-pixel metric pk over the finished runs.
func pixelStat(exp *experiment, pk string) stat {
	var vs []float64
	for _, c := range exp.configs {
		for _, ri := range c.done {
			if v, ok := ri.final[pk]; ok {
				vs = append(vs, v)
			}
		}
	}
	return summarize(vs)
}

// untrainedStat summarises metric k at step 0, before any training, over
// the finished runs of architecture arch.
func untrainedStat(exp *experiment, k, arch string) stat {
	var vs []float64
	for _, c := range exp.configs {
		if c.arch != arch {
			continue
		}
		for _, ri := range c.done {
			if cv := ri.curves[k]; len(cv) > 0 && cv[0].step == 0 {
				vs = append(vs, cv[0].value)
			}
		}
	}
	return summarize(vs)
}

// seedsNote tells how many seeds a line averages.
func seedsNote(n int) string {
	if n == 1 {
		return " (1 seed)"
	}
	return fmt.Sprintf(" (%d seeds)", n)
}

// layerFigures: the final value of each layer-wise quantity against the
// layer index, encoder then decoder, one chart per quantity and encoder
// depth. The lines are per configuration (a variant with its axis values),
// mean over seeds with a band of ± one standard deviation; when there are
// more than one chart tells apart, per variant, pooling the axis values
// with the seeds.
func layerFigures(exp *experiment) []figure {
	var figs []figure
	for _, q := range layerQuantities(exp) {
		lines, depths := layerLines(exp, q, true)
		pooled := false
		for _, ls := range lines {
			pooled = pooled || len(ls) > plots.MaxSeries
		}
		if pooled {
			lines, depths = layerLines(exp, q, false)
		}
		for _, d := range depths {
			title := "Layer-wise " + metricName(q) + " (final)"
			base := "fig-layers-" + slug(q)
			if len(depths) > 1 {
				title += fmt.Sprintf(", %d encoder layers", d.enc)
				base += fmt.Sprintf("-enc%d", d.enc)
			}
			chart := plots.Chart{
				Title:   title,
				XLabel:  "layer (e: encoder, d: decoder)",
				YLabel:  metricName(q),
				Spread:  plots.Band,
				Markers: d.enc+d.dec <= 32,
				Ticks:   layerTicks(d.enc, d.dec),
			}
			if d.enc > 0 && d.dec > 0 {
				chart.VLines = []plots.VLine{{X: float64(d.enc) - 0.5, Label: "decoder"}}
			}
			caption := fmt.Sprintf("Final `layer/enc/<i>/%s` then `layer/dec/<i>/%s` against the layer, one line per "+
				"configuration: the mean over seeds with a band of ± one standard deviation; the dashed line marks "+
				"where the decoder starts.", q, q)
			if pooled {
				caption = fmt.Sprintf("Final `layer/enc/<i>/%s` then `layer/dec/<i>/%s` against the layer, one line per "+
					"variant, pooling its runs over every setting of the ablation axes and the seeds (too many "+
					"configurations for one chart): mean with a band of ± one standard deviation; the dashed line "+
					"marks where the decoder starts.", q, q)
			}
			ls := lines[d.enc]
			switch q {
			case "sparsity":
				ls = crateOnly(ls)
				caption += " " + sparsityNote
			case "hoyer":
				caption += " " + hoyerNote
			}
			figs = append(figs, split(ls, figure{section: "Layer-wise", base: base, caption: caption, chart: chart})...)
		}
	}
	return figs
}

// sparsityNote says why the sparsity figures leave MAE out.
const sparsityNote = "Sparsity is the fraction of exact zeros, drawn for CRATE-MAE only: its ISTA block's " +
	"soft-thresholded ReLU output has true zeros, whereas MAE's MLP activation, GELU, is zero only at 0, so MAE's " +
	"value is 0 at every layer and says nothing about it. Hoyer's measure, in its own figure, compares both."

// hoyerNote says what the Hoyer figures measure.
const hoyerNote = "Hoyer's sparsity of each token's activation (CRATE-MAE: the ISTA block's output; MAE: the MLP's " +
	"GELU activation), (√n − ‖x‖₁/‖x‖₂)/(√n − 1) for n values, averaged over tokens: 1 when one value alone is " +
	"non-zero, 0 when all have the same magnitude, whatever the scale, so it compares both architectures."

// crateOnly keeps the CRATE-MAE lines.
func crateOnly(lines []line) []line {
	var out []line
	for _, l := range lines {
		if l.arch == model.ArchCRATE {
			out = append(out, l)
		}
	}
	return out
}

// depth is the number of encoder and decoder layers of a layer-wise chart.
type depth struct{ enc, dec int }

// layerLines gathers quantity q of every layer of the finished runs, by
// configuration or, without perConfig, by variant; the lines are grouped
// by encoder depth, so that the decoder starts at one place in a chart.
func layerLines(exp *experiment, q string, perConfig bool) (map[int][]line, []depth) {
	type acc struct {
		line *line
		runs []*runInfo
		d    depth
	}
	byKey := make(map[string]*acc)
	var order []string
	for _, c := range exp.configs {
		var d depth
		for _, ri := range c.done {
			for i := range ri.layers["enc/"+q] {
				d.enc = max(d.enc, i+1)
			}
			for i := range ri.layers["dec/"+q] {
				d.dec = max(d.dec, i+1)
			}
		}
		if d.enc+d.dec == 0 {
			continue
		}
		key, label := c.label, c.label
		if !perConfig {
			key, label = c.variant+fmt.Sprintf("\x00%d", d.enc), c.variant
		}
		g := byKey[key]
		if g == nil {
			g = &acc{line: &line{series: plots.Series{Label: label, Style: archOrder(c.arch)}, arch: c.arch, first: c}}
			byKey[key] = g
			order = append(order, key)
		}
		g.runs = append(g.runs, c.done...)
		g.d.enc, g.d.dec = d.enc, max(g.d.dec, d.dec)
	}
	lines := make(map[int][]line)
	decOf := make(map[int]int)
	var encs []int
	for _, key := range order {
		g := byKey[key]
		d := g.d
		for x := 0; x < d.enc+d.dec; x++ {
			part, i := "enc/", x
			if x >= d.enc {
				part, i = "dec/", x-d.enc
			}
			var vs []float64
			for _, ri := range g.runs {
				if v, ok := ri.layers[part+q][i]; ok {
					vs = append(vs, v)
				}
			}
			if len(vs) > 0 {
				st := summarize(vs)
				// the decoder's line starts afresh
				g.line.series.Points = append(g.line.series.Points,
					plots.Point{X: float64(x), Y: st.mean, Err: st.std, Break: x == d.enc})
			}
		}
		if perConfig {
			g.line.series.Label += seedsNote(len(g.runs))
		} else {
			g.line.series.Label += fmt.Sprintf(" (%d runs)", len(g.runs))
		}
		if _, ok := lines[d.enc]; !ok {
			encs = append(encs, d.enc)
		}
		lines[d.enc] = append(lines[d.enc], *g.line)
		decOf[d.enc] = max(decOf[d.enc], d.dec)
	}
	sort.Ints(encs)
	var depths []depth
	for _, e := range encs {
		if perConfig {
			sortLines(lines[e], exp.axes, nil)
		} else {
			sortLines(lines[e], nil, nil)
		}
		depths = append(depths, depth{e, decOf[e]})
	}
	return lines, depths
}

// layerTicks labels the layers e0…, d0…, every other one past 20 layers.
func layerTicks(enc, dec int) []plots.Tick {
	every := 1
	if enc+dec > 20 {
		every = 2
	}
	var ticks []plots.Tick
	for x := 0; x < enc+dec; x++ {
		label := fmt.Sprintf("e%d", x)
		if x >= enc {
			label = fmt.Sprintf("d%d", x-enc)
		}
		if (x < enc && x%every != 0) || (x >= enc && (x-enc)%every != 0) {
			label = ""
		}
		ticks = append(ticks, plots.Tick{Value: float64(x), Label: label})
	}
	return ticks
}

// layerQuantities lists the layer-wise quantities logged, coding rate,
// sparsity and Hoyer's sparsity first.
func layerQuantities(exp *experiment) []string {
	seen := make(map[string]bool)
	for _, c := range exp.configs {
		for _, ri := range c.done {
			for k := range ri.layers {
				seen[k[strings.Index(k, "/")+1:]] = true
			}
		}
	}
	var qs []string
	for _, q := range []string{"coding_rate", "sparsity", "hoyer"} {
		if seen[q] {
			qs = append(qs, q)
			delete(seen, q)
		}
	}
	var rest []string
	for q := range seen {
		rest = append(rest, q)
	}
	sort.Strings(rest)
	return append(qs, rest...)
}
