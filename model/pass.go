package model

import (
	"fmt"
	"math"
	"sort"

	G "gorgonia.org/gorgonia"
)

// Run computes one batch: images [batch, C, H, W] and noise [batch, L], the
// masking noise whose argsort decides which patches are kept (the first
// int(L·(1-ratio)) of it). A training graph also computes the gradients.
func (gr *Graph) Run(images, noise []float32) (Output, error) {
	if gr.encoderOnly {
		return Output{}, fmt.Errorf("Run on an encoder graph: use Encode")
	}
	c := gr.m.Config
	l, b := c.NumPatches(), gr.batch
	if err := gr.run(images, noise); err != nil {
		return Output{}, err
	}
	out := Output{
		Loss: gr.loss.Value().Data().(float32),
		Pred: make([]float32, b*l*c.PatchDim()),
		Mask: append([]float32(nil), floats(gr.mask.Value())...),
	}
	pred, p := floats(gr.pred.Value()), c.PatchDim()
	for e := 0; e < b; e++ {
		copy(out.Pred[e*l*p:(e+1)*l*p], pred[(e*(1+l)+1)*p:(e+1)*(1+l)*p])
	}
	return out, nil
}

// run feeds the batch and runs the graph on the tape machine.
func (gr *Graph) run(images, noise []float32) error {
	if err := gr.feed(images, noise); err != nil {
		return err
	}
	gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return fmt.Errorf("running the %s graph: %w", gr.m.Config.Arch, err)
	}
	return nil
}

// feed checks the batch and writes the graph's inputs from it: the
// patches, the loss targets and randomMasking's mask and layouts.
func (gr *Graph) feed(images, noise []float32) error {
	c := gr.m.Config
	l, b := c.NumPatches(), gr.batch
	if want := b * c.InChans * c.ImgSize * c.ImgSize; len(images) != want {
		return fmt.Errorf("images: %d values, want %d (batch %d × %d × %d × %d)", len(images), want, b, c.InChans, c.ImgSize, c.ImgSize)
	}
	if len(noise) != b*l {
		return fmt.Errorf("noise: %d values, want %d (batch %d × %d patches)", len(noise), b*l, b, l)
	}
	patchify(c, images, floats(gr.patches.Value()), true)
	if !gr.encoderOnly {
		target := floats(gr.target.Value())
		patchify(c, images, target, false)
		if c.NormPixLoss {
			standardise(target, c.PatchDim())
		}
	}
	gr.randomMasking(noise)
	return nil
}

// Encode runs an encoder graph (NewEncoder) on images [batch, C, H, W] and
// returns the encoder's output after its final norm, [batch, 1+L, width]:
// the cls token, then the patches in row-major order.
func (gr *Graph) Encode(images []float32) ([]float32, error) {
	if !gr.encoderOnly {
		return nil, fmt.Errorf("Encode on a masked-autoencoder graph: use NewEncoder")
	}
	l := gr.m.Config.NumPatches()
	noise := make([]float32, gr.batch*l) // ascending noise keeps every patch in place
	for i := range noise {
		noise[i] = float32(i % l)
	}
	if err := gr.run(images, noise); err != nil {
		return nil, err
	}
	return append([]float32(nil), floats(gr.features.Value())...), nil
}

// Layer is what the layer-wise measurements read of one block after a Run.
type Layer struct {
	Decoder bool
	Index   int       // within the encoder or the decoder
	Tokens  []float32 // the block's output, [batch·tokens, Width]
	Width   int
	Heads   int
	// Subspaces holds the bases Uₕ of the block's attention, [Width, Width]
	// row-major, head h owning rows h·Width/Heads onwards: the MSSA
	// projection for CRATE, the value rows of qkv for MAE.
	Subspaces []float32
	// Sparse is what sparsity is measured on: the block's output for CRATE
	// (the ISTA output in the encoder), the MLP activations for MAE.
	Sparse []float32
}

// Layers returns every block's measurements of the last Run, encoder then
// decoder; the slices are the graph's own and change with the next Run.
func (gr *Graph) Layers() []Layer {
	c := gr.m.Config
	var out []Layer
	enc, dec := 0, 0
	for _, ln := range gr.layers {
		l := Layer{Decoder: ln.decoder, Index: enc, Heads: c.NumHeads, Tokens: floats(ln.out.Value())}
		if ln.decoder {
			l.Index, l.Heads = dec, c.DecoderNumHeads
			dec++
		} else {
			enc++
		}
		l.Width = ln.out.Shape()[1]
		u := gr.m.byName[ln.subspaces].Value
		l.Subspaces = u[ln.offset*l.Width : (ln.offset+l.Width)*l.Width]
		l.Sparse = l.Tokens
		if ln.hidden != nil {
			l.Sparse = floats(ln.hidden.Value())
		}
		out = append(out, l)
	}
	return out
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

// randomMasking draws the batch's masking from noise as models_mae.py's
// random_masking does, per element: idsShuffle = argsort(noise), the
// patches of the keep smallest noise values kept; idsRestore =
// argsort(idsShuffle), each patch's place in that order; mask = 1 where
// idsRestore ≥ keep. It writes the graph's inputs mask and layouts, which
// place the cls token, the kept patches and the mask tokens.
func (gr *Graph) randomMasking(noise []float32) {
	l, keep := gr.m.Config.NumPatches(), gr.keep
	idsShuffle, idsRestore := make([]int, l), make([]int, l)
	mask := floats(gr.mask.Value())
	enc, dec := gr.layout(gr.encLayout), gr.layout(gr.decLayout)
	for e := 0; e < gr.batch; e++ {
		row := noise[e*l : (e+1)*l]
		for i := range idsShuffle {
			idsShuffle[i] = i
		}
		sort.SliceStable(idsShuffle, func(i, j int) bool { return row[idsShuffle[i]] < row[idsShuffle[j]] })
		for k, i := range idsShuffle {
			idsRestore[i] = k
		}
		for i, k := range idsRestore {
			mask[e*l+i] = 0
			if k >= keep {
				mask[e*l+i] = 1
			}
		}
		enc.set(e, 0, tokenRow(0), 0) // cls
		if dec.rows == nil {
			// released: every place filled, by its patch or the mask token
			for i, k := range idsRestore {
				src := i
				if k >= keep {
					src = tokenRow(1)
				}
				enc.set(e, 1+i, src, 1+i)
			}
			continue
		}
		// visible: the kept patches in noise order (idsKeep), then in the
		// decoder every place filled by its encoded patch or the mask token
		for k, i := range idsShuffle[:keep] {
			enc.set(e, 1+k, i, 1+i)
		}
		dec.set(e, 0, 0, 0)
		for i, k := range idsRestore {
			src := 1 + k
			if k >= keep {
				src = tokenRow(0) // the decoder's only learned token: mask
			}
			dec.set(e, 1+i, src, 1+i)
		}
	}
}

// layout returns the layout a layout input holds; none for nil.
func (gr *Graph) layout(n *G.Node) layout {
	if n == nil {
		return layout{}
	}
	return layout{n: gr.rows(n) / gr.batch, rows: floats(n.Value())}
}

// standardise replaces each n-vector of v by (v - mean)/std, PatchStats'
// mean and std, as norm_pix_loss does to the target patches.
func standardise(v []float32, n int) {
	for r := 0; r+n <= len(v); r += n {
		row := v[r : r+n]
		mean, std := PatchStats(row)
		for j, x := range row {
			row[j] = float32((float64(x) - mean) / std)
		}
	}
}

// PatchStats returns a patch's mean and standard deviation as
// norm_pix_loss takes them: the variance unbiased, plus 1e-6.
func PatchStats(patch []float32) (mean, std float64) {
	var s float64
	for _, x := range patch {
		s += float64(x)
	}
	mean = s / float64(len(patch))
	var ss float64
	for _, x := range patch {
		ss += (float64(x) - mean) * (float64(x) - mean)
	}
	return mean, math.Sqrt(ss/float64(len(patch)-1) + 1e-6)
}
