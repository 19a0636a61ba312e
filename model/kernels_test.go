package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// checkGradient compares a kernel's backward pass with central finite
// differences of f(in) = Σ out·r for a random r, on up to 24 coordinates of
// every differentiable input.
func checkGradient(t *testing.T, k kernel, shapes []tensor.Shape, fill func(i int, v []float32, rng *rand.Rand)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	outShape, err := k.outShape(shapes)
	if err != nil {
		t.Fatalf("%s: %v", k.name(), err)
	}
	in := make([][]float32, len(shapes))
	for i, s := range shapes {
		in[i] = make([]float32, s.TotalSize())
		fill(i, in[i], rng)
	}
	out := make([]float32, outShape.TotalSize())
	r := make([]float32, len(out))
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	f := func() float64 {
		k.forward(out, in)
		var s float64
		for i, v := range out {
			s += float64(v) * float64(r[i])
		}
		return s
	}
	f()
	din := make([][]float32, len(in))
	for i, d := range k.diff() {
		if d {
			din[i] = make([]float32, len(in[i]))
		}
	}
	k.backward(din, in, append([]float32(nil), out...), r)
	const h = 1e-2
	for i := range in {
		if din[i] == nil {
			continue
		}
		for n := 0; n < 24 && n < len(in[i]); n++ {
			j := rng.IntN(len(in[i]))
			x := in[i][j]
			in[i][j] = x + h
			up := f()
			in[i][j] = x - h
			down := f()
			in[i][j] = x
			num := (up - down) / (2 * h)
			if got := float64(din[i][j]); math.Abs(got-num) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("%s: d/d input %d [%d] = %.5g, finite difference %.5g", k.name(), i, j, got, num)
			}
		}
	}
}

func normalFill(_ int, v []float32, rng *rand.Rand) {
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
}

func TestKernelGradients(t *testing.T) {
	d := attentionDims{b: 2, t: 5, h: 3, hd: 4}
	lay := &layout{n: 4, src: []int{tokenRow(0), 2, tokenRow(1), 0, tokenRow(0), tokenRow(1), 1, 1},
		pos: []int{0, 3, 2, 1, 0, 1, 2, 3}}
	tests := []struct {
		k      kernel
		shapes []tensor.Shape
		fill   func(i int, v []float32, rng *rand.Rand)
	}{
		{linear{rows: 7, in: 5, out: 3, bias: true}, []tensor.Shape{{7, 5}, {3, 5}, {3}}, normalFill},
		{linear{rows: 4, in: 6, out: 2}, []tensor.Shape{{4, 6}, {2, 6}}, normalFill},
		{layerNorm{rows: 6, width: 8, eps: 1e-5}, []tensor.Shape{{6, 8}, {8}, {8}}, normalFill},
		{gelu{rows: 3, width: 7}, []tensor.Shape{{3, 7}}, normalFill},
		{ista{rows: 9, d: 6, eta: 0.3, lambda: 0.1}, []tensor.Shape{{9, 6}, {6, 6}}, func(i int, v []float32, rng *rand.Rand) {
			normalFill(i, v, rng)
			if i == 1 { // a dictionary of small entries, as initialised
				for j := range v {
					v[j] *= 0.4
				}
			}
		}},
		{newMSSA(d), []tensor.Shape{{d.b * d.t, d.width()}}, normalFill},
		{newSelfAttention(d), []tensor.Shape{{d.b * d.t, 3 * d.width()}}, normalFill},
		{sequence{b: 2, srcLen: 3, posLen: 4, d: 5, tokens: 2, lay: lay}, []tensor.Shape{{6, 5}, {4, 5}, {1, 5}, {1, 5}}, normalFill},
		{maskedMSE{b: 2, l: 3, p: 4, removed: []float32{1, 0, 1, 0, 1, 1}}, []tensor.Shape{{8, 4}, {6, 4}}, normalFill},
	}
	for _, tt := range tests {
		t.Run(tt.k.name(), func(t *testing.T) { checkGradient(t, tt.k, tt.shapes, tt.fill) })
	}
}

func TestKernelShapesRefused(t *testing.T) {
	tests := []struct {
		k      kernel
		shapes []tensor.Shape
	}{
		{linear{rows: 7, in: 5, out: 3, bias: true}, []tensor.Shape{{7, 5}, {3, 4}, {3}}},
		{linear{rows: 7, in: 5, out: 3}, []tensor.Shape{{7, 5}}},
		{layerNorm{rows: 6, width: 8}, []tensor.Shape{{6, 8}, {7}, {8}}},
		{newMSSA(attentionDims{b: 2, t: 5, h: 3, hd: 4}), []tensor.Shape{{10, 13}}},
	}
	for _, tt := range tests {
		if _, err := tt.k.outShape(tt.shapes); err == nil {
			t.Errorf("%s accepted shapes %v", tt.k.name(), tt.shapes)
		}
	}
}
