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

// Linear: y = x Wᵀ + b, with x [rows, in], W [out, in] and, when bias is
// set, b [out].
type Linear struct {
	Rows, In, Out int
	Bias          bool
}

func (k Linear) Name() string { return "Linear" }

func (k Linear) diff() []bool {
	if k.Bias {
		return []bool{true, true, true}
	}
	return []bool{true, true}
}

func (k Linear) outShape(in []tensor.Shape) (tensor.Shape, error) {
	want := []tensor.Shape{{k.Rows, k.In}, {k.Out, k.In}}
	if k.Bias {
		want = append(want, tensor.Shape{k.Out})
	}
	return tensor.Shape{k.Rows, k.Out}, expectShapes(in, want...)
}

func (k Linear) forward(y []float32, in [][]float32) {
	x, w := in[0], in[1]
	beta := float32(0)
	if k.Bias {
		for r := 0; r < k.Rows; r++ {
			copy(y[r*k.Out:(r+1)*k.Out], in[2])
		}
		beta = 1
	}
	gemm(false, true, k.Rows, k.Out, k.In, 1, x, w, beta, y)
}

// backward: dx = dy W, dW = dyᵀ x, db = Σ_rows dy.
func (k Linear) backward(din [][]float32, in [][]float32, _, dy []float32) {
	x, w := in[0], in[1]
	gemm(false, false, k.Rows, k.In, k.Out, 1, dy, w, 0, din[0])
	gemm(true, false, k.Out, k.In, k.Rows, 1, dy, x, 0, din[1])
	if k.Bias {
		sumRows(din[2], dy, k.Rows, k.Out)
	}
}

// LayerNorm: y = (x - mean(x)) / sqrt(var(x) + eps) * γ + β over each row of
// x [rows, width], the variance biased as in PyTorch.
type LayerNorm struct {
	Rows, Width int
	Eps         float32
}

func (k LayerNorm) Name() string { return "LayerNorm" }
func (k LayerNorm) diff() []bool { return []bool{true, true, true} }

func (k LayerNorm) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s := tensor.Shape{k.Rows, k.Width}
	return s, expectShapes(in, s, tensor.Shape{k.Width}, tensor.Shape{k.Width})
}

func (k LayerNorm) forward(y []float32, in [][]float32) {
	x, g, b := in[0], in[1], in[2]
	w := k.Width
	parallel.For(k.Rows, func(lo, hi int) {
		layerNormRows(y[lo*w:hi*w], x[lo*w:hi*w], g, b, w, k.Eps)
	})
}

// layerNormChunk is the number of rows whose contributions to dγ and dβ the
// backward pass sums apart, before adding the chunks' sums in order: the
// same bits however many processors share the chunks.
const layerNormChunk = 32

// backward, with x̂ the normalised row and g = dy·γ:
// dx = rstd (g - mean(g) - x̂ mean(g x̂)), dγ = Σ dy x̂, dβ = Σ dy.
func (k LayerNorm) backward(din [][]float32, in [][]float32, _, dy []float32) {
	x, gamma := in[0], in[1]
	dx, dg, db := din[0], din[1], din[2]
	w, chunks := k.Width, (k.Rows+layerNormChunk-1)/layerNormChunk
	partial := takeFloats(2 * w * chunks) // per chunk: Σ dy x̂, then Σ dy
	defer giveFloats(partial)
	parallel.Chunks(k.Rows, layerNormChunk, func(lo, hi int) {
		c := lo / layerNormChunk
		pg, pb := partial[2*c*w:(2*c+1)*w], partial[(2*c+1)*w:(2*c+2)*w]
		clear(pg)
		clear(pb)
		layerNormGradRows(dx[lo*w:hi*w], pg, pb, x[lo*w:hi*w], dy[lo*w:hi*w], gamma, w, k.Eps)
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

// GELU: y = x Φ(x), the exact (erf) GELU, elementwise on [rows, width].
type GELU struct{ Rows, Width int }

func (k GELU) Name() string { return "GELU" }
func (k GELU) diff() []bool { return []bool{true} }

func (k GELU) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s := tensor.Shape{k.Rows, k.Width}
	return s, expectShapes(in, s)
}

func (k GELU) forward(y []float32, in [][]float32) {
	x := in[0]
	parallel.For(len(x), func(lo, hi int) { geluSlice(y[lo:hi], x[lo:hi]) })
}

// backward: dx = dy (Φ(x) + x φ(x)).
func (k GELU) backward(din [][]float32, in [][]float32, _, dy []float32) {
	x, dx := in[0], din[0]
	parallel.For(len(x), func(lo, hi int) { geluGradSlice(dx[lo:hi], dy[lo:hi], x[lo:hi]) })
}

// ISTA is one proximal-gradient step of CRATE's sparse coding, on x [rows, d]
// with the block's dictionary W [d, d]:
// y = relu(x + η(x W - x Wᵀ W) - ηλ) = relu(x + η x M - ηλ), M = W - WᵀW.
type ISTA struct {
	Rows, D     int
	Eta, Lambda float32
}

func (k ISTA) Name() string { return "ISTA" }
func (k ISTA) diff() []bool { return []bool{true, true} }

func (k ISTA) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s := tensor.Shape{k.Rows, k.D}
	return s, expectShapes(in, s, tensor.Shape{k.D, k.D})
}

// m returns M = W - WᵀW, in a pooled buffer to give back.
func (k ISTA) m(w []float32) []float32 {
	m := takeFloats(len(w))
	copy(m, w)
	gemm(true, false, k.D, k.D, k.D, -1, w, w, 1, m)
	return m
}

func (k ISTA) forward(y []float32, in [][]float32) {
	x := in[0]
	m := k.m(in[1])
	defer giveFloats(m)
	copy(y, x)
	gemm(false, false, k.Rows, k.D, k.D, k.Eta, x, m, 1, y)
	shift := k.Eta * k.Lambda
	parallel.For(len(y), func(lo, hi int) {
		for i, v := range y[lo:hi] {
			y[lo+i] = max(v-shift, 0)
		}
	})
}

// backward, with g = dy where y > 0: dx = g + η g Mᵀ, and with
// G = η xᵀ g the gradient of M, dW = G - W(G + Gᵀ).
func (k ISTA) backward(din [][]float32, in [][]float32, y, dy []float32) {
	x, w := in[0], in[1]
	dx, dw := din[0], din[1]
	g, m, gm, sym := takeFloats(len(dy)), k.m(w), takeFloats(k.D*k.D), takeFloats(k.D*k.D)
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
	gemm(false, true, k.Rows, k.D, k.D, k.Eta, g, m, 1, dx)
	gemm(true, false, k.D, k.D, k.Rows, k.Eta, x, g, 0, gm)
	for i := 0; i < k.D; i++ {
		for j := 0; j < k.D; j++ {
			sym[i*k.D+j] = gm[i*k.D+j] + gm[j*k.D+i]
		}
	}
	copy(dw, gm)
	gemm(false, false, k.D, k.D, k.D, -1, w, sym, 1, dw)
}
