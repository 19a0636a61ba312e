package model

import (
	"fmt"
	"math"
	"sort"
)

// Run computes one batch: images [batch, C, H, W] and noise [batch, L], the
// masking noise whose argsort decides which patches are kept (the first
// int(L·(1-ratio)) of it). A training graph also computes the gradients.
func (gr *Graph) Run(images, noise []float32) (Output, error) {
	c := gr.m.Config
	l, b := c.NumPatches(), gr.batch
	if want := b * c.InChans * c.ImgSize * c.ImgSize; len(images) != want {
		return Output{}, fmt.Errorf("images: %d values, want %d (batch %d × %d × %d × %d)", len(images), want, b, c.InChans, c.ImgSize, c.ImgSize)
	}
	if len(noise) != b*l {
		return Output{}, fmt.Errorf("noise: %d values, want %d (batch %d × %d patches)", len(noise), b*l, b, l)
	}
	patchify(c, images, floats(gr.patches.Value()), true)
	target := floats(gr.target.Value())
	patchify(c, images, target, false)
	if c.NormPixLoss {
		standardise(target, c.PatchDim())
	}
	gr.mask(noise)
	defer gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return Output{}, fmt.Errorf("running the %s graph: %w", c.Arch, err)
	}
	out := Output{
		Loss: gr.loss.Value().Data().(float32),
		Pred: make([]float32, b*l*c.PatchDim()),
		Mask: append([]float32(nil), gr.removed...),
	}
	pred, p := floats(gr.pred.Value()), c.PatchDim()
	for e := 0; e < b; e++ {
		copy(out.Pred[e*l*p:(e+1)*l*p], pred[(e*(1+l)+1)*p:(e+1)*(1+l)*p])
	}
	return out, nil
}

// Grad returns the gradient of the loss with respect to p after a training
// Run, in p's layout, or nil where the pass does not depend on p.
func (gr *Graph) Grad(p *Param) []float32 {
	n := gr.grads[p]
	if n == nil || n.Value() == nil {
		return nil
	}
	return floats(n.Value())
}

// mask draws the batch's masking from noise: each element keeps the patches
// of its gr.keep smallest noise values, and the layouts place the cls token,
// the kept patches and the mask tokens accordingly.
func (gr *Graph) mask(noise []float32) {
	l := gr.m.Config.NumPatches()
	order, rank := make([]int, l), make([]int, l)
	for e := 0; e < gr.batch; e++ {
		row := noise[e*l : (e+1)*l]
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return row[order[i]] < row[order[j]] })
		for k, i := range order {
			rank[i] = k
			gr.removed[e*l+i] = 0
			if k >= gr.keep {
				gr.removed[e*l+i] = 1
			}
		}
		enc := gr.encLayout
		at := func(lay *layout, j, src, pos int) {
			lay.src[e*lay.n+j], lay.pos[e*lay.n+j] = src, pos
		}
		enc.grow(gr.batch)
		at(enc, 0, tokenRow(0), 0) // cls
		if gr.decLayout == nil {
			// released: every place filled, by its patch or the mask token
			for i := 0; i < l; i++ {
				src := i
				if rank[i] >= gr.keep {
					src = tokenRow(1)
				}
				at(enc, 1+i, src, 1+i)
			}
			continue
		}
		// visible: the kept patches in noise order, then in the decoder every
		// place filled by its encoded patch or the mask token
		dec := gr.decLayout
		dec.grow(gr.batch)
		for k := 0; k < gr.keep; k++ {
			at(enc, 1+k, order[k], 1+order[k])
		}
		at(dec, 0, 0, 0)
		for i := 0; i < l; i++ {
			src := 1 + rank[i]
			if rank[i] >= gr.keep {
				src = tokenRow(0) // the decoder's only learned token: mask
			}
			at(dec, 1+i, src, 1+i)
		}
	}
}

// grow sizes the layout for a batch.
func (lay *layout) grow(batch int) {
	if len(lay.src) != batch*lay.n {
		lay.src, lay.pos = make([]int, batch*lay.n), make([]int, batch*lay.n)
	}
}

// patchify cuts images [b, C, H, W] into patch vectors [b·L, p·p·C], patches
// in row-major order. With convOrder a vector is laid out (c, p, q), as the
// patch-embedding convolution's kernel; otherwise (p, q, c), as the released
// patchify that makes the loss target.
func patchify(c Config, images, out []float32, convOrder bool) {
	p, ch, g, s := c.PatchSize, c.InChans, c.Grid(), c.ImgSize
	b := len(images) / (ch * s * s)
	i := 0
	for e := 0; e < b; e++ {
		img := images[e*ch*s*s : (e+1)*ch*s*s]
		for gh := 0; gh < g; gh++ {
			for gw := 0; gw < g; gw++ {
				for a := 0; a < p*p*ch; a++ {
					var k, y, x int
					if convOrder {
						k, y, x = a/(p*p), a/p%p, a%p
					} else {
						y, x, k = a/(p*ch), a/ch%p, a%ch
					}
					out[i] = img[(k*s+gh*p+y)*s+gw*p+x]
					i++
				}
			}
		}
	}
}

// standardise replaces each n-vector of v by (v - mean)/sqrt(var + 1e-6),
// the variance unbiased, as norm_pix_loss does.
func standardise(v []float32, n int) {
	for r := 0; r+n <= len(v); r += n {
		row := v[r : r+n]
		var s float64
		for _, x := range row {
			s += float64(x)
		}
		mean := s / float64(n)
		var ss float64
		for _, x := range row {
			ss += (float64(x) - mean) * (float64(x) - mean)
		}
		inv := 1 / math.Sqrt(ss/float64(n-1)+1e-6)
		for j, x := range row {
			row[j] = float32((float64(x) - mean) * inv)
		}
	}
}
