package model

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// The released counts (../shared/reference/crate_mae_ref.py prints them).
func TestPresetCounts(t *testing.T) {
	tests := []struct {
		preset           string
		total, trainable int64
	}{
		{"mae_crate_tiny", 11555328, 11404032},
		{"mae_crate_small", 25405824, 25178880},
		{"mae_crate_base", 44638464, 44335872},
		{"mae_crate_large", 154274560, 153871104},
		{"mae_vit_base", 143790336, 143487744},
		{"mae_vit_large", 406014720, 405611264},
		{"mae_vit_huge", 790756428, 790098508},
	}
	for _, tt := range tests {
		c, err := Preset(tt.preset)
		if err != nil {
			t.Fatal(err)
		}
		n, err := CountParams(c)
		if err != nil {
			t.Fatal(err)
		}
		if n.Total != tt.total || n.Trainable != tt.trainable || n.Encoder+n.Decoder != n.Total {
			t.Errorf("%s: %+v, want total %d, trainable %d", tt.preset, n, tt.total, tt.trainable)
		}
	}
}

// tiny is a small configuration for whole-model tests.
func tiny(arch, masking string) Config {
	c := Presets["mae_crate_tiny"]
	c.Arch, c.Masking = arch, masking
	c.ImgSize, c.PatchSize, c.InChans = 8, 2, 2
	c.EmbedDim, c.Depth, c.NumHeads = 16, 2, 2
	c.DecoderEmbedDim, c.DecoderDepth, c.DecoderNumHeads = 16, 1, 4
	if masking == MaskingVisible {
		c.DecoderEmbedDim = 12
		c.DecoderNumHeads = 3
	}
	return c
}

func TestCountsMatchAllocation(t *testing.T) {
	for _, c := range []Config{tiny(ArchCRATE, MaskingReleased), tiny(ArchViT, MaskingVisible)} {
		m, err := New(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, p := range m.Params {
			total += int64(len(p.Value))
		}
		if n := m.Counts(); n.Total != total {
			t.Errorf("%s: counted %d, allocated %d", c.Arch, n.Total, total)
		}
	}
}

func TestRefusedConfigs(t *testing.T) {
	base := tiny(ArchCRATE, MaskingReleased)
	tests := []struct {
		change func(c *Config)
		want   string
	}{
		{func(c *Config) { c.NumHeads = 3 }, "model.num_heads"},
		{func(c *Config) { c.DecoderNumHeads = 5 }, "model.decoder_num_heads"},
		{func(c *Config) { c.ImgSize = 9 }, "model.img_size"},
		{func(c *Config) { c.DecoderEmbedDim = 32 }, "model.decoder_embed_dim"},
		{func(c *Config) { c.Arch = "resnet" }, "model.arch"},
		{func(c *Config) { c.Masking = "random" }, "model.masking"},
		{func(c *Config) { c.Depth = 0 }, "model.depth"},
		{func(c *Config) { c.PatchSize = -2 }, "model.patch_size"},
		{func(c *Config) { c.EmbedDim, c.DecoderEmbedDim, c.NumHeads, c.DecoderNumHeads = 18, 18, 2, 2 }, "model.embed_dim"},
		{func(c *Config) { c.StepSize = 0 }, "model.step_size"},
		{func(c *Config) { c.Lambd = -1 }, "model.lambd"},
		{func(c *Config) { c.Arch, c.MLPRatio = ArchViT, 0 }, "model.mlp_ratio"},
	}
	for _, tt := range tests {
		c := base
		tt.change(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tt.want+":") {
			t.Errorf("%+v: error %v, want one naming %s", c, err, tt.want)
		}
		if _, err := New(c, 0); err == nil {
			t.Errorf("New accepted %+v", c)
		}
	}
	for _, ratio := range []float64{0, 1, -0.5, 1.5, math.NaN(), 0.99} {
		if _, err := base.Kept(ratio); err == nil || !strings.Contains(err.Error(), "train.mask_ratio") {
			t.Errorf("mask ratio %g: error %v, want one naming train.mask_ratio", ratio, err)
		}
	}
	if _, err := Preset("mae_crate_huge"); err == nil {
		t.Error("unknown preset accepted")
	}
}

func randomBatch(c Config, batch int, seed uint64) (images, noise []float32) {
	rng := rand.New(rand.NewPCG(seed, 9))
	images = make([]float32, batch*c.InChans*c.ImgSize*c.ImgSize)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	noise = make([]float32, batch*c.NumPatches())
	for i := range noise {
		noise[i] = rng.Float32()
	}
	return images, noise
}

// A graph reuses its buffers from step to step: running the same batch
// twice, with another in between, must give the same loss and gradients.
func TestRepeatedRunsAgree(t *testing.T) {
	for _, c := range []Config{tiny(ArchCRATE, MaskingReleased), tiny(ArchViT, MaskingVisible)} {
		m, _ := New(c, 3)
		g, err := m.NewGraph(3, 0.5, true)
		if err != nil {
			t.Fatal(err)
		}
		images, noise := randomBatch(c, 3, 1)
		first, err := g.Run(images, noise)
		if err != nil {
			t.Fatal(err)
		}
		grad := append([]float32(nil), g.Grad(m.Params[4])...)
		other, otherNoise := randomBatch(c, 3, 2)
		if _, err := g.Run(other, otherNoise); err != nil {
			t.Fatal(err)
		}
		again, _ := g.Run(images, noise)
		if first.Loss != again.Loss {
			t.Errorf("%s: loss %v then %v", c.Arch, first.Loss, again.Loss)
		}
		for i, v := range g.Grad(m.Params[4]) {
			if v != grad[i] {
				t.Fatalf("%s: gradient of %s changed between identical runs", c.Arch, m.Params[4].Name)
			}
		}
	}
}

// Whole-model gradients against finite differences, for the visible
// masking that the released-code parity cases do not cover.
func TestModelGradientFiniteDifference(t *testing.T) {
	for _, c := range []Config{tiny(ArchCRATE, MaskingVisible), tiny(ArchViT, MaskingVisible), tiny(ArchCRATE, MaskingReleased)} {
		c.NormPixLoss = c.Arch == ArchViT
		m, _ := New(c, 5)
		g, err := m.NewGraph(2, 0.6, true)
		if err != nil {
			t.Fatal(err)
		}
		images, noise := randomBatch(c, 2, 3)
		if _, err := g.Run(images, noise); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for _, p := range m.Params {
			if !p.Trainable {
				continue
			}
			grad := append([]float32(nil), g.Grad(p)...)
			if strings.HasPrefix(p.Name, "decoder_embed.") && c.Masking == MaskingReleased {
				if grad != nil {
					t.Errorf("released masking: decoder_embed has a gradient")
				}
				continue
			}
			if grad == nil {
				t.Errorf("%s %s: no gradient for %s", c.Arch, c.Masking, p.Name)
				continue
			}
			j := rng.IntN(len(p.Value))
			x := p.Value[j]
			// small: ISTA's relu makes the loss only piecewise smooth
			const h = 4e-4
			p.Value[j] = x + h
			up, _ := g.Run(images, noise)
			p.Value[j] = x - h
			down, _ := g.Run(images, noise)
			p.Value[j] = x
			num := (float64(up.Loss) - float64(down.Loss)) / (2 * h)
			if d := math.Abs(num - float64(grad[j])); d > 3e-3+0.05*math.Abs(num) {
				t.Errorf("%s %s: d loss/d %s[%d] = %.5g, finite difference %.5g", c.Arch, c.Masking, p.Name, j, grad[j], num)
			}
		}
	}
}

// With either masking the prediction depends on the visible patches only:
// changing the pixels of a removed patch changes neither prediction nor the
// encoder's output.
func TestRemovedPatchesAreNotSeen(t *testing.T) {
	for _, c := range []Config{tiny(ArchCRATE, MaskingVisible), tiny(ArchViT, MaskingReleased)} {
		m, _ := New(c, 5)
		g, err := m.NewGraph(1, 0.75, false)
		if err != nil {
			t.Fatal(err)
		}
		images, noise := randomBatch(c, 1, 4)
		before, err := g.Run(images, noise)
		if err != nil {
			t.Fatal(err)
		}
		removed := -1
		for i, v := range before.Mask {
			if v == 1 {
				removed = i
				break
			}
		}
		// the top-left pixel of every channel of that patch
		gh, gw := removed/c.Grid(), removed%c.Grid()
		for ch := 0; ch < c.InChans; ch++ {
			images[(ch*c.ImgSize+gh*c.PatchSize)*c.ImgSize+gw*c.PatchSize] += 5
		}
		after, _ := g.Run(images, noise)
		for i := range before.Pred {
			if before.Pred[i] != after.Pred[i] {
				t.Fatalf("%s %s: prediction changed with a removed patch", c.Arch, c.Masking)
			}
		}
		if before.Loss == after.Loss {
			t.Errorf("%s %s: the loss ignores the removed patch's target", c.Arch, c.Masking)
		}
	}
}

func TestResidualGradient(t *testing.T) {
	checkGradient(t, Residual{Rows: 3, Width: 4, Sign: -1}, []tensor.Shape{{3, 4}, {3, 4}}, normalFill)
}

func TestPatchifyRoundTrip(t *testing.T) {
	c := tiny(ArchViT, MaskingReleased)
	images, _ := randomBatch(c, 2, 8)
	patches := c.Patchify(images)
	// patch 1 of image 0 starts at pixel (0, 2) of channel 0, then channel 1
	if patches[c.PatchDim()] != images[2] || patches[c.PatchDim()+1] != images[c.ImgSize*c.ImgSize+2] {
		t.Error("patch vectors are not laid out (p, q, c)")
	}
	back := c.Unpatchify(patches)
	for i := range images {
		if back[i] != images[i] {
			t.Fatalf("Unpatchify(Patchify(x)) differs at %d", i)
		}
	}
}

func TestEncoderAndLayers(t *testing.T) {
	for _, c := range []Config{tiny(ArchCRATE, MaskingReleased), tiny(ArchViT, MaskingVisible)} {
		m, _ := New(c, 2)
		enc, err := m.NewEncoder(2)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := randomBatch(c, 2, 1)
		b, _ := randomBatch(c, 2, 2)
		copy(b[:len(b)/2], a[:len(a)/2]) // the same first image
		fa, err := enc.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		fb, _ := enc.Encode(b)
		per := len(fa) / 2
		if want := (1 + c.NumPatches()) * c.EmbedDim; per != want {
			t.Fatalf("%s: %d features per image, want %d", c.Arch, per, want)
		}
		for i := 0; i < per; i++ {
			if fa[i] != fb[i] {
				t.Fatalf("%s: an image's features depend on the rest of the batch", c.Arch)
			}
		}
		g, _ := m.NewGraph(2, 0.5, false)
		images, noise := randomBatch(c, 2, 3)
		if _, err := g.Run(images, noise); err != nil {
			t.Fatal(err)
		}
		layers := g.Layers()
		if len(layers) != c.Depth+c.DecoderDepth || layers[c.Depth].Decoder != true || layers[c.Depth].Index != 0 {
			t.Fatalf("%s: layers %d, want encoder %d then decoder %d", c.Arch, len(layers), c.Depth, c.DecoderDepth)
		}
		for _, l := range layers {
			if len(l.Subspaces) != l.Width*l.Width || len(l.Tokens)%l.Width != 0 || len(l.Sparse) == 0 {
				t.Errorf("%s layer %d: subspaces %d, tokens %d, width %d", c.Arch, l.Index, len(l.Subspaces), len(l.Tokens), l.Width)
			}
		}
		if c.Arch == ArchCRATE {
			zeros := 0
			for _, v := range layers[0].Sparse {
				if v == 0 {
					zeros++
				}
			}
			if zeros == 0 {
				t.Error("crate: the ISTA output has no exact zeros")
			}
		}
	}
}
