package evaluation

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestLinearProbe(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	// Feature 15 is 0.1 in all train vectors and 0.7 in the test vectors.
	constant, other := clusters(r, 600, 16, 4, 6, false), clusters(r, 400, 16, 4, 6, false)
	for i := range constant.N {
		constant.X[i*16+15] = 0.1
	}
	for i := range other.N {
		other.X[i*16+15] = 0.7
	}
	for _, tc := range []struct {
		name        string
		train, test Features
		classes     int
		lo, hi      float64
	}{
		{"separable clusters", clusters(r, 600, 16, 4, 8, false), clusters(r, 400, 16, 4, 8, false), 4, 0.99, 1},
		{"random labels", clusters(r, 600, 16, 4, 8, true), clusters(r, 400, 16, 4, 8, true), 4, 0.15, 0.35},
		{"a constant feature", constant, other, 4, 0.95, 1},
		{"correlated features", realistic(2, 1, 1000, 128, 10, 1.5), realistic(2, 2, 500, 128, 10, 1.5), 10, 0.95, 1},
		{"classes absent from train", clusters(r, 300, 8, 3, 8, false), clusters(r, 200, 8, 3, 8, false), 5, 0.99, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := LinearProbe(tc.train, tc.test, tc.classes)
			if err != nil {
				t.Fatal(err)
			}
			if acc < tc.lo || acc > tc.hi {
				t.Errorf("accuracy %.3f, want in [%.2f, %.2f]", acc, tc.lo, tc.hi)
			}
		})
	}
}

func TestLinearProbeErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	good := clusters(r, 20, 4, 2, 4, false)
	with := func(edit func(f *Features)) Features {
		f := good
		f.X, f.Labels = slices.Clone(good.X), slices.Clone(good.Labels)
		edit(&f)
		return f
	}
	for _, tc := range []struct {
		name        string
		train, test Features
		classes     int
		want        string
	}{
		{"one class", good, good, 1, "1 classes"},
		{"label too large", with(func(f *Features) { f.Labels[3] = 2 }), good, 2, "train features: label 2 of vector 3 outside [0, 2)"},
		{"negative label", good, with(func(f *Features) { f.Labels[0] = -1 }), 2, "test features: label -1 of vector 0"},
		{"short data", with(func(f *Features) { f.X = f.X[:7] }), good, 2, "7 values for 20 vectors of dimension 4"},
		{"short labels", good, with(func(f *Features) { f.Labels = f.Labels[:5] }), 2, "5 labels for 20 vectors"},
		{"not finite", with(func(f *Features) { f.X[9] = float32(math.NaN()) }), good, 2, "value 1 of vector 2 is NaN"},
		{"dimensions differ", good, Features{X: make([]float32, 6), N: 2, D: 3, Labels: []int{0, 1}}, 2, "dimension 4, test features of dimension 3"},
		{"no vectors", Features{}, good, 2, "0 vectors of dimension 0"},
		{"too few to hold out", Features{X: make([]float32, 16), N: 4, D: 4, Labels: []int{0, 1, 0, 1}}, good, 2, "4 train vectors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LinearProbe(tc.train, tc.test, tc.classes)
			if err == nil || !strings.HasPrefix(err.Error(), "linear probe: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

// TestSoftmaxGradient compares the gradient of the probe's loss with
// central differences.
func TestSoftmaxGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 3))
	n, d, c := 7, 3, 4
	x := make([]float64, n*d)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	y := []int{0, 3, 1, 1, 2, 0, 3}
	s := newSoftmax(x, y, d, c)
	s.decay = 0.1
	theta := make([]float64, c*d+c)
	for i := range theta {
		theta[i] = r.NormFloat64()
	}
	grad := make([]float64, len(theta))
	s.loss(theta, grad)
	scratch := make([]float64, len(theta))
	const h = 1e-6
	for i := range theta {
		v := theta[i]
		theta[i] = v + h
		up := s.loss(theta, scratch)
		theta[i] = v - h
		down := s.loss(theta, scratch)
		theta[i] = v
		if num := (up - down) / (2 * h); math.Abs(num-grad[i]) > 1e-7*max(1, math.Abs(num)) {
			t.Errorf("gradient %d: %.9g, central difference %.9g", i, grad[i], num)
		}
	}
}

// TestSoftmaxDeterministic checks that the fit does not depend on the
// number of processors.
func TestSoftmaxDeterministic(t *testing.T) {
	f := realistic(3, 1, 700, 32, 5, 1)
	mean, scale := moments(f)
	x := standardise(f, mean, scale)
	var thetas [][]float64
	for _, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		theta := make([]float64, f.D*5+5)
		newSoftmax(x, f.Labels, f.D, 5).fit(theta, 1e-3)
		runtime.GOMAXPROCS(old)
		thetas = append(thetas, theta)
	}
	if !slices.Equal(thetas[0], thetas[1]) {
		t.Error("fits on 1 and 3 processors differ")
	}
}

func TestMinimise(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        objective
		x0, want []float64
	}{
		{"Rosenbrock", func(x, g []float64) float64 {
			a, b := 1-x[0], x[1]-x[0]*x[0]
			g[0], g[1] = -2*a-400*x[0]*b, 200*b
			return a*a + 100*b*b
		}, []float64{-1.2, 1}, []float64{1, 1}},
		{"ill-conditioned quadratic", func(x, g []float64) float64 {
			var f float64
			for i, v := range x {
				w := math.Pow(10, float64(i)) // curvatures 1 to 1e4
				g[i] = w * (v - 1)
				f += w * (v - 1) * (v - 1) / 2
			}
			return f
		}, []float64{0, 0, 0, 0, 0}, []float64{1, 1, 1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := slices.Clone(tc.x0)
			minimise(tc.f, x, 1e-10, 500)
			for i := range x {
				if math.Abs(x[i]-tc.want[i]) > 1e-6 {
					t.Fatalf("minimum at %v, want %v", x, tc.want)
				}
			}
		})
	}
}
