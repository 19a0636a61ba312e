package training

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"harness/model"
)

// BenchResult is the throughput of full training steps.
type BenchResult struct {
	Arch            string  `json:"arch"`
	Batch           int     `json:"batch"`
	Steps           int     `json:"steps"`
	Threads         int     `json:"threads"`
	ParamsTotal     int64   `json:"params_total"`
	Seconds         float64 `json:"seconds"`
	ImagesPerSecond float64 `json:"images_per_second"`
	// StepSeconds holds each timed step's duration.
	StepSeconds []float64 `json:"step_seconds"`
}

// BenchSpec is `harness bench`'s default configuration: a CRATE-MAE of
// width 192, depth 6 and 6 heads (decoder alike) on 32-pixel RGB images in
// 4-pixel patches, batch 64, mask ratio 0.75, released masking, all cores.
func BenchSpec() Spec {
	s := DefaultSpec()
	s.Model = model.Config{
		Arch: model.ArchCRATE, ImgSize: 32, PatchSize: 4, InChans: 3, EmbedDim: 192, Depth: 6, NumHeads: 6,
		DecoderEmbedDim: 192, DecoderDepth: 6, DecoderNumHeads: 6, MLPRatio: 4, StepSize: 0.1, Lambd: 0.5,
		Masking: model.MaskingReleased,
	}
	s.Data.Dataset = "synthetic"
	s.Train.BatchSize, s.Train.MaskRatio, s.Train.WarmupSteps = 64, 0.75, 0
	return s
}

// Bench times steps full training steps (forward, backward, AdamW) of the
// spec's model on random images, after warmup untimed ones.
func Bench(spec Spec, warmup, steps int) (BenchResult, error) {
	if err := spec.Model.Validate(); err != nil {
		return BenchResult{}, err
	}
	if err := spec.Train.Validate(); err != nil {
		return BenchResult{}, err
	}
	if steps < 1 {
		return BenchResult{}, fmt.Errorf("--steps: must be positive, got %d", steps)
	}
	c := spec.Train
	model.SetThreads(c.Threads)
	m, err := model.New(spec.Model, spec.Seed)
	if err != nil {
		return BenchResult{}, err
	}
	st, err := newStepper(m, c)
	if err != nil {
		return BenchResult{}, err
	}
	mc := spec.Model
	rng := rand.New(rand.NewPCG(spec.Seed, 0))
	images := make([]float32, c.BatchSize*mc.InChans*mc.ImgSize*mc.ImgSize)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	noise := make([]float32, c.BatchSize*mc.NumPatches())
	r := BenchResult{Arch: mc.Arch, Batch: c.BatchSize, Steps: steps, Threads: runtime.GOMAXPROCS(0), ParamsTotal: m.Counts().Total}
	for i := 1; i <= warmup+steps; i++ {
		maskingNoise(noise, spec.Seed, uint64(i))
		start := time.Now()
		// a constant learning rate: the schedule does not change the cost
		if _, _, err := st.step(images, noise, c.WarmupSteps+1); err != nil {
			return r, err
		}
		if i > warmup {
			r.StepSeconds = append(r.StepSeconds, time.Since(start).Seconds())
			r.Seconds += r.StepSeconds[len(r.StepSeconds)-1]
		}
	}
	r.ImagesPerSecond = float64(c.BatchSize*steps) / r.Seconds
	return r, nil
}
