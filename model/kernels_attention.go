package model

import (
	"math"

	"gorgonia.org/tensor"

	"harness/internal/parallel"
)

// attentionDims are the shapes shared by the two attention kernels: batch
// b of sequences of t tokens, with h heads of width hd each.
type attentionDims struct{ b, t, h, hd int }

func (a attentionDims) width() int { return a.h * a.hd }

// scale is 1/sqrt(head width).
func (a attentionDims) scale() float32 { return float32(1 / math.Sqrt(float64(a.hd))) }

// attention computes, for every sequence and head, O = softmax(Q Kᵀ/√hd) V
// from a token matrix holding q, k and v column blocks. It is the core of
// both the ViT block (q, k, v distinct) and MSSA (q = k = v = w, one
// subspace projection per head). probs keeps the attention maps of the last
// forward pass for the backward pass.
type attention struct {
	attentionDims
	// ld is the row stride of the input; q, k, v are the column offsets of
	// the blocks, head i's columns starting i*hd further in.
	ld, q, k, v int
	label       string
	probs       []float32
}

// newMSSA makes the attention core of multi-head subspace self-attention on
// w [b*t, h*hd]: head i is softmax(wᵢ wᵢᵀ/√hd) wᵢ.
func newMSSA(d attentionDims) *attention {
	return &attention{attentionDims: d, ld: d.width(), label: "MSSA"}
}

// newSelfAttention makes the ViT attention core on qkv [b*t, 3*h*hd], laid
// out as PyTorch's reshape(b, t, 3, h, hd).
func newSelfAttention(d attentionDims) *attention {
	w := d.width()
	return &attention{attentionDims: d, ld: 3 * w, k: w, v: 2 * w, label: "SelfAttention"}
}

func (k *attention) name() string { return k.label }
func (k *attention) diff() []bool { return []bool{true} }

func (k *attention) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{k.b * k.t, k.width()}, expectShapes(in, tensor.Shape{k.b * k.t, k.ld})
}

// head returns the offsets of sequence s, head i in the input and output.
func (k *attention) head(s, i int) (in, out int) {
	return s*k.t*k.ld + i*k.hd, s*k.t*k.width() + i*k.hd
}

func (k *attention) forward(o []float32, in [][]float32) {
	x := in[0]
	tt := k.t * k.t
	if len(k.probs) != k.b*k.h*tt {
		k.probs = make([]float32, k.b*k.h*tt)
	}
	parallel.For(k.b*k.h, func(lo, hi int) {
		for sh := lo; sh < hi; sh++ {
			s, i := sh/k.h, sh%k.h
			a := k.probs[sh*tt : (sh+1)*tt]
			xo, oo := k.head(s, i)
			gemmStrided(false, true, k.t, k.t, k.hd, k.scale(), x[xo+k.q:], k.ld, x[xo+k.k:], k.ld, 0, a, k.t)
			softmaxRows(a, k.t)
			gemmStrided(false, false, k.t, k.hd, k.t, 1, a, k.t, x[xo+k.v:], k.ld, 0, o[oo:], k.width())
		}
	})
}

// backward, per head with A the attention map and S its logits:
// dV = Aᵀ dO, dA = dO Vᵀ, dS = A∘(dA - rowsum(dA∘A)), dQ = dS K/√hd,
// dK = dSᵀ Q/√hd; for MSSA the three land on the same columns and add up,
// dQ + dK = (dS + dSᵀ) W/√hd in one product.
func (k *attention) backward(din [][]float32, in [][]float32, _, do []float32) {
	x, dx := in[0], din[0]
	clear(dx)
	tt := k.t * k.t
	shared := k.q == k.k && k.k == k.v
	parallel.For(k.b*k.h, func(lo, hi int) {
		da := make([]float32, tt)
		for sh := lo; sh < hi; sh++ {
			s, i := sh/k.h, sh%k.h
			a := k.probs[sh*tt : (sh+1)*tt]
			xo, oo := k.head(s, i)
			gemmStrided(true, false, k.t, k.hd, k.t, 1, a, k.t, do[oo:], k.width(), 1, dx[xo+k.v:], k.ld)
			gemmStrided(false, true, k.t, k.t, k.hd, 1, do[oo:], k.width(), x[xo+k.v:], k.ld, 0, da, k.t)
			softmaxBackward(da, a, k.t)
			if shared {
				addTranspose(da, k.t)
				gemmStrided(false, false, k.t, k.hd, k.t, k.scale(), da, k.t, x[xo:], k.ld, 1, dx[xo:], k.ld)
				continue
			}
			gemmStrided(false, false, k.t, k.hd, k.t, k.scale(), da, k.t, x[xo+k.k:], k.ld, 1, dx[xo+k.q:], k.ld)
			gemmStrided(true, false, k.t, k.hd, k.t, k.scale(), da, k.t, x[xo+k.q:], k.ld, 1, dx[xo+k.k:], k.ld)
		}
	})
}

// addTranspose replaces the t×t matrix s by s + sᵀ.
func addTranspose(s []float32, t int) {
	for i := 0; i < t; i++ {
		for j := i; j < t; j++ {
			v := s[i*t+j] + s[j*t+i]
			s[i*t+j], s[j*t+i] = v, v
		}
	}
}
