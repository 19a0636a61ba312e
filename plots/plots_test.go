package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// outDir is where the test figures go: a temporary directory, or
// $PLOTS_OUT to look at them.
func outDir(t *testing.T) string {
	if d := os.Getenv("PLOTS_OUT"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func curve(n int, step float64, f func(float64) float64, err float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		x := float64(i) * step
		pts[i] = Point{X: x, Y: f(x), Err: err}
	}
	return pts
}

// withBreak starts a new line at point i.
func withBreak(pts []Point, i int) []Point {
	pts[i].Break = true
	return pts
}

func TestSave(t *testing.T) {
	dir := outDir(t)
	tests := []struct {
		name  string
		chart Chart
	}{
		{"log_errorbars", Chart{
			Title: "Parameter efficiency: linear probe", XLabel: "parameters (total)", YLabel: "linear-probe accuracy",
			LogX: true, Markers: true, Dodge: true,
			Series: []Series{
				{Label: "CRATE-MAE", Points: []Point{{X: 5.6e6, Y: 0.61, Err: 0.01}, {X: 22e6, Y: 0.66, Err: 0.02}, {X: 44.6e6, Y: 0.70, Err: 0.01}}},
				{Label: "MAE", Color: 1, Style: 1, Points: []Point{{X: 143.8e6, Y: 0.68, Err: 0.015}, {X: 329e6, Y: 0.72}}},
			},
		}},
		{"single_size", Chart{
			Title: "One size per architecture", XLabel: "parameters", YLabel: "loss", LogX: true,
			Series: []Series{{Label: "CRATE-MAE", Points: []Point{{X: 1.2e6, Y: 0.3, Err: 0.05}}}},
		}},
		{"numeric_axis", Chart{
			Title: "Ablation: mask ratio", XLabel: "train.mask_ratio", YLabel: "reconstruction loss",
			Markers: true, Dodge: true,
			Series: []Series{
				{Label: "CRATE-MAE", Points: []Point{{X: 0.5, Y: 0.2, Err: 0.01}, {X: 0.75, Y: 0.25, Err: 0.02}, {X: 0.9, Y: 0.4, Err: 0.03}}},
				{Label: "MAE", Color: 1, Style: 1, Points: []Point{{X: 0.5, Y: 0.18, Err: 0.01}, {X: 0.75, Y: 0.22}, {X: 0.9, Y: 0.35, Err: 0.02}}},
			},
		}},
		{"categories", Chart{
			Title: "Ablation: masking", XLabel: "model.masking", YLabel: "k-NN accuracy",
			Categories: []string{"released", "visible"}, Markers: true, Dodge: true,
			Series: []Series{
				{Label: "CRATE-MAE", Points: []Point{{X: 0, Y: 0.5, Err: 0.1}, {X: 1, Y: 0.55, Err: 0.05}}},
				{Label: "MAE", Color: 1, Style: 1, Points: []Point{{X: 0, Y: 0.45, Err: 0.1}, {X: 1, Y: 0.6}}},
			},
		}},
		{"band_vline", Chart{
			Title: "Layer-wise coding rate", XLabel: "layer", YLabel: "coding rate", Spread: Band, Markers: true,
			Ticks:  []Tick{{0, "e0"}, {1, "e1"}, {2, "d0"}, {3, "d1"}},
			VLines: []VLine{{X: 1.5, Label: "decoder"}},
			Series: []Series{
				{Label: "CRATE-MAE, mask_ratio=0.75", Points: withBreak(curve(4, 1, func(x float64) float64 { return 10 - x/10 }, 0.3), 2)},
				{Label: "MAE, mask_ratio=0.75", Color: 1, Style: 1, Points: curve(4, 1, func(x float64) float64 { return 9 - x/20 }, 0)},
			},
		}},
		{"drops_nonfinite", Chart{
			Title: "Training loss", XLabel: "step", YLabel: "train/loss", Spread: Band,
			Series: []Series{
				{Label: "run", Points: []Point{{X: 0, Y: 1, Err: 0.1}, {X: 10, Y: math.Inf(1)}, {X: 20, Y: 0.5, Err: math.NaN()}, {X: 30, Y: 0.4, Err: 0.05}}},
				{Label: "empty", Points: []Point{{X: 0, Y: math.NaN()}}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := filepath.Join(dir, tt.name)
			if err := Save(tt.chart, base); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(base + ".png")
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("png: %v", err)
			}
			if r := img.Bounds(); r.Dx() < 7*DPI || r.Dy() < 4*DPI {
				t.Errorf("png is %v, want at least 7×4 inches at %d dpi", r, DPI)
			}
			svg, err := os.ReadFile(base + ".svg")
			if err != nil {
				t.Fatal(err)
			}
			s := string(svg)
			if !strings.Contains(s, "<svg") || !strings.Contains(s, "</svg>") {
				t.Fatal("svg: no <svg> element")
			}
			// title, axis labels and legend entries are all drawn as text
			want := []string{tt.chart.Title, tt.chart.XLabel, tt.chart.YLabel}
			for _, se := range tt.chart.Series {
				if se.Label != "empty" {
					want = append(want, se.Label)
				}
			}
			for _, w := range want {
				if !strings.Contains(s, xmlEscape(w)) {
					t.Errorf("svg has no text %q", w)
				}
			}
		})
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSaveRefusesEmptyCharts(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		chart Chart
	}{
		{"no series", Chart{Title: "nothing"}},
		{"only NaN", Chart{Title: "nan", Series: []Series{{Label: "a", Points: []Point{{X: 0, Y: math.NaN()}}}}}},
		{"log of zero", Chart{Title: "log", LogX: true, Series: []Series{{Label: "a", Points: []Point{{X: 0, Y: 1}}}}}},
	}
	for _, tt := range tests {
		err := Save(tt.chart, filepath.Join(dir, "x"))
		if !errors.Is(err, ErrNoData) {
			t.Errorf("%s: err %v, want ErrNoData", tt.name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.png")); err == nil {
		t.Error("an empty chart was written")
	}
}

func TestSI(t *testing.T) {
	for v, want := range map[float64]string{
		950: "950", 12000: "12k", 1.5e6: "1.5M", 44638464: "44.6M", 2.25e9: "2.25B", 1e6: "1M",
	} {
		if got := SI(v); got != want {
			t.Errorf("SI(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{0.17, 0.43, []string{"0.20", "0.25", "0.30", "0.35", "0.40"}},
		{0, 1000, []string{"0", "200", "400", "600", "800", "1000"}},
		{-1, 1, []string{"-1.0", "-0.5", "0.0", "0.5", "1.0"}},
		{8.8, 10.3, []string{"9.00", "9.25", "9.50", "9.75", "10.00", "10.25"}},
	}
	for _, tt := range tests {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(tt.lo, tt.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("ticks of [%g, %g]: %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

// seriesStyles reads back, by colour, each series' dash pattern and marker
// shape from the plot's plotters.
func seriesStyles(t *testing.T, f *figure) (dash map[color.Color]string, shape map[color.Color]string) {
	t.Helper()
	dash, shape = make(map[color.Color]string), make(map[color.Color]string)
	for _, pl := range f.items {
		switch x := pl.(type) {
		case *plotter.Line:
			dash[x.Color] = fmt.Sprint(x.Dashes)
		case *plotter.Scatter:
			shape[x.GlyphStyle.Color] = fmt.Sprintf("%T", x.GlyphStyle.Shape)
		}
	}
	return dash, shape
}

// Every series of a chart has its own dash pattern and marker, and series
// with the same points, which would hide each other, are named as such in
// the legend and drawn with markers.
func TestSeriesStaysDistinguishable(t *testing.T) {
	var series []Series
	for i := range MaxSeries {
		series = append(series, Series{
			Label: fmt.Sprintf("s%d", i), Color: i, Style: i,
			Points: curve(5, 10, func(x float64) float64 { return float64(i) + x/100 }, 0),
		})
	}
	// MAE heads=1 and heads=4: the same numbers
	series[3].Points = curve(5, 10, func(x float64) float64 { return 1 + x/100 }, 0)
	f, err := layout(Chart{Title: "t", Series: series, Spread: Band})
	if err != nil {
		t.Fatal(err)
	}
	dash, shape := seriesStyles(t, f)
	seen := make(map[string]int)
	for i := range MaxSeries {
		d, ok := dash[pick(palette, i)]
		if !ok {
			t.Fatalf("series %d has no line", i)
		}
		if j, dup := seen[d]; dup {
			t.Errorf("series %d and %d share the dashes %s", j, i, d)
		}
		seen[d] = i
	}
	// markers only where the lines coincide
	if len(shape) != 2 || shape[palette[1]] == "" || shape[palette[3]] == "" || shape[palette[1]] == shape[palette[3]] {
		t.Errorf("marker shapes %v, want two different ones on series 1 and 3", shape)
	}
	// each twin's markers at its own points of the shared line
	at := map[color.Color][]float64{}
	for _, pl := range f.items {
		if sc, ok := pl.(*plotter.Scatter); ok {
			for _, xy := range sc.XYs {
				at[sc.GlyphStyle.Color] = append(at[sc.GlyphStyle.Color], xy.X)
			}
		}
	}
	if got := fmt.Sprint(at[palette[1]], at[palette[3]]); got != "[0 20 40] [10 30]" {
		t.Errorf("twins' markers at %s, want [0 20 40] [10 30]", got)
	}
	if want := "s3 (same values as s1)"; f.labels[3] != want {
		t.Errorf("legend entry %q, want %q", f.labels[3], want)
	}
	if strings.Contains(f.labels[1], "same") {
		t.Errorf("the first of the twins is marked: %q", f.labels[1])
	}

	// with markers everywhere, the first eight shapes all differ
	f, err = layout(Chart{Title: "t", Series: series[:8], Markers: true})
	if err != nil {
		t.Fatal(err)
	}
	_, shape = seriesStyles(t, f)
	kinds := make(map[string]bool)
	for _, s := range shape {
		kinds[s] = true
	}
	if len(kinds) != 8 {
		t.Errorf("%d marker shapes for 8 series: %v", len(kinds), shape)
	}
}

// Ticks given to an axis, linear or logarithmic, replace its own: an
// ablation marks only the values it ran.
func TestTicksAtValuesRun(t *testing.T) {
	tests := []struct {
		name  string
		log   bool
		xs    []float64
		ticks []Tick
	}{
		{"linear", false, []float64{1, 4, 6}, []Tick{{1, "1"}, {4, "4"}, {6, "6"}}},
		{"log", true, []float64{1e-4, 1e-3, 3e-2}, []Tick{{1e-4, "0.0001"}, {1e-3, "0.001"}, {3e-2, "0.03"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pts []Point
			for _, x := range tt.xs {
				pts = append(pts, Point{X: x, Y: x})
			}
			f, err := layout(Chart{Title: "t", LogX: tt.log, Ticks: tt.ticks, Series: []Series{{Label: "a", Points: pts}}})
			if err != nil {
				t.Fatal(err)
			}
			got := f.plot.X.Tick.Marker.Ticks(f.plot.X.Min, f.plot.X.Max)
			var labels []string
			for _, tk := range got {
				labels = append(labels, fmt.Sprintf("%g:%s", tk.Value, tk.Label))
			}
			var want []string
			for _, tk := range tt.ticks {
				want = append(want, fmt.Sprintf("%g:%s", tk.Value, tk.Label))
			}
			if strings.Join(labels, " ") != strings.Join(want, " ") {
				t.Errorf("ticks %v, want %v", labels, want)
			}
			if _, isLog := f.plot.X.Scale.(plot.LogScale); isLog != tt.log {
				t.Errorf("log scale %v, want %v", isLog, tt.log)
			}
		})
	}
}

// Reference lines join the y range and the legend.
func TestHLines(t *testing.T) {
	c := Chart{Title: "probe", Series: []Series{{Label: "run", Points: curve(3, 1, func(x float64) float64 { return 0.5 + x/10 }, 0)}},
		HLines: []HLine{{Y: 0.9, Label: "raw pixels"}, {Y: 0.2, Label: "untrained", Style: 1}}}
	f, err := layout(c)
	if err != nil {
		t.Fatal(err)
	}
	if f.plot.Y.Min > 0.2 || f.plot.Y.Max < 0.9 {
		t.Errorf("y range [%g, %g] leaves out a reference line", f.plot.Y.Min, f.plot.Y.Max)
	}
	if strings.Join(f.labels, "|") != "run|raw pixels|untrained" {
		t.Errorf("legend %v", f.labels)
	}
	if err := Save(c, filepath.Join(outDir(t), "hlines")); err != nil {
		t.Fatal(err)
	}
}
