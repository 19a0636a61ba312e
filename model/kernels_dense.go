package model

import (
	"fmt"

	"gorgonia.org/tensor"

	"harness/internal/parallel"
)

// Kernels acting row by row on token matrices [rows, width]: every
// activation of the model is such a matrix, its batch and sequence axes
// flattened into rows. A kernel knows its dimensions when it is made and
// checks the shapes it is applied to.

// expectShapes checks that the input shapes are the wanted ones.
func expectShapes(in []tensor.Shape, want ...tensor.Shape) error {
	if len(in) != len(want) {
		return fmt.Errorf("want %d inputs, got %d", len(want), len(in))
	}
	for i := range want {
		if !in[i].Eq(want[i]) {
			return fmt.Errorf("input %d has shape %v, want %v", i, in[i], want[i])
		}
	}
	return nil
}

// linear: y = x Wᵀ + b, with x [rows, in], W [out, in] and, when bias is
// set, b [out].
type linear struct {
	rows, in, out int
	bias          bool
}

func (k linear) name() string { return "Linear" }

func (k linear) diff() []bool {
	if k.bias {
		return []bool{true, true, true}
	}
	return []bool{true, true}
}

func (k linear) outShape(in []tensor.Shape) (tensor.Shape, error) {
	want := []tensor.Shape{{k.rows, k.in}, {k.out, k.in}}
	if k.bias {
		want = append(want, tensor.Shape{k.out})
	}
	return tensor.Shape{k.rows, k.out}, expectShapes(in, want...)
}

func (k linear) forward(y []float32, in [][]float32) {
	x, w := in[0], in[1]
	beta := float32(0)
	if k.bias {
		for r := 0; r < k.rows; r++ {
			copy(y[r*k.out:(r+1)*k.out], in[2])
		}
		beta = 1
	}
	gemm(false, true, k.rows, k.out, k.in, 1, x, w, beta, y)
}

// backward: dx = dy W, dW = dyᵀ x, db = Σ_rows dy.
func (k linear) backward(din [][]float32, in [][]float32, _, dy []float32) {
	x, w := in[0], in[1]
	gemm(false, false, k.rows, k.in, k.out, 1, dy, w, 0, din[0])
	gemm(true, false, k.out, k.in, k.rows, 1, dy, x, 0, din[1])
	if k.bias {
		sumRows(din[2], dy, k.rows, k.out)
	}
}

// layerNorm: y = (x - mean(x)) / sqrt(var(x) + eps) * γ + β over each row of
// x [rows, width], the variance biased as in PyTorch.
type layerNorm struct {
	rows, width int
	eps         float32
}

func (k layerNorm) name() string { return "LayerNorm" }
func (k layerNorm) diff() []bool { return []bool{true, true, true} }

func (k layerNorm) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s := tensor.Shape{k.rows, k.width}
	return s, expectShapes(in, s, tensor.Shape{k.width}, tensor.Shape{k.width})
}

func (k layerNorm) forward(y []float32, in [][]float32) {
	x, g, b := in[0], in[1], in[2]
	w := k.width
	parallel.For(k.rows, func(lo, hi int) {
		layerNormRows(y[lo*w:hi*w], x[lo*w:hi*w], g, b, w, k.eps)
	})
}

// layerNormChunk is the number of rows whose contributions to dγ and dβ the
// backward pass sums apart, before adding the chunks' sums in order: the
// same bits however many processors share the chunks.
const layerNormChunk = 32

// backward, with x̂ the normalised row and g = dy·γ:
// dx = rstd (g - mean(g) - x̂ mean(g x̂)), dγ = Σ dy x̂, dβ = Σ dy.
func (k layerNorm) backward(din [][]float32, in [][]float32, _, dy []float32) {
	x, gamma := in[0], in[1]
	dx, dg, db := din[0], din[1], din[2]
	w, chunks := k.width, (k.rows+layerNormChunk-1)/layerNormChunk
	partial := takeFloats(2 * w * chunks) // per chunk: Σ dy x̂, then Σ dy
	defer giveFloats(partial)
	parallel.Chunks(k.rows, layerNormChunk, func(lo, hi int) {
		c := lo / layerNormChunk
		pg, pb := partial[2*c*w:(2*c+1)*w], partial[(2*c+1)*w:(2*c+2)*w]
		clear(pg)
		clear(pb)
		layerNormGradRows(dx[lo*w:hi*w], pg, pb, x[lo*w:hi*w], dy[lo*w:hi*w], gamma, w, k.eps)
	})
	clear(dg)
	clear(db)
	for c := 0; c < chunks; c++ {
		for j, v := range partial[2*c*w : (2*c+1)*w] {
			dg[j] += v
		}
		for j, v := range partial[(2*c+1)*w : (2*c+2)*w] {
			db[j] += v
		}
	}
}

// gelu: y = x Φ(x), the exact (erf) GELU, elementwise on [rows, width].
type gelu struct{ rows, width int }

func (k gelu) name() string { return "GELU" }
func (k gelu) diff() []bool { return []bool{true} }

func (k gelu) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s := tensor.Shape{k.rows, k.width}
	return s, expectShapes(in, s)
}

func (k gelu) forward(y []float32, in [][]float32) {
	x := in[0]
	parallel.For(len(x), func(lo, hi int) { geluSlice(y[lo:hi], x[lo:hi]) })
}

// backward: dx = dy (Φ(x) + x φ(x)).
func (k gelu) backward(din [][]float32, in [][]float32, _, dy []float32) {
	x, dx := in[0], din[0]
	parallel.For(len(x), func(lo, hi int) { geluGradSlice(dx[lo:hi], dy[lo:hi], x[lo:hi]) })
}

// ista is one proximal-gradient step of CRATE's sparse coding, on x [rows, d]
// with the block's dictionary W [d, d]:
// y = relu(x + η(x W - x Wᵀ W) - ηλ) = relu(x + η x M - ηλ), M = W - WᵀW.
type ista struct {
	rows, d     int
	eta, lambda float32
}

func (k ista) name() string { return "ISTA" }
func (k ista) diff() []bool { return []bool{true, true} }

func (k ista) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s := tensor.Shape{k.rows, k.d}
	return s, expectShapes(in, s, tensor.Shape{k.d, k.d})
}

// m returns M = W - WᵀW, in a pooled buffer to give back.
func (k ista) m(w []float32) []float32 {
	m := takeFloats(len(w))
	copy(m, w)
	gemm(true, false, k.d, k.d, k.d, -1, w, w, 1, m)
	return m
}

func (k ista) forward(y []float32, in [][]float32) {
	x := in[0]
	m := k.m(in[1])
	defer giveFloats(m)
	copy(y, x)
	gemm(false, false, k.rows, k.d, k.d, k.eta, x, m, 1, y)
	shift := k.eta * k.lambda
	parallel.For(len(y), func(lo, hi int) {
		for i, v := range y[lo:hi] {
			y[lo+i] = max(v-shift, 0)
		}
	})
}

// backward, with g = dy where y > 0: dx = g + η g Mᵀ, and with
// G = η xᵀ g the gradient of M, dW = G - W(G + Gᵀ).
func (k ista) backward(din [][]float32, in [][]float32, y, dy []float32) {
	x, w := in[0], in[1]
	dx, dw := din[0], din[1]
	g, m, gm, sym := takeFloats(len(dy)), k.m(w), takeFloats(k.d*k.d), takeFloats(k.d*k.d)
	defer func() { giveFloats(g); giveFloats(m); giveFloats(gm); giveFloats(sym) }()
	parallel.For(len(y), func(lo, hi int) {
		for i, v := range y[lo:hi] {
			g[lo+i] = 0
			if v > 0 {
				g[lo+i] = dy[lo+i]
			}
		}
	})
	copy(dx, g)
	gemm(false, true, k.rows, k.d, k.d, k.eta, g, m, 1, dx)
	gemm(true, false, k.d, k.d, k.rows, k.eta, x, g, 0, gm)
	for i := 0; i < k.d; i++ {
		for j := 0; j < k.d; j++ {
			sym[i*k.d+j] = gm[i*k.d+j] + gm[j*k.d+i]
		}
	}
	copy(dw, gm)
	gemm(false, false, k.d, k.d, k.d, -1, w, sym, 1, dw)
}
