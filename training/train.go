package training

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"harness/data"
	"harness/internal/atomicfile"
	"harness/model"
)

// Sink receives what a run produces, in order.
type Sink interface {
	// Resumed says the run continues from a checkpoint after step.
	Resumed(step int) error
	// Metrics records values at a step.
	Metrics(step int, values map[string]float64) error
	// Artifact records a file the run wrote (kind "checkpoint",
	// "recon_grid").
	Artifact(kind, path string) error
}

// An EvalSink is a Sink that is also told when an evaluation begins and
// ends, so that it can show it; the evaluation's metrics come between.
type EvalSink interface {
	Evaluating(step int) error
	Evaluated(step int) error
}

// evaluate runs the evaluation of step, telling sink if it is an EvalSink.
func evaluate(ev *evaluator, step int, sink Sink) error {
	es, ok := sink.(EvalSink)
	if ok {
		if err := es.Evaluating(step); err != nil {
			return err
		}
	}
	if err := ev.run(step, sink); err != nil {
		return err
	}
	if ok {
		return es.Evaluated(step)
	}
	return nil
}

// A Warner is a Sink that also takes warnings: what went wrong without
// stopping the run, such as a corrupt checkpoint set aside. Train gives
// the warnings meant for a Sink that is not a Warner to standard error,
// which a worker's run log receives.
type Warner interface {
	Warn(msg string)
}

// warnFunc returns where the warnings of a run with sink go.
func warnFunc(sink Sink) func(string) {
	if w, ok := sink.(Warner); ok {
		return w.Warn
	}
	return func(msg string) { fmt.Fprintf(os.Stderr, "training: warning: %s\n", msg) }
}

// Train pretrains the model spec describes, writing checkpoints and
// artifacts into dir and every metric to sink. The newest sound checkpoint
// already in dir is resumed from (see resume), and the run continues
// exactly as if never stopped; temporary files of writers killed earlier
// are removed. When ctx is cancelled, Train writes a checkpoint and
// returns ctx's error.
func Train(ctx context.Context, spec Spec, dir string, sink Sink) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	c := spec.Train
	model.SetThreads(c.Threads)
	ds, err := data.Open(spec.Data, data.Input{Chans: spec.Model.InChans, Size: spec.Model.ImgSize})
	if err != nil {
		return err
	}
	m, err := model.New(spec.Model, spec.Seed)
	if err != nil {
		return err
	}
	st, err := newStepper(m, c)
	if err != nil {
		return err
	}
	opt := st.opt
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	warn := warnFunc(sink)
	removeStaleTemps(dir, warn)
	start, err := resume(dir, spec, m, opt, warn)
	if err != nil {
		return err
	}
	ev, err := newEvaluator(spec, m, ds, dir)
	if err != nil {
		return err
	}
	if start > 0 {
		if err := sink.Resumed(start); err != nil {
			return err
		}
	} else if err := evaluate(ev, 0, sink); err != nil {
		return err
	}
	loader, err := data.NewLoader(ds.Train, c.BatchSize, spec.Seed, start)
	if err != nil {
		return err
	}
	defer loader.Close()
	noise := make([]float32, c.BatchSize*spec.Model.NumPatches())
	// saved is the step of the last checkpoint; on cancellation just after
	// it, writing it again would rotate out the one before.
	saved := start
	for step := start + 1; step <= c.Steps; step++ {
		if err := ctx.Err(); err != nil {
			if step-1 > saved {
				if err := save(dir, spec, step-1, m, opt, sink); err != nil {
					return err
				}
			}
			return err
		}
		batch := loader.Next()
		maskingNoise(noise, spec.Seed, uint64(step))
		loss, lr, err := st.step(batch.X, noise, step)
		if err != nil {
			return err
		}
		if step%c.LogEvery == 0 || step == c.Steps {
			if err := sink.Metrics(step, map[string]float64{"train/loss": loss, "train/lr": lr}); err != nil {
				return err
			}
		}
		if (c.EvalEvery > 0 && step%c.EvalEvery == 0) || step == c.Steps {
			if err := evaluate(ev, step, sink); err != nil {
				return err
			}
		}
		if (c.CheckpointEvery > 0 && step%c.CheckpointEvery == 0) || step == c.Steps {
			if err := save(dir, spec, step, m, opt, sink); err != nil {
				return err
			}
			saved = step
		}
	}
	return nil
}

// stepper makes optimisation steps: forward and backward on the model's
// executor, optional gradient clipping, AdamW at the scheduled learning
// rate. The executor is the CPU's; AdamW runs on the parameters' host
// values, so a device executor would move each step's gradients and
// parameters (see model/device.go).
type stepper struct {
	m     *model.Model
	c     Config
	exec  model.Executor
	opt   *adamW
	grads map[*model.Param][]float32 // this step's, nil where none
	clip  [][]float32
}

func newStepper(m *model.Model, c Config) (*stepper, error) {
	g, err := m.NewGraph(c.BatchSize, c.MaskRatio, true)
	if err != nil {
		return nil, err
	}
	exec, err := g.Executor(model.CPU{})
	if err != nil {
		return nil, err
	}
	return &stepper{m: m, c: c, exec: exec, opt: newAdamW(m.Params, c), grads: map[*model.Param][]float32{}}, nil
}

// step makes optimisation step number step (from 1) on a batch and returns
// its loss and learning rate; a loss that is not finite is an error.
func (st *stepper) step(images, noise []float32, step int) (loss, lr float64, err error) {
	l, err := st.exec.Step(images, noise)
	if err != nil {
		return 0, 0, fmt.Errorf("step %d: %w", step, err)
	}
	if loss = float64(l); math.IsNaN(loss) || math.IsInf(loss, 0) {
		return 0, 0, fmt.Errorf("step %d: the loss diverged to %v", step, loss)
	}
	st.clip = st.clip[:0]
	for _, p := range st.m.Params {
		if st.grads[p], err = st.exec.Grad(p); err != nil {
			return 0, 0, fmt.Errorf("step %d: %w", step, err)
		}
		if st.grads[p] != nil {
			st.clip = append(st.clip, st.grads[p])
		}
	}
	if st.c.ClipGrad > 0 {
		clipGradNorm(st.clip, st.c.ClipGrad)
	}
	lr = learningRate(st.c, step-1)
	st.opt.step(lr, func(p *model.Param) []float32 { return st.grads[p] })
	if err := st.exec.LoadParams(); err != nil {
		return 0, 0, fmt.Errorf("step %d: %w", step, err)
	}
	return loss, lr, nil
}

// save writes the checkpoint of step into dir and records it.
func save(dir string, spec Spec, step int, m *model.Model, o *adamW, sink Sink) error {
	if err := saveCheckpoint(dir, spec, step, m, o); err != nil {
		return err
	}
	return sink.Artifact("checkpoint", filepath.Join(dir, CheckpointName))
}

// removeStaleTemps removes the temporary files that writers killed before
// finishing left in dir (a whole checkpoint among them, perhaps), and
// says what it removed or could not.
func removeStaleTemps(dir string, warn func(string)) {
	removed, err := atomicfile.RemoveStale(dir)
	if len(removed) > 0 {
		warn(fmt.Sprintf("removed the temporary files of writers that are gone: %s", strings.Join(removed, ", ")))
	}
	if err != nil {
		warn(err.Error())
	}
}

// maskingNoise fills noise for one step from (seed, step) alone, so that a
// resumed run masks exactly as an unbroken one.
func maskingNoise(noise []float32, seed, step uint64) {
	rng := rand.New(rand.NewPCG(seed, step))
	for i := range noise {
		noise[i] = rng.Float32()
	}
}
