package evaluation

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestCodingRate(t *testing.T) {
	eps := CodingRateEps
	for _, tc := range []struct {
		name string
		w    []float32
		m, p int
		want float64
	}{
		// Equal tokens: wᵀw has the single eigenvalue m.
		{"equal tokens", []float32{1, 2, 2, 1, 2, 2, 1, 2, 2, 1, 2, 2}, 4, 3, math.Log(1+3/eps) / 2},
		// Unit tokens along the axes: wᵀw = I.
		{"orthonormal tokens", []float32{1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3, 3 * math.Log(1+1/eps) / 2},
		// Rows of a rotation scaled by 5, 0.1 and 2: wᵀw = I once normalised.
		{"orthogonal tokens of other lengths", []float32{3, 4, 0, -0.08, 0.06, 0, 0, 0, 2}, 3, 3, 3 * math.Log(1+1/eps) / 2},
		// Each axis twice: wᵀw = 2I.
		{"orthonormal tokens twice", []float32{1, 0, 0, 1, 1, 0, 0, 1}, 4, 2, math.Log(1 + 1/eps)},
		// A zero token counts in m but adds nothing to wᵀw.
		{"a zero token", []float32{0, 7, 0, 0}, 2, 2, math.Log(1+2/(2*eps)) / 2},
		{"one token", []float32{-3}, 1, 1, math.Log(1+1/eps) / 2},
		{"not finite", []float32{1, float32(math.NaN()), 0, 1}, 2, 2, math.NaN()},
		{"infinite", []float32{1, float32(math.Inf(-1)), 0, 1}, 2, 2, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CodingRate(tc.w, tc.m, tc.p, eps)
			if math.IsNaN(tc.want) != math.IsNaN(got) || math.Abs(got-tc.want) > 1e-6 {
				t.Errorf("R = %.9g, want %.9g", got, tc.want)
			}
		})
	}
}

// TestCodingRateRandom compares CodingRate with the eigenvalues of the
// normalised tokens' Gram matrix, and checks that it ignores the tokens'
// lengths.
func TestCodingRateRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 1))
	for _, size := range []struct{ m, p int }{{50, 8}, {5, 16}, {197, 64}} {
		m, p := size.m, size.p
		w := make([]float32, m*p)
		for i := range w {
			w[i] = float32(r.NormFloat64())
		}
		u := mat.NewDense(m, p, nil)
		for i := range m {
			var ss float64
			for j := range p {
				ss += float64(w[i*p+j]) * float64(w[i*p+j])
			}
			for j := range p {
				u.Set(i, j, float64(w[i*p+j])/math.Sqrt(ss))
			}
		}
		var g mat.SymDense
		g.SymOuterK(1, u.T())
		var eig mat.EigenSym
		if !eig.Factorize(&g, false) {
			t.Fatal("eigendecomposition failed")
		}
		var want float64
		for _, l := range eig.Values(nil) {
			want += math.Log1p(float64(p)/(float64(m)*CodingRateEps)*max(l, 0)) / 2
		}
		got := CodingRate(w, m, p, CodingRateEps)
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("%d tokens of dimension %d: R = %.12g, from eigenvalues %.12g", m, p, got, want)
		}
		for i := range m {
			s := float32(math.Exp(4 * r.NormFloat64()))
			for j := range p {
				w[i*p+j] *= s
			}
		}
		if scaled := CodingRate(w, m, p, CodingRateEps); math.Abs(scaled-got) > 1e-9*got {
			t.Errorf("%d tokens of dimension %d: R = %.12g, %.12g once scaled", m, p, got, scaled)
		}
	}
}

func TestCodingRateHeads(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 2))
	m, heads, p := 10, 3, 4
	z := make([]float32, m*heads*p)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	var want float64
	for h := range heads {
		w := make([]float32, 0, m*p)
		for i := range m {
			w = append(w, z[i*heads*p+h*p:i*heads*p+(h+1)*p]...)
		}
		want += CodingRate(w, m, p, CodingRateEps)
	}
	if got := CodingRateHeads(z, m, heads, p, CodingRateEps); got != want {
		t.Errorf("sum over heads %v, want %v", got, want)
	}
}

func TestCodingRatePanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"short w", func() { CodingRate(make([]float32, 5), 2, 3, 0.01) }},
		{"no tokens", func() { CodingRate(nil, 0, 3, 0.01) }},
		{"zero eps", func() { CodingRate(make([]float32, 6), 2, 3, 0) }},
		{"NaN eps", func() { CodingRate(make([]float32, 6), 2, 3, math.NaN()) }},
		{"no heads", func() { CodingRateHeads(nil, 2, 0, 3, 0.01) }},
		{"heads too long", func() { CodingRateHeads(make([]float32, 12), 2, 2, 4, 0.01) }},
		{"heads without tokens", func() { CodingRateHeads(nil, 0, 2, 4, 0.01) }},
		{"heads of no dimension", func() { CodingRateHeads(nil, 2, 2, 0, 0.01) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f()
		})
	}
}

func TestSparsity(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	for _, tc := range []struct {
		name string
		x    []float32
		want float64
	}{
		{"half zeros", []float32{0, 1, 0, -2}, 0.5},
		{"negative zero", []float32{negZero, 1, 1, 1}, 0.25},
		{"tiny values are not zero", []float32{1e-45, -1e-45, 0}, 1.0 / 3},
		{"all zeros", make([]float32, 7), 1},
		{"no zeros", []float32{float32(math.NaN()), 3}, 0},
		{"empty", nil, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Sparsity(tc.x)
			if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Errorf("sparsity %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHoyer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		x     []float32
		width int
		want  float64
	}{
		{"one non-zero per row", []float32{0, 0, 3, 0, -2, 0, 0, 0}, 4, 1},
		{"all equal magnitude", []float32{1, -1, 1, -1}, 4, 0},
		{"scale free", []float32{0.001, -0.001, 0.001, -0.001, 0, 0, 5, 0}, 4, 0.5},
		{"zero rows skipped", []float32{0, 0, 0, 0, 0, 7, 0, 0}, 4, 1},
		{"two of four", []float32{1, 1, 0, 0}, 4, (2 - math.Sqrt(2)) / 1},
	} {
		if got := Hoyer(tc.x, tc.width); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: Hoyer = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		x     []float32
		width int
	}{{nil, 4}, {[]float32{1, 2, 3}, 2}, {[]float32{1}, 1}, {[]float32{0, 0}, 2}} {
		if got := Hoyer(tc.x, tc.width); !math.IsNaN(got) {
			t.Errorf("Hoyer(%v, %d) = %v, want NaN", tc.x, tc.width, got)
		}
	}
}
