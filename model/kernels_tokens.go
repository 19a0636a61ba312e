package model

import (
	"gorgonia.org/tensor"
)

// A layout says how a sequence is assembled for each batch element, as a
// [b·n, 2] matrix of (src, pos) pairs: token j of element e is row src of
// that element's block of the source matrix, or where src is negative the
// learned token tokenRow(k) names, plus row pos of the position table. It is
// an input of the graph, which randomMasking writes anew for every batch;
// its integers are exact in float32.
type layout struct {
	n    int       // tokens per sequence
	rows []float32 // [b·n, 2]
}

// tokenRow is the layout entry for the k-th learned token of a sequence.
func tokenRow(k int) int { return -1 - k }

// set makes token j of element e row src of its source, plus row pos of
// the position table.
func (lay layout) set(e, j, src, pos int) {
	r := e*lay.n + j
	lay.rows[2*r], lay.rows[2*r+1] = float32(src), float32(pos)
}

// Sequence assembles token sequences from a source matrix [B·SrcLen, D], a
// fixed position table [PosLen, D], a layout [B·N, 2] and learned tokens
// [1, D] each (the cls and mask tokens): y[e, j] = source(e, j) + pos[p(e, j)].
// It is the patch embedding's way into the encoder (cls, kept patches and
// mask tokens in place) and, with visible masking, the encoder's way into
// the decoder (mask tokens put back in place).
type Sequence struct {
	B, SrcLen, PosLen, D, Tokens int
	N                            int // tokens per sequence
}

func (k Sequence) Name() string { return "Sequence" }

func (k Sequence) diff() []bool {
	d := []bool{true, false, false}
	for range k.Tokens {
		d = append(d, true)
	}
	return d
}

func (k Sequence) outShape(in []tensor.Shape) (tensor.Shape, error) {
	want := []tensor.Shape{{k.B * k.SrcLen, k.D}, {k.PosLen, k.D}, {k.B * k.N, 2}}
	for range k.Tokens {
		want = append(want, tensor.Shape{1, k.D})
	}
	return tensor.Shape{k.B * k.N, k.D}, expectShapes(in, want...)
}

// rowOf returns the D-wide row that token r = (e, j) copies after the
// layout lay, from src or from the learned tokens.
func (k Sequence) rowOf(r int, lay, src []float32, tokens [][]float32) []float32 {
	s := int(lay[2*r])
	if s < 0 {
		return tokens[-1-s]
	}
	row := r/k.N*k.SrcLen + s
	return src[row*k.D : (row+1)*k.D]
}

func (k Sequence) forward(y []float32, in [][]float32) {
	src, pos, lay, tokens := in[0], in[1], in[2], in[3:]
	for r := 0; r < k.B*k.N; r++ {
		yr, p := y[r*k.D:(r+1)*k.D], int(lay[2*r+1])
		pr := pos[p*k.D : (p+1)*k.D]
		for c, v := range k.rowOf(r, lay, src, tokens) {
			yr[c] = v + pr[c]
		}
	}
}

// backward routes each token's gradient back to its source row or token.
func (k Sequence) backward(din [][]float32, in [][]float32, _, dy []float32) {
	lay := in[2]
	clear(din[0])
	for _, g := range din[3:] {
		clear(g)
	}
	for r := 0; r < k.B*k.N; r++ {
		g := k.rowOf(r, lay, din[0], din[3:])
		for c, v := range dy[r*k.D : (r+1)*k.D] {
			g[c] += v
		}
	}
}

// MaskedMSE is the MAE loss: the mean over pixels of (pred - target)², per
// patch, averaged over the removed patches. pred [B·(1+L), P] holds a cls
// row before each element's L patches, which the loss skips; target
// [B·L, P] is already standardised for norm_pix_loss; mask [B, L] is 1 on
// removed patches, an input of the graph that randomMasking writes.
type MaskedMSE struct{ B, L, P int }

func (k MaskedMSE) Name() string { return "MaskedMSE" }
func (k MaskedMSE) diff() []bool { return []bool{true, false, false} }

func (k MaskedMSE) outShape(in []tensor.Shape) (tensor.Shape, error) {
	return tensor.Shape{1}, expectShapes(in, tensor.Shape{k.B * (1 + k.L), k.P}, tensor.Shape{k.B * k.L, k.P}, tensor.Shape{k.B, k.L})
}

// predRow returns the prediction for patch i of element e.
func (k MaskedMSE) predRow(pred []float32, e, i int) []float32 {
	r := e*(1+k.L) + 1 + i
	return pred[r*k.P : (r+1)*k.P]
}

// removedCount is Σ mask.
func removedCount(mask []float32) float64 {
	var n float64
	for _, m := range mask {
		n += float64(m)
	}
	return n
}

func (k MaskedMSE) forward(y []float32, in [][]float32) {
	pred, target, mask := in[0], in[1], in[2]
	var total float64
	for e := 0; e < k.B; e++ {
		for i := 0; i < k.L; i++ {
			m := mask[e*k.L+i]
			if m == 0 {
				continue
			}
			pr, tr := k.predRow(pred, e, i), target[(e*k.L+i)*k.P:(e*k.L+i+1)*k.P]
			var s float64
			for c := range pr {
				d := float64(pr[c] - tr[c])
				s += d * d
			}
			total += float64(m) * s / float64(k.P)
		}
	}
	y[0] = float32(total / removedCount(mask))
}

// backward: dpred = dy · 2 (pred - target) m / (p Σm) on patch rows, 0 on cls.
func (k MaskedMSE) backward(din [][]float32, in [][]float32, _, dy []float32) {
	pred, target, mask, dpred := in[0], in[1], in[2], din[0]
	clear(dpred)
	scale := dy[0] * float32(2/(float64(k.P)*removedCount(mask)))
	for e := 0; e < k.B; e++ {
		for i := 0; i < k.L; i++ {
			m := mask[e*k.L+i]
			if m == 0 {
				continue
			}
			pr, tr, dr := k.predRow(pred, e, i), target[(e*k.L+i)*k.P:(e*k.L+i+1)*k.P], k.predRow(dpred, e, i)
			for c := range pr {
				dr[c] = scale * m * (pr[c] - tr[c])
			}
		}
	}
}
