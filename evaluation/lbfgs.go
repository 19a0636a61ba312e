package evaluation

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// An objective returns its value at x and stores its gradient there in
// grad.
type objective func(x, grad []float64) float64

// lbfgsMemory is the number of past steps from which L-BFGS estimates the
// inverse Hessian.
const lbfgsMemory = 10

// minimise moves x towards a minimum of the smooth function f by L-BFGS
// with a backtracking line search (Armijo's condition). It stops when the
// largest component of the gradient is below gradTol, when a step no longer
// lowers f, or after maxIter steps.
func minimise(f objective, x []float64, gradTol float64, maxIter int) {
	n := len(x)
	g := make([]float64, n)
	fx := f(x, g)
	var (
		ss, ys [][]float64 // past steps and gradient changes, oldest first
		rho    []float64   // 1 / (s·y) of each
		alpha  = make([]float64, lbfgsMemory)
		dir    = make([]float64, n)
		xn, gn = make([]float64, n), make([]float64, n)
		sk, yk = make([]float64, n), make([]float64, n)
		x0     = x
	)
	defer func() { copy(x0, x) }()
	for range maxIter {
		if floats.Norm(g, math.Inf(1)) < gradTol {
			return
		}

		// The two-loop recursion: dir = -H g for the estimate H of the
		// inverse Hessian, scaled by s·y / y·y of the last step.
		copy(dir, g)
		for i := len(ss) - 1; i >= 0; i-- {
			alpha[i] = rho[i] * floats.Dot(ss[i], dir)
			floats.AddScaled(dir, -alpha[i], ys[i])
		}
		step := 1.0
		if k := len(ss) - 1; k >= 0 {
			floats.Scale(1/(rho[k]*floats.Dot(ys[k], ys[k])), dir)
		} else {
			step = 1 / floats.Norm(g, 2) // a first step of unit length
		}
		for i := range ss {
			beta := rho[i] * floats.Dot(ys[i], dir)
			floats.AddScaled(dir, alpha[i]-beta, ss[i])
		}
		floats.Scale(-1, dir)
		slope := floats.Dot(g, dir)
		if !(slope < 0) { // rounding spoilt the estimate: start afresh
			ss, ys, rho = ss[:0], ys[:0], rho[:0]
			floats.ScaleTo(dir, -1, g)
			slope = -floats.Dot(g, g)
			step = 1 / math.Sqrt(-slope)
		}

		var fn float64
		accepted := false
		for range 50 {
			floats.AddScaledTo(xn, x, step, dir)
			fn = f(xn, gn)
			if fn <= fx+1e-4*step*slope {
				accepted = true
				break
			}
			step /= 2
		}
		if !accepted || fn >= fx {
			return
		}

		floats.SubTo(sk, xn, x)
		floats.SubTo(yk, gn, g)
		if sy := floats.Dot(sk, yk); sy > 0 {
			var s, y []float64 // the buffers of the next sk and yk
			if len(ss) == lbfgsMemory {
				s, y = ss[0], ys[0]
				ss, ys, rho = ss[1:], ys[1:], rho[1:]
			} else {
				s, y = make([]float64, n), make([]float64, n)
			}
			ss, ys, rho = append(ss, sk), append(ys, yk), append(rho, 1/sy)
			sk, yk = s, y
		}
		x, xn = xn, x
		g, gn = gn, g
		fx = fn
	}
}
