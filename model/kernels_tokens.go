package model

import (
	"gorgonia.org/tensor"
)

// layout says how a sequence is assembled for each batch element: token j
// of element e is row src[e*n+j] of that element's block of the source
// matrix, or where that is negative the learned token tokenRow(k) names,
// plus row pos[e*n+j] of the position table. The masking sets it anew for
// every batch.
type layout struct {
	n        int // tokens per sequence
	src, pos []int
}

// tokenRow is the layout entry for the k-th learned token of a sequence.
func tokenRow(k int) int { return -1 - k }

// sequence assembles token sequences from a source matrix [b*srcLen, d], a
// fixed position table [posLen, d] and learned tokens [1, d] each (the cls
// and mask tokens), after the layout: y[e, j] = source(e, j) + pos[p(e, j)].
// It is the patch embedding's way into the encoder (cls, kept patches and
// mask tokens in place) and, with visible masking, the encoder's way into
// the decoder (mask tokens put back in place).
type sequence struct {
	b, srcLen, posLen, d, tokens int
	lay                          *layout
}

func (k sequence) name() string { return "Sequence" }

func (k sequence) diff() []bool {
	d := []bool{true, false}
	for range k.tokens {
		d = append(d, true)
	}
	return d
}

func (k sequence) outShape(in []tensor.Shape) (tensor.Shape, error) {
	want := []tensor.Shape{{k.b * k.srcLen, k.d}, {k.posLen, k.d}}
	for range k.tokens {
		want = append(want, tensor.Shape{1, k.d})
	}
	return tensor.Shape{k.b * k.lay.n, k.d}, expectShapes(in, want...)
}

// rowOf returns the d-wide row that token (e, j) copies, from src or from
// the learned tokens.
func (k sequence) rowOf(e, j int, src []float32, tokens [][]float32) []float32 {
	s := k.lay.src[e*k.lay.n+j]
	if s < 0 {
		return tokens[-1-s]
	}
	r := e*k.srcLen + s
	return src[r*k.d : (r+1)*k.d]
}

func (k sequence) forward(y []float32, in [][]float32) {
	src, pos, tokens := in[0], in[1], in[2:]
	for e := 0; e < k.b; e++ {
		for j := 0; j < k.lay.n; j++ {
			r := e*k.lay.n + j
			yr, p := y[r*k.d:(r+1)*k.d], k.lay.pos[r]
			pr := pos[p*k.d : (p+1)*k.d]
			for c, v := range k.rowOf(e, j, src, tokens) {
				yr[c] = v + pr[c]
			}
		}
	}
}

// backward routes each token's gradient back to its source row or token.
func (k sequence) backward(din [][]float32, _ [][]float32, _, dy []float32) {
	clear(din[0])
	for _, g := range din[2:] {
		clear(g)
	}
	for e := 0; e < k.b; e++ {
		for j := 0; j < k.lay.n; j++ {
			r := e*k.lay.n + j
			g := k.rowOf(e, j, din[0], din[2:])
			for c, v := range dy[r*k.d : (r+1)*k.d] {
				g[c] += v
			}
		}
	}
}

// maskedMSE is the MAE loss: the mean over pixels of (pred - target)², per
// patch, averaged over the removed patches. pred [b*(1+l), p] holds a cls
// row before each element's l patches, which the loss skips; target
// [b*l, p] is already standardised for norm_pix_loss; removed[e*l+i] is 1
// on removed patches.
type maskedMSE struct {
	b, l, p int
	removed []float32
}

func (k maskedMSE) name() string { return "MaskedMSE" }
func (k maskedMSE) diff() []bool { return []bool{true, false} }

func (k maskedMSE) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{1}, expectShapes(in, tensor.Shape{k.b * (1 + k.l), k.p}, tensor.Shape{k.b * k.l, k.p})
}

// predRow returns the prediction for patch i of element e.
func (k maskedMSE) predRow(pred []float32, e, i int) []float32 {
	r := e*(1+k.l) + 1 + i
	return pred[r*k.p : (r+1)*k.p]
}

func (k maskedMSE) removedCount() float64 {
	var n float64
	for _, m := range k.removed {
		n += float64(m)
	}
	return n
}

func (k maskedMSE) forward(y []float32, in [][]float32) {
	pred, target := in[0], in[1]
	var total float64
	for e := 0; e < k.b; e++ {
		for i := 0; i < k.l; i++ {
			m := k.removed[e*k.l+i]
			if m == 0 {
				continue
			}
			pr, tr := k.predRow(pred, e, i), target[(e*k.l+i)*k.p:(e*k.l+i+1)*k.p]
			var s float64
			for c := range pr {
				d := float64(pr[c] - tr[c])
				s += d * d
			}
			total += float64(m) * s / float64(k.p)
		}
	}
	y[0] = float32(total / k.removedCount())
}

// backward: dpred = dy · 2 (pred - target) m / (p Σm) on patch rows, 0 on cls.
func (k maskedMSE) backward(din [][]float32, in [][]float32, _, dy []float32) {
	pred, target, dpred := in[0], in[1], din[0]
	clear(dpred)
	scale := dy[0] * float32(2/(float64(k.p)*k.removedCount()))
	for e := 0; e < k.b; e++ {
		for i := 0; i < k.l; i++ {
			m := k.removed[e*k.l+i]
			if m == 0 {
				continue
			}
			pr, tr, dr := k.predRow(pred, e, i), target[(e*k.l+i)*k.p:(e*k.l+i+1)*k.p], k.predRow(dpred, e, i)
			for c := range pr {
				dr[c] = scale * m * (pr[c] - tr[c])
			}
		}
	}
}
