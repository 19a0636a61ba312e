package evaluation

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// CodingRateEps is the default distortion ε of [CodingRate].
const CodingRateEps = 0.01

// CodingRate returns the coding rate of m tokens in a p-dimensional
// subspace, the rows of w [m][p], as the CRATE analysis defines it: with
// each token scaled to unit norm (tokens of zero norm stay zero),
//
//	R = 1/2 · logdet(I + p/(m·eps) · wᵀw),
//
// computed in float64 through the Cholesky factor of the p×p matrix. It
// returns NaN if w holds a value that is not finite, and panics if w does
// not hold m×p values or m, p or eps is not positive.
func CodingRate(w []float32, m, p int, eps float64) float64 {
	if len(w) != m*p {
		panic(fmt.Sprintf("evaluation: coding rate of %d values as %d tokens of dimension %d", len(w), m, p))
	}
	return codingRate(w, m, p, p, eps)
}

// CodingRateHeads returns the sum over heads of the coding rates of m
// tokens z [m][heads·p] in the heads' subspaces: head h's coordinates are
// columns h·p to (h+1)·p of z. See [CodingRate]; it panics likewise, and
// if heads is not positive.
func CodingRateHeads(z []float32, m, heads, p int, eps float64) float64 {
	if heads < 1 || m < 1 || p < 1 || len(z) != m*heads*p {
		panic(fmt.Sprintf("evaluation: coding rate of %d values as %d tokens of %d heads of dimension %d", len(z), m, heads, p))
	}
	var r float64
	for h := range heads {
		r += codingRate(z[h*p:], m, p, heads*p, eps)
	}
	return r
}

// codingRate is CodingRate of the m tokens whose p coordinates start at
// w[i*stride], i < m; w holds them all.
func codingRate(w []float32, m, p, stride int, eps float64) float64 {
	if m < 1 || p < 1 || !(eps > 0) {
		panic(fmt.Sprintf("evaluation: coding rate of %d tokens of dimension %d with eps %v", m, p, eps))
	}
	u := mat.NewDense(m, p, nil)
	for i := range m {
		row := w[i*stride : i*stride+p]
		inv := invNorm(row)
		for j, v := range row {
			u.Set(i, j, float64(v)*inv)
		}
	}
	g := mat.NewSymDense(p, nil)
	g.SymOuterK(float64(p)/(float64(m)*eps), u.T())
	for j := range p {
		g.SetSym(j, j, g.At(j, j)+1)
	}
	var ch mat.Cholesky
	if !ch.Factorize(g) {
		return math.NaN()
	}
	return ch.LogDet() / 2
}

// Sparsity returns the fraction of the values of x that are exactly zero,
// or NaN if x is empty.
func Sparsity(x []float32) float64 {
	zeros := 0
	for _, v := range x {
		if v == 0 {
			zeros++
		}
	}
	return float64(zeros) / float64(len(x))
}

// Hoyer returns Hoyer's sparsity measure of the rows of x, each of width
// values, averaged over the rows that are not all zero:
//
//	(√n − ‖r‖₁/‖r‖₂) / (√n − 1)
//
// for a row r of n values: 1 when one value alone is non-zero, 0 when all
// have the same magnitude, whatever the scale. Unlike [Sparsity], it is
// meaningful for activations that are small without being exactly zero,
// such as GELU's. It is NaN when x is empty, width is below 2 or does not
// divide len(x), or every row is zero.
func Hoyer(x []float32, width int) float64 {
	if len(x) == 0 || width < 2 || len(x)%width != 0 {
		return math.NaN()
	}
	sqrtN := math.Sqrt(float64(width))
	var sum float64
	rows := 0
	for r := 0; r < len(x); r += width {
		var l1, l2 float64
		for _, v := range x[r : r+width] {
			a := math.Abs(float64(v))
			l1 += a
			l2 += a * a
		}
		if l2 == 0 {
			continue
		}
		sum += (sqrtN - l1/math.Sqrt(l2)) / (sqrtN - 1)
		rows++
	}
	if rows == 0 {
		return math.NaN()
	}
	return sum / float64(rows)
}
