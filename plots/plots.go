// Package plots draws the figures of the experiment reports with
// gonum.org/v1/plot. It works on plain data, a [Chart] of [Series] of
// [Point]s, and knows nothing of the store: package reports aggregates the
// runs and hands the charts here.
//
// Every chart is a line chart with a title, labelled axes and a legend,
// drawn below the plot, in two columns where it has many entries, so that
// it never hides a line and the figure keeps its width when shown two to a
// row. A
// point's spread (Point.Err, such as the standard deviation over seeds) is
// drawn as an error bar or as a shaded band around the line. The x axis is
// linear, logarithmic (LogX) or categorical (Categories). [Save] writes a
// chart as PNG and SVG.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Point is one value of a series: Y at X, with spread Err drawn as
// Y ± Err (0 draws none).
type Point struct {
	X, Y, Err float64
	// Break leaves the point unjoined to the one before, as where the
	// decoder's layers follow the encoder's.
	Break bool
}

// Series is one line of a chart.
type Series struct {
	Label  string  // legend entry
	Points []Point // joined in this order
	// Color picks the line's colour from a palette of ten; series of one
	// chart should use different colours.
	Color int
	// Style picks the dash pattern and marker shape: series of the same
	// style share both. Series of one chart should use different styles
	// too, so that they stay apart where they overlap and in grey print:
	// styles 0 to MaxSeries-1 all differ in their dashes, and 0 to 7 in
	// their markers.
	Style int
}

// HLine is a labelled horizontal reference line across the data area,
// such as a baseline's accuracy; its label goes in the legend.
type HLine struct {
	Y     float64
	Label string
	// Style picks its grey and dash pattern from a few reserved for
	// reference lines, unlike any series' line.
	Style int
}

// Spread says how a chart draws its points' spreads.
type Spread int

// Spread kinds.
const (
	ErrorBars Spread = iota // a vertical bar with caps at every point
	Band                    // a shaded band around the line (error bars for lone points)
)

// Tick is a labelled position on the x axis.
type Tick struct {
	Value float64
	Label string
}

// VLine is a labelled vertical line across the data area, such as the
// start of the decoder in a layer-wise chart.
type VLine struct {
	X     float64
	Label string
}

// Chart is a line chart.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Spread                Spread
	// Markers draws a marker at every point; a series of one point always
	// has one.
	Markers bool
	// LogX makes the x axis logarithmic, labelled 1-2-5 with SI suffixes
	// (10k, 2M, 5B); points with X <= 0 are left out.
	LogX bool
	// Categories, when set, makes the x axis categorical: Point.X is an
	// index into Categories.
	Categories []string
	// Ticks, when set, replaces the x axis ticks of a linear or
	// logarithmic axis, as to mark only the values an ablation ran.
	Ticks []Tick
	// Dodge shifts the series sideways a little, so that error bars at the
	// same x do not hide each other.
	Dodge bool
	// VLines are drawn across the data area.
	VLines []VLine
	// HLines are drawn across the data area, and listed in the legend
	// after the series.
	HLines []HLine
}

// Figure size: the data area and axes, below which the legend's height is
// added.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4.2 * vg.Inch
	legendGap  = 3 * vg.Millimeter
)

// ErrNoData is returned for a chart with no point to draw.
var ErrNoData = errors.New("plots: no data to draw")

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// palette is Tableau's ten colours: distinct, and readable on white.
var palette = []color.Color{
	rgb(0x1f, 0x77, 0xb4), rgb(0xff, 0x7f, 0x0e), rgb(0x2c, 0xa0, 0x2c), rgb(0xd6, 0x27, 0x28),
	rgb(0x94, 0x67, 0xbd), rgb(0x8c, 0x56, 0x4b), rgb(0xe3, 0x77, 0xc2), rgb(0x7f, 0x7f, 0x7f),
	rgb(0xbc, 0xbd, 0x22), rgb(0x17, 0xbe, 0xcf),
}

// MaxSeries is the number of series a chart tells apart by colour alone;
// callers split larger sets over several charts.
var MaxSeries = len(palette)

// dashes are the series' dash patterns, one per series a chart tells
// apart: solid, dashed, dotted, then mixtures.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2)},
	{vg.Points(10), vg.Points(3)},
	{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2), vg.Points(1.5), vg.Points(2)},
	{vg.Points(3), vg.Points(3)},
	{vg.Points(10), vg.Points(3), vg.Points(3), vg.Points(3)},
	{vg.Points(1.5), vg.Points(5)},
	{vg.Points(10), vg.Points(2), vg.Points(1.5), vg.Points(2), vg.Points(1.5), vg.Points(2)},
}

// shapes are the series' marker shapes.
var shapes = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{},
	draw.RingGlyph{}, draw.SquareGlyph{}, draw.PlusGlyph{}, draw.TriangleGlyph{},
}

// refStyles are the reference lines' colours and dash patterns: greys,
// unlike the palette, and dashes unlike the series' first ones.
var refStyles = []draw.LineStyle{
	{Color: color.Gray{Y: 0x30}, Width: vg.Points(1.3), Dashes: []vg.Length{vg.Points(1), vg.Points(2.5)}},
	{Color: color.Gray{Y: 0x70}, Width: vg.Points(1.3), Dashes: []vg.Length{vg.Points(8), vg.Points(2), vg.Points(1), vg.Points(2)}},
	{Color: color.Gray{Y: 0x50}, Width: vg.Points(1.3), Dashes: []vg.Length{vg.Points(4), vg.Points(4)}},
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 0xff} }

func pick[T any](list []T, i int) T {
	n := len(list)
	return list[((i%n)+n)%n]
}

// tracked is a plot that remembers what was added to it, which gonum's
// does not tell.
type tracked struct {
	*plot.Plot
	items []plot.Plotter
}

// Add implements the method of plot.Plot, remembering ps.
func (t *tracked) Add(ps ...plot.Plotter) {
	t.Plot.Add(ps...)
	t.items = append(t.items, ps...)
}

// figure is a chart laid out for drawing: the plot and its legend.
type figure struct {
	plot    *plot.Plot
	items   []plot.Plotter // what the plot draws, in order
	legends []plot.Legend  // the legend's columns, left to right
	labels  []string       // the legend's entries, in order
	width   vg.Length      // of the whole figure, legend included
	height  vg.Length
}

// entry is a legend entry.
type entry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// layout builds the gonum plot of c.
func layout(c Chart) (*figure, error) {
	series, err := clean(c)
	if err != nil {
		return nil, err
	}
	p := &tracked{Plot: plot.New()}
	p.Title.Text = c.Title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 9)
		a.Tick.Marker = niceTicks{}
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 0xe0}
	grid.Horizontal.Color = color.Gray{Y: 0xe0}
	p.Add(grid)

	var entries []entry

	var labels []string
	same := sameAs(series)
	for i, s := range series {
		if j, ok := same[i]; ok && j < i {
			s.Label += " (same values as " + series[j].Label + ")"
		}
		tw := twin{}
		if first, ok := same[i]; ok {
			for k := range series {
				if f, ok := same[k]; ok && f == first {
					if k < i {
						tw.rank++
					}
					tw.of++
				}
			}
		}
		thumbs, err := addSeries(p, c, s, dodge(c, series, i), tw)
		if err != nil {
			return nil, fmt.Errorf("plots: %q: series %q: %w", c.Title, s.Label, err)
		}
		entries = append(entries, entry{s.Label, thumbs})
		labels = append(labels, s.Label)
	}
	for _, v := range c.VLines {
		p.Add(vline{VLine: v})
	}
	for _, h := range c.HLines {
		if !finite(h.Y) {
			continue
		}
		l := hline{HLine: h}
		p.Add(l)
		entries = append(entries, entry{h.Label, []plot.Thumbnailer{l}})
		labels = append(labels, h.Label)
	}
	setXAxis(p.Plot, c, series)
	padY(p.Plot)

	legends := legendColumns(entries)
	h := plotHeight
	if len(legends) > 0 {
		var tallest vg.Length
		for _, l := range legends {
			tallest = max(tallest, l.Rectangle(draw.Canvas{}).Size().Y)
		}
		h += tallest + legendGap
	}
	return &figure{plot: p.Plot, items: p.items, legends: legends, labels: labels, width: plotWidth, height: h}, nil
}

// legendColumns lays the entries out in one column, or two when there are
// more than three and each half fits half the figure's width.
func legendColumns(entries []entry) []plot.Legend {
	if len(entries) == 0 {
		return nil
	}
	column := func(es []entry) plot.Legend {
		l := plot.NewLegend()
		l.TextStyle.Font = font.From(sans, 10)
		l.Top, l.Left = true, true
		l.ThumbnailWidth = vg.Points(24)
		l.Padding = vg.Points(2)
		for _, e := range es {
			l.Add(e.label, e.thumbs...)
		}
		return l
	}
	if len(entries) > 3 {
		half := (len(entries) + 1) / 2
		cols := []plot.Legend{column(entries[:half]), column(entries[half:])}
		fits := true
		for _, l := range cols {
			fits = fits && l.Rectangle(draw.Canvas{}).Size().X <= plotWidth/2-3*legendGap
		}
		if fits {
			return cols
		}
	}
	return []plot.Legend{column(entries)}
}

// clean drops points that cannot be drawn (non-finite values, and x <= 0
// on a log axis) and series left empty; it fails if nothing is left.
func clean(c Chart) ([]Series, error) {
	var out []Series
	for _, s := range c.Series {
		var pts []Point
		brk := false
		for _, p := range s.Points {
			if !finite(p.X) || !finite(p.Y) || (c.LogX && p.X <= 0) {
				brk = brk || p.Break
				continue
			}
			p.Break = p.Break || brk
			brk = false
			if !finite(p.Err) || p.Err < 0 {
				p.Err = 0
			}
			pts = append(pts, p)
		}
		if len(pts) > 0 {
			s.Points = pts
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w in %q", ErrNoData, c.Title)
	}
	return out, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// twin places a series among those of the same points: rank of of them;
// of is 0 for a series with no twin.
type twin struct{ rank, of int }

// sameAs finds the series whose points all equal another's, which would
// hide one another: it maps each such series to the first of its kind.
func sameAs(series []Series) map[int]int {
	out := make(map[int]int)
	for i := range series {
		for j := 0; j < i; j++ {
			if _, ok := out[j]; (ok && out[j] != j) || !samePoints(series[i].Points, series[j].Points) {
				continue
			}
			out[i], out[j] = j, j
			break
		}
	}
	return out
}

// samePoints tells whether a and b are the same points, up to rounding.
func samePoints(a, b []Point) bool {
	if len(a) != len(b) {
		return false
	}
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y))) }
	for i := range a {
		if !near(a[i].X, b[i].X) || !near(a[i].Y, b[i].Y) || !near(a[i].Err, b[i].Err) {
			return false
		}
	}
	return true
}

// dodge returns the function shifting the x values of series i of n.
func dodge(c Chart, series []Series, i int) func(float64) float64 {
	n := len(series)
	if !c.Dodge || n < 2 {
		return func(x float64) float64 { return x }
	}
	// spread the series over 30% of the smallest gap between x values,
	// and over no more than 4% of the x range
	var xs []float64
	for _, s := range series {
		for _, p := range s.Points {
			x := p.X
			if c.LogX {
				x = math.Log10(x)
			}
			xs = append(xs, x)
		}
	}
	gap := 1.0
	if len(c.Categories) == 0 {
		sort.Float64s(xs)
		gap = math.Inf(1)
		for j := 1; j < len(xs); j++ {
			if d := xs[j] - xs[j-1]; d > 1e-12 && d < gap {
				gap = d
			}
		}
		if math.IsInf(gap, 1) {
			gap = 0.2 // one x value: a small shift either side
			if !c.LogX {
				gap = math.Max(math.Abs(xs[0])*0.2, 0.2)
			}
		}
	}
	step := 0.3 * gap / float64(n)
	if len(c.Categories) == 0 {
		if span := xs[len(xs)-1] - xs[0]; span > 0 {
			step = math.Min(step, 0.04*span/float64(n-1))
		}
	}
	off := (float64(i) - float64(n-1)/2) * step
	if c.LogX {
		return func(x float64) float64 { return x * math.Pow(10, off) }
	}
	return func(x float64) float64 { return x + off }
}

// addSeries adds the lines, bands, markers and error bars of s to p and
// returns its legend thumbnails. A twin, a series with the same points as
// others, always has markers, every tw.of-th point from its rank, so that
// each twin's marker shows at its own points along the shared line.
func addSeries(p *tracked, c Chart, s Series, shift func(float64) float64, tw twin) ([]plot.Thumbnailer, error) {
	col := pick(palette, s.Color)
	n := len(s.Points)
	xys := make(plotter.XYs, n)
	errs := make(plotter.YErrors, n)
	spread := false
	var starts []int // where each joined segment starts
	for i, pt := range s.Points {
		xys[i] = plotter.XY{X: shift(pt.X), Y: pt.Y}
		errs[i].Low, errs[i].High = pt.Err, pt.Err
		spread = spread || pt.Err > 0
		if i == 0 || pt.Break {
			starts = append(starts, i)
		}
	}
	starts = append(starts, n)
	var thumbs []plot.Thumbnailer
	band := c.Spread == Band
	markers := c.Markers || tw.of > 0
	for k := 0; k+1 < len(starts); k++ {
		lo, hi := starts[k], starts[k+1]
		if hi-lo < 2 {
			markers = true // a lone point shows only as a marker
			continue
		}
		if band && spread {
			poly, err := bandPolygon(xys[lo:hi], errs[lo:hi])
			if err != nil {
				return nil, err
			}
			fill := color.NRGBAModel.Convert(col).(color.NRGBA)
			fill.A = 0x38
			poly.Color = fill
			poly.LineStyle.Width = 0
			p.Add(poly)
			if k == 0 {
				thumbs = append(thumbs, poly)
			}
		}
		line, err := plotter.NewLine(xys[lo:hi])
		if err != nil {
			return nil, err
		}
		line.Color = col
		line.Width = vg.Points(1.6)
		line.Dashes = pick(dashes, s.Style)
		p.Add(line)
		if len(thumbs) == 0 || k == 0 {
			thumbs = append(thumbs, line)
		}
	}
	if markers {
		at := xys
		if tw.of > 1 {
			at = nil
			for i := tw.rank; i < n; i += tw.of {
				at = append(at, xys[i])
			}
			if len(at) == 0 {
				at = xys
			}
		}
		sc, err := plotter.NewScatter(at)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3), Shape: pick(shapes, s.Style)}
		p.Add(sc)
		thumbs = append(thumbs, sc)
	}
	// error bars unless a band shows the spread; lone points have no band
	var bars plotter.XYs
	var barErrs plotter.YErrors
	for k := 0; k+1 < len(starts); k++ {
		lo, hi := starts[k], starts[k+1]
		if !band || hi-lo < 2 {
			bars = append(bars, xys[lo:hi]...)
			barErrs = append(barErrs, errs[lo:hi]...)
		}
	}
	if spread && len(bars) > 0 {
		eb, err := plotter.NewYErrorBars(errorPoints{bars, barErrs})
		if err != nil {
			return nil, err
		}
		eb.Color = col
		eb.Width = vg.Points(1.2)
		p.Add(eb)
	}
	return thumbs, nil
}

// errorPoints pairs points with their errors for plotter.NewYErrorBars.
type errorPoints struct {
	plotter.XYs
	plotter.YErrors
}

// bandPolygon is the area between y - err and y + err along xys.
func bandPolygon(xys plotter.XYs, errs plotter.YErrors) (*plotter.Polygon, error) {
	n := len(xys)
	ring := make(plotter.XYs, 0, 2*n)
	for i := range xys {
		ring = append(ring, plotter.XY{X: xys[i].X, Y: xys[i].Y + errs[i].High})
	}
	for i := n - 1; i >= 0; i-- {
		ring = append(ring, plotter.XY{X: xys[i].X, Y: xys[i].Y - errs[i].Low})
	}
	return plotter.NewPolygon(ring)
}

// setXAxis sets the range, scale and ticks of the x axis.
func setXAxis(p *plot.Plot, c Chart, series []Series) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, pt := range s.Points {
			lo, hi = math.Min(lo, pt.X), math.Max(hi, pt.X)
		}
	}
	if len(c.Categories) > 0 {
		ticks := make(plot.ConstantTicks, len(c.Categories))
		for i, name := range c.Categories {
			ticks[i] = plot.Tick{Value: float64(i), Label: name}
		}
		p.X.Tick.Marker = ticks
		p.X.Min, p.X.Max = -0.5, float64(len(c.Categories))-0.5
		return
	}
	if c.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = siLogTicks{}
		// a quarter of a decade either side, and at least a factor 2 in all
		p.X.Min, p.X.Max = lo/math.Pow(10, 0.25), hi*math.Pow(10, 0.25)
		if p.X.Max/p.X.Min < 4 {
			p.X.Min, p.X.Max = lo/2, hi*2
		}
	} else {
		pad := (hi - lo) * 0.04
		if pad == 0 {
			pad = math.Max(math.Abs(lo)*0.1, 0.5)
		}
		p.X.Min, p.X.Max = lo-pad, hi+pad
	}
	if len(c.Ticks) > 0 {
		ticks := make(plot.ConstantTicks, len(c.Ticks))
		for i, t := range c.Ticks {
			ticks[i] = plot.Tick{Value: t.Value, Label: t.Label}
		}
		p.X.Tick.Marker = ticks
	}
}

// padY leaves 6% of the y range free above and below the data.
func padY(p *plot.Plot) {
	lo, hi := p.Y.Min, p.Y.Max
	if !finite(lo) || !finite(hi) {
		return
	}
	pad := (hi - lo) * 0.06
	if pad == 0 {
		pad = math.Max(math.Abs(lo)*0.05, 0.05)
	}
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
}

// niceTicks labels a linear axis at about six round values (multiples of
// 1, 2, 2.5 or 5 times a power of ten), with a minor tick between each.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: fmt.Sprintf("%g", lo)}}
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	// enough decimals to tell neighbouring labels apart
	prec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if step/math.Pow(10, -float64(prec)) != math.Trunc(step/math.Pow(10, -float64(prec))) {
		prec++
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / step * 2); i*step/2 <= hi; i++ {
		v := i * step / 2
		t := plot.Tick{Value: v}
		if int64(i)%2 == 0 {
			if math.Abs(v) < step*1e-9 {
				v = 0
			}
			t.Label = strconv.FormatFloat(v, 'f', prec, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// siLogTicks labels a log axis at 1, 2 and 5 times powers of ten with SI
// suffixes, with minor ticks between; when the range holds fewer than two
// such labels, every integer multiple is labelled.
type siLogTicks struct{}

// Ticks implements plot.Ticker.
func (siLogTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	labelled := 0
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1; m < 10; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = SI(v)
				labelled++
			}
			ticks = append(ticks, t)
		}
	}
	if labelled < 2 {
		for i := range ticks {
			ticks[i].Label = SI(ticks[i].Value)
		}
	}
	return ticks
}

// SI formats a count with an SI suffix and up to three significant
// digits: 950, 12k, 1.5M, 2.25B.
func SI(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= u.div {
			return fmt.Sprintf("%.3g%s", v/u.div, u.suffix)
		}
	}
	return fmt.Sprintf("%.3g", v)
}

// vline draws a VLine across the data area with its label at the top.
type vline struct{ VLine }

// Plot implements plot.Plotter.
func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.X)
	style := draw.LineStyle{Color: color.Gray{Y: 0x40}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	c.StrokeLine2(style, x, c.Min.Y, x, c.Max.Y)
	if v.Label != "" {
		sty := text.Style{Color: color.Gray{Y: 0x20}, Font: font.From(sans, 9), Handler: p.TextHandler, YAlign: draw.YTop}
		c.FillText(sty, vg.Point{X: x + vg.Points(3), Y: c.Max.Y - vg.Points(2)}, v.Label)
	}
}

// DataRange implements plot.DataRanger, keeping the line in the x range.
func (v vline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return v.X, v.X, math.Inf(1), math.Inf(-1)
}

// hline draws an HLine across the data area.
type hline struct{ HLine }

func (h hline) style() draw.LineStyle { return pick(refStyles, h.Style) }

// Plot implements plot.Plotter.
func (h hline) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(h.Y)
	c.StrokeLine2(h.style(), c.Min.X, y, c.Max.X, y)
}

// DataRange implements plot.DataRanger, keeping the line in the y range.
func (h hline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), h.Y, h.Y
}

// Thumbnail implements plot.Thumbnailer.
func (h hline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(h.style(), c.Min.X, y, c.Max.X, y)
}

// draw draws f on dc: the plot on top, the legend below it, its columns
// starting near the left edge and at the middle.
func (f *figure) draw(dc draw.Canvas) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	legendH := f.height - plotHeight
	pc := draw.Crop(dc, 0, 0, legendH, 0)
	f.plot.Draw(pc)
	if len(f.legends) == 0 {
		return
	}
	for i, l := range f.legends {
		x := 2 * legendGap
		if i > 0 {
			x = f.width / 2
		}
		lc := draw.Crop(dc, x, 0, 0, -(plotHeight + legendGap/2))
		l.Draw(lc)
	}
}
