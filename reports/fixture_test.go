package reports

import (
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"harness/ablations"
	"harness/model"
	"harness/store"
	"harness/training"
)

// fixture describes an experiment to write into a test store: every
// variant × axis value × seed, finished, plus extra runs.
type fixture struct {
	name      string
	variants  []fixtureVariant
	axes      []fixtureAxis
	seeds     []uint64
	steps     int // training steps; train/* every 10, eval/* and layer/* every evalEvery and at the end
	evalEvery int
	grids     bool // record a recon_grid artifact per finished run
	lostGrids bool // record them without writing the files
	extra     []extraRun
	// maeIgnores is an axis key that does not change MAE's metrics, as
	// model.num_heads where MAE ran the same numbers at every value.
	maeIgnores string
}

// fixtureAxis is an ablation axis: a key of training.Config ("train.…")
// that the runs set, or any other key, recorded only.
type fixtureAxis struct {
	key    string
	values []any
}

type fixtureVariant struct {
	name  string
	model model.Config
}

// extraRun is a run that does not finish: failed, interrupted or running.
type extraRun struct {
	variant int
	values  []any // one per axis
	seed    uint64
	status  string // store.StatusFailed, StatusInterrupted or StatusRunning
	err     string
	steps   int // metrics logged before it stopped
	// log, when set, is written to the run's log.txt, whose path and last
	// line the error then ends with, as the runner records them
	log string
}

// smallModel is a preset at CIFAR size: 32-pixel images, 4-pixel patches.
func smallModel(preset string) model.Config {
	c := model.Presets[preset]
	c.ImgSize, c.PatchSize = 32, 4
	return c
}

// realistic is the experiment the tests report on: CRATE-MAE against MAE
// at three mask ratios and two seeds, plus a third seed that failed.
func realistic() fixture {
	return fixture{
		name: "mask_ratio",
		variants: []fixtureVariant{
			{"CRATE-MAE", smallModel("mae_crate_tiny")},
			{"MAE", smallModel("mae_vit_base")},
		},
		axes:      []fixtureAxis{{"train.mask_ratio", []any{0.5, 0.75, 0.9}}},
		seeds:     []uint64{0, 1},
		steps:     200,
		evalEvery: 100,
		grids:     true,
		extra: []extraRun{{variant: 1, values: []any{0.75}, seed: 2, status: store.StatusFailed,
			err: "training diverged: train loss is NaN at step 120", steps: 120}},
	}
}

// run builds the ablations.Run of a variant, axis values and seed.
func (fx fixture) run(v int, values []any, seed uint64) ablations.Run {
	spec := training.DefaultSpec()
	spec.Model = fx.variants[v].model
	spec.Train.Steps = fx.steps
	spec.Train.EvalEvery = fx.evalEvery
	spec.Seed = seed
	r := ablations.Run{Experiment: fx.name, Variant: fx.variants[v].name, Spec: spec}
	parts := []string{fx.variants[v].name}
	for i, a := range fx.axes {
		r.Axes = append(r.Axes, ablations.AxisValue{Key: a.key, Value: values[i]})
		parts = append(parts, fmt.Sprintf("%s=%v", a.key[strings.LastIndex(a.key, ".")+1:], values[i]))
		switch a.key {
		case "train.mask_ratio":
			r.Spec.Train.MaskRatio = values[i].(float64)
		case "train.blr":
			r.Spec.Train.BLR = values[i].(float64)
		case "model.norm_pix_loss":
			r.Spec.Model.NormPixLoss = values[i].(bool)
		}
	}
	r.Name = fmt.Sprintf("%s/seed=%d", strings.Join(parts, "/"), seed)
	return r
}

// settings lists every combination of the axes' values, the first axis
// outermost.
func (fx fixture) settings() [][]any {
	out := [][]any{nil}
	for _, a := range fx.axes {
		var next [][]any
		for _, prefix := range out {
			for _, v := range a.values {
				next = append(next, append(append([]any(nil), prefix...), v))
			}
		}
		out = next
	}
	return out
}

// build writes the fixture into a new store under dir and returns its
// path. Reconstruction grids go under dir/runs, recorded relative to dir.
func (fx fixture) build(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "harness.db")
	s, err := store.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if err := s.PutExperiment(fx.name, "CRATE-MAE against MAE", "[experiment]\nname = \""+fx.name+"\"\n"); err != nil {
		tb.Fatal(err)
	}
	for v := range fx.variants {
		for _, values := range fx.settings() {
			for _, seed := range fx.seeds {
				fx.add(tb, s, dir, fx.run(v, values, seed), store.StatusDone, "", fx.steps, "")
			}
		}
	}
	for _, e := range fx.extra {
		fx.add(tb, s, dir, fx.run(e.variant, e.values, e.seed), e.status, e.err, e.steps, e.log)
	}
	return path
}

// add claims a run, logs its metrics up to step last and ends it with
// status.
func (fx fixture) add(tb testing.TB, s *store.Store, dir string, r ablations.Run, status, errMsg string, last int, log string) {
	tb.Helper()
	js, err := r.JSON()
	if err != nil {
		tb.Fatal(err)
	}
	hash, err := r.Hash()
	if err != nil {
		tb.Fatal(err)
	}
	n, err := model.CountParams(r.Spec.Model)
	if err != nil {
		tb.Fatal(err)
	}
	run, claimed, err := s.Claim(store.Run{
		Experiment: r.Experiment, Name: r.Name, ConfigJSON: string(js), ConfigHash: hash,
		Seed: int64(r.Spec.Seed), Device: "cpu", ParamsTotal: n.Total, ParamsTrainable: n.Trainable,
	}, false)
	if err != nil || !claimed {
		tb.Fatalf("claim %s: claimed %v, %v", r.Name, claimed, err)
	}
	noise := r
	if fx.maeIgnores != "" && r.Spec.Model.Arch == model.ArchViT {
		var kept []string
		short := fx.maeIgnores[strings.LastIndex(fx.maeIgnores, ".")+1:] + "="
		for _, part := range strings.Split(r.Name, "/") {
			if !strings.HasPrefix(part, short) {
				kept = append(kept, part)
			}
		}
		noise.Name = strings.Join(kept, "/")
	}
	if err := s.LogMetrics(run.ID, metrics(noise, fx.evalEvery, last)); err != nil {
		tb.Fatal(err)
	}
	if status == store.StatusDone && fx.grids {
		rel := filepath.Join("runs", fmt.Sprint(run.ID), fmt.Sprintf("recon_step%06d.png", last))
		if !fx.lostGrids {
			writeGrid(tb, filepath.Join(dir, rel))
		}
		if err := s.AddArtifact(run.ID, kindReconGrid, rel); err != nil {
			tb.Fatal(err)
		}
	}
	if log != "" {
		rel := filepath.Join("runs", fmt.Sprint(run.ID), "log.txt")
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(log), 0o644); err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(log), "\n")
		errMsg += "\n--- last lines of " + rel + " ---\n" + lines[len(lines)-1]
	}
	switch status {
	case store.StatusRunning:
	case store.StatusInterrupted:
		if err := s.MarkInterrupted(run.ID); err != nil {
			tb.Fatal(err)
		}
	default:
		if err := s.Finish(run.ID, status, errMsg); err != nil {
			tb.Fatal(err)
		}
	}
}

// metrics makes plausible metrics of a run up to step last, as training
// logs them: train/* every 10 steps, eval/* and layer/* at step 0, every
// evalEvery steps and at the last step, and the raw-pixel probes at step
// 0. They depend on the architecture, the mask
// ratio and, a little, the seed.
func metrics(r ablations.Run, evalEvery, last int) []store.Metric {
	h := fnv.New64a()
	h.Write([]byte(r.Name))
	rng := rand.New(rand.NewPCG(r.Spec.Seed, h.Sum64()))
	crate := r.Spec.Model.Arch == model.ArchCRATE
	mr := r.Spec.Train.MaskRatio
	floor := 0.15 + 0.2*mr
	if crate {
		floor += 0.02
	}
	noise := func(scale float64) float64 { return scale * rng.NormFloat64() }
	var ms []store.Metric
	for step := 10; step <= last; step += 10 {
		t := float64(step)
		ms = append(ms,
			store.Metric{Step: int64(step), Key: keyTrainLoss, Value: floor + 0.8*math.Exp(-t/60) + noise(0.01)},
			store.Metric{Step: int64(step), Key: "train/lr", Value: 1.5e-4 * math.Min(1, t/50)})
	}
	evals := []int{0}
	for step := evalEvery; evalEvery > 0 && step <= last; step += evalEvery {
		evals = append(evals, step)
	}
	if len(evals) == 0 || evals[len(evals)-1] != last {
		evals = append(evals, last)
	}
	acc := 0.42 + 0.1*(1-mr)
	if crate {
		acc += 0.03
	}
	for _, step := range evals {
		t := float64(step)
		progress := 1 - math.Exp(-t/80)
		add := func(key string, v float64) {
			ms = append(ms, store.Metric{Step: int64(step), Key: key, Value: v})
		}
		add(keyReconLoss, floor+0.05+0.6*(1-progress)+noise(0.01))
		// untrained encoders do a little better than chance, pixels better still
		add(keyProbeAcc, 0.2+(acc-0.2)*progress+noise(0.01))
		add(keyProbeAccAvg, 0.2+(acc-0.21)*progress+noise(0.01))
		add(keyKNNAcc, 0.15+(acc-0.2)*progress+noise(0.01))
		if step == 0 {
			add(pixelKey(keyProbeAcc), 0.3)
			add(pixelKey(keyKNNAcc), 0.25)
		}
		for part, depth := range map[string]int{"enc": r.Spec.Model.Depth, "dec": r.Spec.Model.DecoderDepth} {
			for i := range depth {
				x := float64(i) / float64(depth)
				rate, sparsity := 30-4*x, 0.2+0.1*x
				if crate && part == "enc" {
					rate, sparsity = 30-12*x, 0.2+0.6*x // CRATE compresses and sparsifies
				}
				add(fmt.Sprintf("layer/%s/%d/coding_rate", part, i), rate*progress+noise(0.2))
				add(fmt.Sprintf("layer/%s/%d/sparsity", part, i), sparsity+noise(0.01))
				add(fmt.Sprintf("layer/%s/%d/hoyer", part, i), 0.3+sparsity/2+noise(0.01))
			}
		}
	}
	return ms
}

// writeGrid writes a small PNG like a reconstruction grid: four columns
// of eight 32-pixel images.
func writeGrid(tb testing.TB, path string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 4*32, 8*32))
	for y := range 8 * 32 {
		for x := range 4 * 32 {
			img.SetGray(x, y, color.Gray{Y: uint8((x*7 + y*3) % 256)})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}
