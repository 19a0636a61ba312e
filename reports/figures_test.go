package reports

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"harness/plots"
	"harness/store"
)

// loadFixture builds fx's store and loads its experiment as a report
// sees it.
func loadFixture(t *testing.T, fx fixture) *experiment {
	t.Helper()
	db := fx.build(t, t.TempDir())
	s, err := store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exps, err := s.Experiments()
	if err != nil || len(exps) != 1 {
		t.Fatalf("experiments %v, %v", exps, err)
	}
	exp, err := load(s, fx.name, exps[0], false)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// figureWith returns the figures whose file name starts with prefix.
func figuresWith(figs []figure, prefix string) []figure {
	var out []figure
	for _, f := range figs {
		if strings.HasPrefix(f.base, prefix) {
			out = append(out, f)
		}
	}
	return out
}

// heads is a heads ablation in which MAE ran the same numbers at every
// value, as it did in the Fashion-MNIST study.
func heads() fixture {
	fx := realistic()
	fx.name = "heads"
	fx.axes = []fixtureAxis{{"model.num_heads", []any{1.0, 4.0, 6.0}}}
	fx.maeIgnores = "model.num_heads"
	fx.extra = nil
	return fx
}

// Every line of a chart has its own colour and style, and the MAE lines
// of the same numbers are there to be told apart.
func TestFiguresSeriesDistinct(t *testing.T) {
	figs := figures(loadFixture(t, heads()))
	curves := figuresWith(figs, "fig-curve-train_loss")
	if len(curves) != 1 {
		t.Fatalf("%d train-loss curve figures", len(curves))
	}
	series := curves[0].chart.Series
	if len(series) != 6 {
		t.Fatalf("%d series, want 3 heads × 2 architectures", len(series))
	}
	for _, f := range figs {
		colors, styles := map[int]string{}, map[int]string{}
		for _, s := range f.chart.Series {
			if o, dup := colors[s.Color]; dup {
				t.Errorf("%s: %q and %q share colour %d", f.base, o, s.Label, s.Color)
			}
			if o, dup := styles[s.Style]; dup {
				t.Errorf("%s: %q and %q share style %d", f.base, o, s.Label, s.Style)
			}
			colors[s.Color], styles[s.Style] = s.Label, s.Label
		}
	}
	var mae []plots.Series
	for _, s := range series {
		if strings.HasPrefix(s.Label, "MAE") {
			mae = append(mae, s)
		}
	}
	if len(mae) != 3 || fmt.Sprint(mae[0].Points) != fmt.Sprint(mae[1].Points) {
		t.Errorf("the fixture's MAE lines should coincide: %v", mae)
	}
	// and drawn, the legend says so
	res, _ := generate(t, heads())
	svg := read(t, filepath.Join(res.Dir, "fig-curve-train_loss.svg"))
	if !strings.Contains(svg, "(same values as MAE, num_heads=1 (2 seeds))") {
		t.Error("the train-loss figure does not say which MAE lines coincide")
	}
}

// Ablation axes mark the values run, on a log axis where they span
// decades.
func TestAblationAxes(t *testing.T) {
	lr := realistic()
	lr.name = "blr"
	lr.axes = []fixtureAxis{{"train.blr", []any{1e-4, 1e-3, 1e-2}}}
	lr.extra = nil
	withZero := realistic()
	withZero.name = "wd"
	withZero.axes = []fixtureAxis{{"train.weight_decay", []any{0.0, 1e-4, 1e-2}}}
	withZero.extra = nil
	tests := []struct {
		name  string
		fx    fixture
		log   bool
		ticks string // values run, as labelled
		cats  string
	}{
		{"heads", heads(), false, "1:1 4:4 6:6", ""},
		{"blr", lr, true, "0.0001:0.0001 0.001:0.001 0.01:0.01", ""},
		{"weight decay", withZero, false, "", "0 0.0001 0.01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			figs := figuresWith(figures(loadFixture(t, tt.fx)), "fig-ablation-")
			if len(figs) != 3 {
				t.Fatalf("%d ablation figures, want one per final metric", len(figs))
			}
			for _, f := range figs {
				c := f.chart
				var ticks []string
				for _, tk := range c.Ticks {
					ticks = append(ticks, fmt.Sprintf("%g:%s", tk.Value, tk.Label))
				}
				if got := strings.Join(ticks, " "); got != tt.ticks {
					t.Errorf("%s: ticks %q, want %q", f.base, got, tt.ticks)
				}
				if got := strings.Join(c.Categories, " "); got != tt.cats {
					t.Errorf("%s: categories %q, want %q", f.base, got, tt.cats)
				}
				if c.LogX != tt.log {
					t.Errorf("%s: log %v, want %v", f.base, c.LogX, tt.log)
				}
			}
		})
	}
}

// The probes are drawn over training with the raw-pixel and untrained
// baselines as reference lines.
func TestProbeCurvesAndBaselines(t *testing.T) {
	figs := figures(loadFixture(t, realistic()))
	for _, k := range []string{"linear_probe_acc", "knn_acc"} {
		fs := figuresWith(figs, "fig-curve-eval_"+k)
		if len(fs) != 1 {
			t.Fatalf("%d curve figures of %s", len(fs), k)
		}
		c := fs[0].chart
		if len(c.Series) != 6 || c.Series[0].Points[0].X != 0 {
			t.Errorf("%s: %d series from step %g, want 6 from step 0", k, len(c.Series), c.Series[0].Points[0].X)
		}
		var labels []string
		for _, h := range c.HLines {
			labels = append(labels, h.Label[:strings.Index(h.Label, ":")])
		}
		if got := strings.Join(labels, "|"); got != "raw pixels|untrained CRATE-MAE|untrained MAE" {
			t.Errorf("%s: reference lines %q", k, got)
		}
		if px := c.HLines[0].Y; math.Abs(px-map[string]float64{"linear_probe_acc": 0.3, "knn_acc": 0.25}[k]) > 1e-9 {
			t.Errorf("%s: raw-pixel baseline at %g", k, px)
		}
		if !strings.Contains(fs[0].caption, "raw pixels") {
			t.Errorf("%s: the caption does not explain the reference lines", k)
		}
	}
	if fs := figuresWith(figs, "fig-ablation-train.mask_ratio-linear_probe_acc"); len(fs) != 1 || len(fs[0].chart.HLines) != 3 {
		t.Error("the probe's ablation figure lacks its baselines")
	}
	if fs := figuresWith(figs, "fig-ablation-train.mask_ratio-recon_loss"); len(fs) != 1 || len(fs[0].chart.HLines) != 0 {
		t.Error("the reconstruction loss has reference lines")
	}
}

// The parameter-efficiency figures are drawn only where an architecture
// ran at several sizes; else the report says why there are none.
func TestParamFiguresOnlyWhereSizesVary(t *testing.T) {
	sizes := realistic()
	sizes.name = "sizes"
	sizes.axes = nil
	sizes.extra = nil
	sizes.variants = append(sizes.variants, fixtureVariant{"CRATE-MAE-small", smallModel("mae_crate_small")})
	for _, tt := range []struct {
		fx   fixture
		want int
	}{{realistic(), 0}, {sizes, 2}} {
		exp := loadFixture(t, tt.fx)
		if n := len(figuresWith(figures(exp), "fig-params-")); n != tt.want {
			t.Errorf("%s: %d parameter figures, want %d", tt.fx.name, n, tt.want)
		}
		res, _ := generate(t, tt.fx)
		md := read(t, res.Markdown)
		if has := strings.Contains(md, "No parameter-efficiency figure"); has != (tt.want == 0) {
			t.Errorf("%s: the report says why there is no figure: %v", tt.fx.name, has)
		}
	}
}

// Sparsity, exact zeros, is drawn for CRATE-MAE only, with a note;
// Hoyer's measure for both.
func TestSparsityCRATEOnly(t *testing.T) {
	figs := figuresWith(figures(loadFixture(t, realistic())), "fig-layers-sparsity")
	if len(figs) == 0 {
		t.Fatal("no sparsity figure")
	}
	for _, f := range figs {
		for _, s := range f.chart.Series {
			if !strings.HasPrefix(s.Label, "CRATE-MAE") {
				t.Errorf("%s: series %q", f.base, s.Label)
			}
		}
		if !strings.Contains(f.caption, "GELU") {
			t.Errorf("%s: caption %q does not say why MAE is left out", f.base, f.caption)
		}
	}
	all := figures(loadFixture(t, realistic()))
	for _, q := range []string{"coding_rate", "hoyer"} {
		if fs := figuresWith(all, "fig-layers-"+q); len(fs) == 0 || len(fs[0].chart.Series) != 6 {
			t.Errorf("%s lost MAE", q)
		}
	}
}
