package reports

import (
	"path/filepath"
	"testing"

	"harness/store"
)

// large is an experiment of 300 runs with the metrics training logs over
// 1000 steps (train/* every 10 steps; eval/* and the layer-wise metrics of
// 24 and 20 layers every 200): CRATE-MAE and MAE × 5 mask ratios × 5 base
// learning rates × norm_pix_loss on and off × 3 seeds, about 140,000
// metric rows.
func large() fixture {
	fx := realistic()
	fx.name = "large"
	fx.axes = []fixtureAxis{
		{"train.mask_ratio", []any{0.5, 0.6, 0.75, 0.85, 0.9}},
		{"train.blr", []any{5e-5, 1e-4, 1.5e-4, 3e-4, 6e-4}},
		{"model.norm_pix_loss", []any{false, true}},
	}
	fx.seeds = []uint64{0, 1, 2}
	fx.steps, fx.evalEvery = 1000, 200
	fx.extra = nil
	return fx
}

// BenchmarkGenerate times the report of a 300-run experiment: reading the
// store, aggregating, drawing every figure as PNG and SVG and writing both
// reports.
func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	fx := large()
	db := fx.build(b, dir)
	s, err := store.OpenReadOnly(db)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	out := filepath.Join(dir, "reports")
	b.ResetTimer()
	var res []Result
	for b.Loop() {
		res, err = Generate(s, Options{OutDir: out, StorePath: db})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if res[0].Runs != 300 {
		b.Fatalf("%d runs, want 300", res[0].Runs)
	}
	b.ReportMetric(float64(len(res[0].Figures)), "figures")
}
