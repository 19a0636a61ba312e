package model

import (
	"flag"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// benchConfig is `harness bench`'s default configuration.
func benchConfig(arch string) Config {
	c := Presets["mae_crate_tiny"]
	c.Arch, c.ImgSize, c.PatchSize, c.InChans = arch, 32, 4, 3
	c.EmbedDim, c.Depth, c.NumHeads = 192, 6, 6
	c.DecoderEmbedDim, c.DecoderDepth, c.DecoderNumHeads = 192, 6, 6
	return c
}

func benchmarkStep(b *testing.B, arch string) {
	c := benchConfig(arch)
	m, err := New(c, 0)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 64
	g, err := m.NewGraph(batch, 0.75, true)
	if err != nil {
		b.Fatal(err)
	}
	images, noise := randomBatch(c, batch, 1)
	if _, err := g.Run(images, noise); err != nil { // allocates the buffers
		b.Fatal(err)
	}
	if *kernelTimesFlag {
		kernelTimes = &kernelClock{total: map[string]time.Duration{}}
		defer func() { kernelTimes = nil }()
	}
	start := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := g.Run(images, noise); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64(cpuTime()-start)/1e9/float64(b.N), "cpu-s/op")
	if kernelTimes != nil {
		for name, d := range kernelTimes.total {
			b.ReportMetric(d.Seconds()/float64(b.N), name+"-s/op")
		}
	}
}

// -kernel-times reports the time per step of each kernel's forward (by
// name) and backward (name + "ᵀ") passes.
var kernelTimesFlag = flag.Bool("kernel-times", false, "report the time of each kernel per step")

// BenchmarkForwardBackwardCRATE times forward and backward passes of the
// bench configuration, without the optimizer.
func BenchmarkForwardBackwardCRATE(b *testing.B) { benchmarkStep(b, ArchCRATE) }

// BenchmarkForwardBackwardViT is the same for MAE.
func BenchmarkForwardBackwardViT(b *testing.B) { benchmarkStep(b, ArchViT) }

// elementwiseData returns a 2^20-element vector of normal samples, as
// activations are, and one for results.
func elementwiseData(b *testing.B) (x, y []float32) {
	rng := rand.New(rand.NewPCG(1, 2))
	x = make([]float32, 1<<20)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	b.SetBytes(int64(4 * len(x)))
	start := cpuTime()
	b.Cleanup(func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N*len(x)), "cpu-ns/elem")
	})
	return x, make([]float32, len(x))
}

// cpuTime is the processor time the process has used, in nanoseconds: on a
// shared machine it varies less than the elapsed time.
func cpuTime() int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return u.Utime.Nano() + u.Stime.Nano()
}

func BenchmarkExp(b *testing.B) {
	x, y := elementwiseData(b)
	for b.Loop() {
		copy(y, x)
		expInPlace(y)
	}
}

func BenchmarkGELU(b *testing.B) {
	x, y := elementwiseData(b)
	for b.Loop() {
		geluSlice(y, x)
	}
}

func BenchmarkGELUGrad(b *testing.B) {
	x, y := elementwiseData(b)
	for b.Loop() {
		geluGradSlice(y, x, x)
	}
}
