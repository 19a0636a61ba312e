package model

import "testing"

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
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := g.Run(images, noise); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkForwardBackwardCRATE times forward and backward passes of the
// bench configuration, without the optimizer.
func BenchmarkForwardBackwardCRATE(b *testing.B) { benchmarkStep(b, ArchCRATE) }

// BenchmarkForwardBackwardViT is the same for MAE.
func BenchmarkForwardBackwardViT(b *testing.B) { benchmarkStep(b, ArchViT) }
