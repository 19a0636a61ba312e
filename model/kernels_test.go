package model

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// checkGradient compares a kernel's backward pass with central finite
// differences of f(in) = Σ out·r for a random r, on up to 24 coordinates of
// every differentiable input.
func checkGradient(t *testing.T, k Kernel, shapes []tensor.Shape, fill func(i int, v []float32, rng *rand.Rand)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	outShape, err := k.outShape(shapes)
	if err != nil {
		t.Fatalf("%s: %v", k.Name(), err)
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
				t.Errorf("%s: d/d input %d [%d] = %.5g, finite difference %.5g", k.Name(), i, j, got, num)
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
	d := AttentionDims{B: 2, T: 5, H: 3, HD: 4}
	// rows longer than the 16 lanes of the C row loops, more rows than one
	// of LayerNorm's chunks, more columns than one of sumRows's bands
	long := AttentionDims{B: 2, T: 21, H: 2, HD: 8}
	// the layout [2·4, 2] of (src, pos) pairs and the mask [2, 3] are inputs
	// that receive no gradient
	lay := []float32{-1, 0, 2, 3, -2, 2, 0, 1, -1, 0, -2, 1, 1, 2, 1, 3}
	mask := []float32{1, 0, 1, 0, 1, 1}
	given := func(input int, v []float32) func(int, []float32, *rand.Rand) {
		return func(i int, dst []float32, rng *rand.Rand) {
			if i == input {
				copy(dst, v)
				return
			}
			normalFill(i, dst, rng)
		}
	}
	tests := []struct {
		k      Kernel
		shapes []tensor.Shape
		fill   func(i int, v []float32, rng *rand.Rand)
	}{
		{Linear{Rows: 7, In: 5, Out: 3, Bias: true}, []tensor.Shape{{7, 5}, {3, 5}, {3}}, normalFill},
		{Linear{Rows: 4, In: 6, Out: 2}, []tensor.Shape{{4, 6}, {2, 6}}, normalFill},
		{LayerNorm{Rows: 6, Width: 8, Eps: 1e-5}, []tensor.Shape{{6, 8}, {8}, {8}}, normalFill},
		{GELU{Rows: 3, Width: 7}, []tensor.Shape{{3, 7}}, normalFill},
		{ISTA{Rows: 9, D: 6, Eta: 0.3, Lambda: 0.1}, []tensor.Shape{{9, 6}, {6, 6}}, func(i int, v []float32, rng *rand.Rand) {
			normalFill(i, v, rng)
			if i == 1 { // a dictionary of small entries, as initialised
				for j := range v {
					v[j] *= 0.4
				}
			}
		}},
		{newMSSA(d), []tensor.Shape{{d.B * d.T, d.width()}}, normalFill},
		{newSelfAttention(d), []tensor.Shape{{d.B * d.T, 3 * d.width()}}, normalFill},
		{Sequence{B: 2, SrcLen: 3, PosLen: 4, D: 5, Tokens: 2, N: 4}, []tensor.Shape{{6, 5}, {4, 5}, {8, 2}, {1, 5}, {1, 5}}, given(2, lay)},
		{MaskedMSE{B: 2, L: 3, P: 4}, []tensor.Shape{{8, 4}, {6, 4}, {2, 3}}, given(2, mask)},
		{Linear{Rows: 70, In: 37, Out: 40, Bias: true}, []tensor.Shape{{70, 37}, {40, 37}, {40}}, normalFill},
		{LayerNorm{Rows: 70, Width: 40, Eps: 1e-6}, []tensor.Shape{{70, 40}, {40}, {40}}, normalFill},
		{GELU{Rows: 5, Width: 37}, []tensor.Shape{{5, 37}}, normalFill},
		{newMSSA(long), []tensor.Shape{{long.B * long.T, long.width()}}, normalFill},
		{newSelfAttention(long), []tensor.Shape{{long.B * long.T, 3 * long.width()}}, normalFill},
	}
	for _, tt := range tests {
		t.Run(tt.k.Name(), func(t *testing.T) { checkGradient(t, tt.k, tt.shapes, tt.fill) })
	}
}

func TestKernelShapesRefused(t *testing.T) {
	tests := []struct {
		k      Kernel
		shapes []tensor.Shape
	}{
		{Linear{Rows: 7, In: 5, Out: 3, Bias: true}, []tensor.Shape{{7, 5}, {3, 4}, {3}}},
		{Linear{Rows: 7, In: 5, Out: 3}, []tensor.Shape{{7, 5}}},
		{LayerNorm{Rows: 6, Width: 8}, []tensor.Shape{{6, 8}, {7}, {8}}},
		{newMSSA(AttentionDims{B: 2, T: 5, H: 3, HD: 4}), []tensor.Shape{{10, 13}}},
	}
	for _, tt := range tests {
		if _, err := tt.k.outShape(tt.shapes); err == nil {
			t.Errorf("%s accepted shapes %v", tt.k.Name(), tt.shapes)
		}
	}
}

// softmax64 is the softmax of a row in float64.
func softmax64(row []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	out := make([]float64, len(row))
	var sum float64
	for j, v := range row {
		out[j] = math.Exp(float64(v) - m)
		sum += out[j]
	}
	for j := range out {
		out[j] /= sum
	}
	return out
}

// closeTo reports whether got is within a few float32 roundings of want,
// relative to scale.
func closeTo(got float32, want, scale float64) bool {
	return math.Abs(float64(got)-want) <= 4e-7*scale
}

func TestSoftmaxRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 5, 15, 16, 17, 31, 32, 33, 65} {
		s := make([]float32, n*n)
		for i := range s {
			s[i] = float32(rng.NormFloat64() * 8)
		}
		if n > 1 {
			s[0] = float32(math.Inf(-1)) // a masked logit
		}
		want := make([][]float64, n)
		for r := range want {
			want[r] = softmax64(s[r*n : (r+1)*n])
		}
		softmaxRows(s, n)
		for r := range want {
			for j, w := range want[r] {
				if !closeTo(s[r*n+j], w, 1) {
					t.Fatalf("t=%d: softmax[%d][%d] = %v, want %v", n, r, j, s[r*n+j], w)
				}
			}
		}
	}
}

func TestSoftmaxBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 3, 16, 17, 40, 65} {
		a, da := make([]float32, n*n), make([]float32, n*n)
		for i := range a {
			a[i], da[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		softmaxRows(a, n)
		want := make([]float64, n*n)
		for r := 0; r < n; r++ {
			var dot float64
			for j := 0; j < n; j++ {
				dot += float64(a[r*n+j]) * float64(da[r*n+j])
			}
			for j := 0; j < n; j++ {
				want[r*n+j] = float64(a[r*n+j]) * (float64(da[r*n+j]) - dot)
			}
		}
		softmaxBackward(da, a, n)
		for i, w := range want {
			if !closeTo(da[i], w, 8) {
				t.Fatalf("t=%d: dS[%d] = %v, want %v", n, i, da[i], w)
			}
		}
	}
}

func TestLayerNormRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, w := range []int{1, 3, 15, 16, 17, 33, 192} {
		const rows = 5
		x, g, b, y := make([]float32, rows*w), make([]float32, w), make([]float32, w), make([]float32, rows*w)
		for i := range x {
			x[i] = float32(rng.NormFloat64()*3 + 10) // an offset mean, as tokens have
		}
		for j := range g {
			g[j], b[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		layerNormRows(y, x, g, b, w, 1e-5)
		for r := 0; r < rows; r++ {
			var mean, ss float64
			for _, v := range x[r*w : (r+1)*w] {
				mean += float64(v)
			}
			mean /= float64(w)
			for _, v := range x[r*w : (r+1)*w] {
				ss += (float64(v) - mean) * (float64(v) - mean)
			}
			rstd := 1 / math.Sqrt(ss/float64(w)+1e-5)
			for j := 0; j < w; j++ {
				want := (float64(x[r*w+j])-mean)*rstd*float64(g[j]) + float64(b[j])
				if !closeTo(y[r*w+j], want, 16*(math.Abs(float64(g[j]))+math.Abs(float64(b[j])))) {
					t.Fatalf("width %d: y[%d][%d] = %v, want %v", w, r, j, y[r*w+j], want)
				}
			}
		}
	}
}

// A step reuses the gradient buffers that earlier passes have read (the
// float pools, shared by all graphs): steps of two graphs, interleaved,
// repeat every loss, prediction and gradient bit for bit.
func TestInterleavedStepsRepeat(t *testing.T) {
	type step struct {
		out   Output
		grads [][]float32
	}
	type run struct {
		m      *Model
		g      *Graph
		images []float32
		noise  []float32
	}
	var runs []run
	for _, c := range []Config{tiny(ArchCRATE, MaskingReleased), tiny(ArchViT, MaskingReleased), tiny(ArchViT, MaskingVisible)} {
		m, _ := New(c, 11)
		g, err := m.NewGraph(4, 0.5, true)
		if err != nil {
			t.Fatal(err)
		}
		images, noise := randomBatch(c, 4, 12)
		runs = append(runs, run{m, g, images, noise})
	}
	do := func(r run) step {
		out, err := r.g.Run(r.images, r.noise)
		if err != nil {
			t.Fatal(err)
		}
		s := step{out: out}
		for _, p := range r.m.Params {
			s.grads = append(s.grads, append([]float32(nil), r.g.Grad(p)...))
		}
		return s
	}
	var first []step
	for _, r := range runs {
		first = append(first, do(r))
	}
	for round := 0; round < 2; round++ {
		for i, r := range runs {
			again := do(r)
			if again.out.Loss != first[i].out.Loss {
				t.Fatalf("graph %d: loss %v, first %v", i, again.out.Loss, first[i].out.Loss)
			}
			for j, v := range again.out.Pred {
				if v != first[i].out.Pred[j] {
					t.Fatalf("graph %d: prediction %d changed", i, j)
				}
			}
			for p, g := range again.grads {
				for j, v := range g {
					if v != first[i].grads[p][j] {
						t.Fatalf("graph %d: gradient of %s [%d] changed: %v, first %v", i, r.m.Params[p].Name, j, v, first[i].grads[p][j])
					}
				}
			}
		}
	}
}

// OpenBLAS stays on the calling thread whatever SetThreads says: the
// model splits its products over the processors itself.
func TestBLASStaysOnCallingThread(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	SetThreads(max(2, procs))
	defer runtime.GOMAXPROCS(procs)
	c := make([]float32, 4)
	gemm(false, false, 2, 2, 2, 1, []float32{1, 2, 3, 4}, []float32{1, 0, 0, 1}, 0, c)
	if n := blasThreads(); n != 1 {
		t.Errorf("OpenBLAS runs %d threads, want 1", n)
	}
	if c[0] != 1 || c[1] != 2 || c[2] != 3 || c[3] != 4 {
		t.Errorf("gemm gave %v, want [1 2 3 4]", c)
	}
}

// gemm against a float64 product, for every transposition, below and above
// the size from which it splits the rows of c over the processors, on
// slices no longer than the matrices.
func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sz := range [][3]int{{3, 4, 5}, {70, 40, 800}, {200, 33, 400}, {520, 70, 64}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
				for _, v := range [][]float32{a, b, c} {
					for i := range v {
						v[i] = float32(rng.NormFloat64())
					}
				}
				at := func(i, p int) float64 { // op(a)[i, p]
					if ta {
						return float64(a[p*m+i])
					}
					return float64(a[i*k+p])
				}
				bt := func(p, j int) float64 { // op(b)[p, j]
					if tb {
						return float64(b[j*k+p])
					}
					return float64(b[p*n+j])
				}
				want := make([]float64, m*n)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						s := 0.5 * float64(c[i*n+j])
						for p := 0; p < k; p++ {
							s += 2 * at(i, p) * bt(p, j)
						}
						want[i*n+j] = s
					}
				}
				gemm(ta, tb, m, n, k, 2, a, b, 0.5, c)
				for i, w := range want {
					if math.Abs(float64(c[i])-w) > 1e-5*float64(k) {
						t.Fatalf("%dx%dx%d ta=%v tb=%v: c[%d] = %v, want %v", m, n, k, ta, tb, i, c[i], w)
					}
				}
			}
		}
	}
}

// gemm and sumRows give the same bits on any number of threads: how they
// split their work follows the shapes alone (see gemmBand).
func TestProductsIgnoreThreads(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	rng := rand.New(rand.NewPCG(11, 12))
	const m, n, k = 544, 64, 256 // split into bands
	a, b := make([]float32, m*k), make([]float32, k*n)
	normalFill(0, a, rng)
	normalFill(0, b, rng)
	var want [2][]float32
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		got := [2][]float32{make([]float32, m*n), make([]float32, k)}
		gemm(false, false, m, n, k, 1, a, b, 0, got[0])
		sumRows(got[1], a, m, k)
		if threads == 1 {
			want = got
			continue
		}
		for i, name := range []string{"gemm", "sumRows"} {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%s on %d threads differs from 1 thread's", name, threads)
			}
		}
	}
}
