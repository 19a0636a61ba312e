package model

import (
	"math"

	"gorgonia.org/tensor"

	"harness/internal/parallel"
)

// AttentionDims are the shapes shared by the two attention kernels: batch
// B of sequences of T tokens, with H heads of width HD each.
type AttentionDims struct{ B, T, H, HD int }

func (a AttentionDims) width() int { return a.H * a.HD }

// scale is 1/sqrt(head width).
func (a AttentionDims) scale() float32 { return float32(1 / math.Sqrt(float64(a.HD))) }

// Attention computes, for every sequence and head, O = softmax(Q Kᵀ/√hd) V
// from a token matrix holding q, k and v column blocks. It is the core of
// both the ViT block (q, k, v distinct) and MSSA (q = k = v = w, one
// subspace projection per head). probs keeps the attention maps of the last
// forward pass for the backward pass.
type Attention struct {
	AttentionDims
	// LD is the row stride of the input; Q, K, V are the column offsets of
	// the blocks, head i's columns starting i·HD further in.
	LD, Q, K, V int
	label       string
	probs       []float32
}

// newMSSA makes the attention core of multi-head subspace self-attention on
// w [b*t, h*hd]: head i is softmax(wᵢ wᵢᵀ/√hd) wᵢ.
func newMSSA(d AttentionDims) *Attention {
	return &Attention{AttentionDims: d, LD: d.width(), label: "MSSA"}
}

// newSelfAttention makes the ViT attention core on qkv [b*t, 3*h*hd], laid
// out as PyTorch's reshape(b, t, 3, h, hd).
func newSelfAttention(d AttentionDims) *Attention {
	w := d.width()
	return &Attention{AttentionDims: d, LD: 3 * w, K: w, V: 2 * w, label: "SelfAttention"}
}

func (k *Attention) Name() string { return k.label }
func (k *Attention) diff() []bool { return []bool{true} }

func (k *Attention) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{k.B * k.T, k.width()}, expectShapes(in, tensor.Shape{k.B * k.T, k.LD})
}

// head returns the offsets of sequence s, head i in the input and output.
func (k *Attention) head(s, i int) (in, out int) {
	return s*k.T*k.LD + i*k.HD, s*k.T*k.width() + i*k.HD
}

func (k *Attention) forward(o []float32, in [][]float32) {
	x := in[0]
	tt := k.T * k.T
	if len(k.probs) != k.B*k.H*tt {
		k.probs = make([]float32, k.B*k.H*tt)
	}
	parallel.For(k.B*k.H, func(lo, hi int) {
		for sh := lo; sh < hi; sh++ {
			s, i := sh/k.H, sh%k.H
			a := k.probs[sh*tt : (sh+1)*tt]
			xo, oo := k.head(s, i)
			gemmStrided(false, true, k.T, k.T, k.HD, k.scale(), x[xo+k.Q:], k.LD, x[xo+k.K:], k.LD, 0, a, k.T)
			softmaxRows(a, k.T)
			gemmStrided(false, false, k.T, k.HD, k.T, 1, a, k.T, x[xo+k.V:], k.LD, 0, o[oo:], k.width())
		}
	})
}

// backward, per head with A the attention map and S its logits:
// dV = Aᵀ dO, dA = dO Vᵀ, dS = A∘(dA - rowsum(dA∘A)), dQ = dS K/√hd,
// dK = dSᵀ Q/√hd; for MSSA the three land on the same columns and add up,
// dQ + dK = (dS + dSᵀ) W/√hd in one product.
func (k *Attention) backward(din [][]float32, in [][]float32, _, do []float32) {
	x, dx := in[0], din[0]
	clear(dx)
	tt := k.T * k.T
	shared := k.Q == k.K && k.K == k.V
	parallel.For(k.B*k.H, func(lo, hi int) {
		da := make([]float32, tt)
		for sh := lo; sh < hi; sh++ {
			s, i := sh/k.H, sh%k.H
			a := k.probs[sh*tt : (sh+1)*tt]
			xo, oo := k.head(s, i)
			gemmStrided(true, false, k.T, k.HD, k.T, 1, a, k.T, do[oo:], k.width(), 1, dx[xo+k.V:], k.LD)
			gemmStrided(false, true, k.T, k.T, k.HD, 1, do[oo:], k.width(), x[xo+k.V:], k.LD, 0, da, k.T)
			softmaxBackward(da, a, k.T)
			if shared {
				addTranspose(da, k.T)
				gemmStrided(false, false, k.T, k.HD, k.T, k.scale(), da, k.T, x[xo:], k.LD, 1, dx[xo:], k.LD)
				continue
			}
			gemmStrided(false, false, k.T, k.HD, k.T, k.scale(), da, k.T, x[xo+k.K:], k.LD, 1, dx[xo+k.Q:], k.LD)
			gemmStrided(true, false, k.T, k.HD, k.T, k.scale(), da, k.T, x[xo+k.Q:], k.LD, 1, dx[xo+k.K:], k.LD)
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
