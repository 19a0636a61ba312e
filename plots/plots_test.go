package plots

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
