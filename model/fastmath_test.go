package model

import (
	"math"
	"testing"
)

var (
	inf32   = float32(math.Inf(1))
	nan32   = float32(math.NaN())
	negZero = float32(math.Copysign(0, -1))
)

// ulps is the distance between two float32s in units in the last place
// (adjacent floats are 1 apart, +0 and -0 are 0 apart).
func ulps(a, b float32) int64 {
	key := func(f float32) int64 {
		b := int64(math.Float32bits(f))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	d := key(a) - key(b)
	if d < 0 {
		return -d
	}
	return d
}

// same reports whether got is want, NaN matching NaN and -0 matching -0.
func same(got, want float32) bool {
	if want != want {
		return got != got
	}
	return math.Float32bits(got) == math.Float32bits(want)
}

// sweep returns n+1 evenly spaced points of [lo, hi], then each point of
// interest and its two float32 neighbours.
func sweep(lo, hi float64, n int, interest ...float32) []float32 {
	var xs []float32
	for i := 0; i <= n; i++ {
		xs = append(xs, float32(lo+(hi-lo)*float64(i)/float64(n)))
	}
	for _, x := range interest {
		xs = append(xs, x, math.Nextafter32(x, inf32), math.Nextafter32(x, -inf32))
	}
	return xs
}

func TestExpInPlace(t *testing.T) {
	xs := sweep(-110, 95, 2_000_000, 0, negZero, 1, -1, 88.72283, 88.72284, 89, -87.33654,
		-103.27893, -103.97208, -104, math.SmallestNonzeroFloat32, 1e-30, -1e-30)
	got := append([]float32(nil), xs...)
	expInPlace(got)
	var worst int64
	for i, x := range xs {
		want := float32(math.Exp(float64(x)))
		if math.IsInf(float64(want), 0) || want == 0 {
			if got[i] != want {
				t.Errorf("e^%v = %v, want %v", x, got[i], want)
			}
			continue
		}
		worst = max(worst, ulps(got[i], want))
	}
	t.Logf("e^x: at most %d ulp from math.Exp", worst)
	if worst > 1 {
		t.Errorf("e^x: %d ulps from math.Exp, want at most 1", worst)
	}
	special := []struct{ x, want float32 }{
		{0, 1}, {negZero, 1}, {inf32, inf32}, {-inf32, 0}, {nan32, nan32}, {-200, 0}, {200, inf32}, {-3e38, 0}, {3e38, inf32},
	}
	for _, c := range special {
		v := []float32{c.x}
		expInPlace(v)
		if !same(v[0], c.want) {
			t.Errorf("e^%v = %v, want %v", c.x, v[0], c.want)
		}
	}
}

// geluExact and geluGradExact are the GELU and its derivative in float64
// through package math, rounded to float32.
func geluExact(x float32) float32 {
	v := float64(x)
	return float32(v * 0.5 * math.Erfc(-v/math.Sqrt2))
}

func geluGradExact(x float32) float32 {
	v := float64(x)
	return float32(0.5*math.Erfc(-v/math.Sqrt2) + v*math.Exp(-v*v/2)/math.Sqrt(2*math.Pi))
}

// gelus returns GELU(x) and GELU'(x) for each x, through geluSlice and
// geluGradSlice with dy = 1.
func gelus(xs []float32) (y, dydx []float32) {
	y, dydx = make([]float32, len(xs)), make([]float32, len(xs))
	ones := make([]float32, len(xs))
	for i := range ones {
		ones[i] = 1
	}
	geluSlice(y, xs)
	geluGradSlice(dydx, ones, xs)
	return y, dydx
}

func TestGELUSlices(t *testing.T) {
	// the derivative's zero near -0.75, the far tails (|x| > 10.5·√2 ≈ 14.85),
	// and around 0
	xs := sweep(-20, 20, 2_000_000, 0, negZero, 1, -1, -0.7517916, -5, -10, -14, -14.849242, -15, 5, 10, 14.849242, 20,
		1e-30, -1e-30, 1e-42, -1e-42, 3e38, -3e38)
	y, dydx := gelus(xs)
	var worst, worstGrad int64
	for i, x := range xs {
		worst = max(worst, ulps(y[i], geluExact(x)))
		// the derivative crosses 0 near -0.75: there, compare to 1e-8 absolutely
		if want := geluGradExact(x); math.Abs(float64(dydx[i]-want)) > 1e-8 {
			worstGrad = max(worstGrad, ulps(dydx[i], want))
		}
	}
	t.Logf("GELU: at most %d ulp, derivative %d ulp from package math", worst, worstGrad)
	if worst > 1 || worstGrad > 1 {
		t.Errorf("GELU: %d ulps, derivative %d ulps from package math, want at most 1", worst, worstGrad)
	}
	// as the reference's float32 x·0.5·(1+erf(x/√2)) and Φ(x) + x·φ(x),
	// infinities give NaN where a product is ∞·0
	special := []struct{ x, y, dydx float32 }{
		{0, 0, 0.5}, {negZero, negZero, 0.5}, {inf32, inf32, nan32}, {-inf32, nan32, nan32}, {nan32, nan32, nan32},
		{-30, negZero, 0}, {30, 30, 1},
	}
	for _, c := range special {
		y, dydx := gelus([]float32{c.x})
		if !same(y[0], c.y) || !same(dydx[0], c.dydx) {
			t.Errorf("GELU(%v) = %v, derivative %v, want %v, %v", c.x, y[0], dydx[0], c.y, c.dydx)
		}
	}
}

func TestGELUGradScalesByDy(t *testing.T) {
	xs := sweep(-6, 6, 1000)
	dy := make([]float32, len(xs))
	for i := range dy {
		dy[i] = float32(i%17) - 8.5
	}
	_, dydx := gelus(xs)
	dx := make([]float32, len(xs))
	geluGradSlice(dx, dy, xs)
	for i := range dx {
		if dx[i] != dy[i]*dydx[i] {
			t.Fatalf("x = %v, dy = %v: dx = %v, want dy·GELU'(x) = %v", xs[i], dy[i], dx[i], dy[i]*dydx[i])
		}
	}
}

// TestFastmathOddLengths runs the functions over every length up to 40
// from every offset, through the vector loops and their remainders.
func TestFastmathOddLengths(t *testing.T) {
	src := sweep(-5, 5, 63)
	for off := 0; off < 16; off++ {
		for n := 0; n <= 40; n++ {
			x := src[off : off+n]
			e := append([]float32(nil), x...)
			expInPlace(e)
			y, dx := make([]float32, n+1), make([]float32, n+1)
			y[n], dx[n] = 7, 7 // past the end: untouched
			geluSlice(y, x)
			geluGradSlice(dx, x, x)
			for i, v := range x {
				if ulps(e[i], float32(math.Exp(float64(v)))) > 1 || ulps(y[i], geluExact(v)) > 1 || dx[i] != v*gelus1(v) {
					t.Fatalf("offset %d, length %d, element %d (%v): e^x %v, GELU %v, dx %v", off, n, i, v, e[i], y[i], dx[i])
				}
			}
			if y[n] != 7 || dx[n] != 7 {
				t.Fatalf("offset %d, length %d: wrote past the end", off, n)
			}
		}
	}
}

// gelus1 is GELU'(x) for one x.
func gelus1(x float32) float32 {
	_, d := gelus([]float32{x})
	return d[0]
}
