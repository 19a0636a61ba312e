package model

import (
	"gorgonia.org/tensor"

	"harness/internal/parallel"
)

// Residual: y = a + sign·b on two [rows, width] matrices, the skip
// connections of the ViT block and CRATE's subtractive decoder. As a kernel
// it never overwrites its inputs, so every block's output stays readable
// after a pass (gorgonia's own Add may reuse a dead input's memory).
type Residual struct {
	Rows, Width int
	Sign        float32
}

func (k Residual) Name() string { return "Residual" }
func (k Residual) diff() []bool { return []bool{true, true} }

func (k Residual) outShape(in []tensor.Shape) (tensor.Shape, error) {
	s := tensor.Shape{k.Rows, k.Width}
	return s, expectShapes(in, s, s)
}

func (k Residual) forward(y []float32, in [][]float32) {
	a, b := in[0], in[1]
	parallel.For(len(y), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = a[i] + k.Sign*b[i]
		}
	})
}

// backward: da = dy, db = sign·dy.
func (k Residual) backward(din [][]float32, _ [][]float32, _, dy []float32) {
	parallel.For(len(dy), func(lo, hi int) {
		copy(din[0][lo:hi], dy[lo:hi])
		for i := lo; i < hi; i++ {
			din[1][i] = k.Sign * dy[i]
		}
	})
}
