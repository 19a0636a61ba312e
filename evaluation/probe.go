package evaluation

import (
	"fmt"
	"math"
	"slices"

	"harness/internal/parallel"

	"gonum.org/v1/gonum/floats"
)

// probeDecays are the L2 penalties from which the linear probe chooses,
// strongest first.
var probeDecays = []float64{1e-1, 1e-2, 1e-3, 1e-4}

// The L-BFGS fits of the linear probe stop when the largest component of
// the gradient falls below probeGradTol or after probeIterations steps.
const (
	probeGradTol    = 1e-4
	probeIterations = 300
)

// LinearProbe fits a multinomial logistic regression to the train features
// and returns its top-1 accuracy on the test features. Labels must lie in
// [0, classes), and there must be at least 5 train vectors.
//
// Each feature is standardised with its mean and standard deviation over
// the train features; features constant over train are set to zero. The
// weights and biases minimise the mean cross-entropy plus λ/2 times the
// squared norm of the weights, by full-batch L-BFGS until the largest
// component of the gradient falls below 1e-4 or for at most 300 steps. The
// penalty λ is chosen on a held-out fifth of the train vectors (every
// fifth one): the probe is fitted to the other four fifths with λ = 1e-1,
// 1e-2, 1e-3 and 1e-4 in turn, each fit starting from the last, until the
// held-out accuracy drops below the best so far; the strongest λ of the
// best accuracy wins. The final fit, to all train vectors, starts from
// that λ's. The result depends only on the features, not on the number of
// processors.
func LinearProbe(train, test Features, classes int) (float64, error) {
	if classes < 2 {
		return 0, fmt.Errorf("linear probe: %d classes", classes)
	}
	if err := checkPair(train, test, classes); err != nil {
		return 0, fmt.Errorf("linear probe: %w", err)
	}
	if train.N < 5 {
		return 0, fmt.Errorf("linear probe: %d train vectors, want at least 5", train.N)
	}
	d := train.D
	mean, scale := moments(train)
	x := standardise(train, mean, scale)

	var fitX, heldX []float64
	var fitY, heldY []int
	for i, y := range train.Labels {
		if i%5 == 4 {
			heldX, heldY = append(heldX, x[i*d:(i+1)*d]...), append(heldY, y)
		} else {
			fitX, fitY = append(fitX, x[i*d:(i+1)*d]...), append(fitY, y)
		}
	}
	part := newSoftmax(fitX, fitY, d, classes)
	theta := make([]float64, d*classes+classes)
	best, bestAcc := slices.Clone(theta), -1.0
	var decay float64
	for _, lambda := range probeDecays {
		part.fit(theta, lambda)
		acc := accuracy(predict(theta, heldX, d, classes), heldY)
		if acc < bestAcc {
			break
		}
		if acc > bestAcc {
			bestAcc, decay = acc, lambda
			copy(best, theta)
		}
	}
	newSoftmax(x, train.Labels, d, classes).fit(best, decay)
	return accuracy(predict(best, standardise(test, mean, scale), d, classes), test.Labels), nil
}

// moments returns the mean of each feature of f and the reciprocal of its
// standard deviation, or 0 for a feature that is constant. (A float64 sum
// of fewer than 2^29 equal float32 values is exact, so a constant feature
// has exactly its value as mean and zero variance.)
func moments(f Features) (mean, scale []float64) {
	mean = make([]float64, f.D)
	scale = make([]float64, f.D)
	for i := range f.N {
		for j, v := range f.X[i*f.D : (i+1)*f.D] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(f.N)
	}
	for i := range f.N {
		for j, v := range f.X[i*f.D : (i+1)*f.D] {
			dv := float64(v) - mean[j]
			scale[j] += dv * dv
		}
	}
	for j, ss := range scale {
		if ss > 0 {
			scale[j] = math.Sqrt(float64(f.N) / ss)
		}
	}
	return mean, scale
}

// standardise returns the features of f as (x - mean) * scale in float64.
func standardise(f Features, mean, scale []float64) []float64 {
	x := make([]float64, len(f.X))
	for i := range f.N {
		for j, v := range f.X[i*f.D : (i+1)*f.D] {
			x[i*f.D+j] = (float64(v) - mean[j]) * scale[j]
		}
	}
	return x
}

// softmax is the L2-regularised softmax regression of n samples x [n][d]
// with labels y in [0, c). Its parameters theta are the weights [c][d]
// followed by the biases [c].
type softmax struct {
	x       []float64
	n, d, c int
	y       []int
	decay   float64

	// The loss sums over chunks of probeChunk samples in parallel, each
	// into its part of these, and then adds the parts in a fixed order.
	losses []float64   // [chunks]
	grads  [][]float64 // [chunks][c*d + c]
}

// probeChunk is the number of samples whose loss one goroutine sums.
const probeChunk = 128

// newSoftmax returns the regression of the samples x [len(y)][d] with
// labels y over c classes.
func newSoftmax(x []float64, y []int, d, c int) *softmax {
	s := &softmax{x: x, n: len(y), d: d, c: c, y: y}
	chunks := (s.n + probeChunk - 1) / probeChunk
	s.losses = make([]float64, chunks)
	s.grads = make([][]float64, chunks)
	for i := range s.grads {
		s.grads[i] = make([]float64, c*d+c)
	}
	return s
}

// fit moves theta to the minimum of the loss with penalty decay.
func (s *softmax) fit(theta []float64, decay float64) {
	s.decay = decay
	minimise(s.loss, theta, probeGradTol, probeIterations)
}

// loss returns the mean cross-entropy plus the penalty at theta and stores
// its gradient in grad.
func (s *softmax) loss(theta, grad []float64) float64 {
	parallel.For(len(s.grads), func(lo, hi int) {
		z := make([]float64, s.c)
		for ch := lo; ch < hi; ch++ {
			s.losses[ch] = s.chunkLoss(theta, s.grads[ch], z, ch*probeChunk, min((ch+1)*probeChunk, s.n))
		}
	})
	var loss float64
	clear(grad)
	for ch, l := range s.losses {
		loss += l
		floats.Add(grad, s.grads[ch])
	}
	w := theta[:s.c*s.d]
	floats.Scale(1/float64(s.n), grad)
	floats.AddScaled(grad[:s.c*s.d], s.decay, w)
	return loss/float64(s.n) + s.decay/2*floats.Dot(w, w)
}

// chunkLoss returns the summed cross-entropy of samples lo to hi at theta
// and stores its gradient in grad, using z, of length c, as scratch.
func (s *softmax) chunkLoss(theta, grad, z []float64, lo, hi int) float64 {
	d, c := s.d, s.c
	b := theta[c*d:]
	gb := grad[c*d:]
	clear(grad)
	var loss float64
	for i := lo; i < hi; i++ {
		xi := s.x[i*d : (i+1)*d]
		top := math.Inf(-1)
		for k := range z {
			z[k] = floats.Dot(theta[k*d:(k+1)*d], xi) + b[k]
			top = max(top, z[k])
		}
		y := s.y[i]
		loss += top - z[y]
		var sum float64
		for k, v := range z {
			z[k] = math.Exp(v - top)
			sum += z[k]
		}
		loss += math.Log(sum)

		// The gradient in the logits is softmax(z) - onehot(y).
		z[y] -= sum
		for k, v := range z {
			g := v / sum
			floats.AddScaled(grad[k*d:(k+1)*d], g, xi)
			gb[k] += g
		}
	}
	return loss
}

// predict returns the most probable class of each sample of x [n][d]
// under the parameters theta of a softmax regression over c classes.
func predict(theta, x []float64, d, c int) []int {
	b := theta[c*d:]
	pred := make([]int, len(x)/d)
	for i := range pred {
		xi := x[i*d : (i+1)*d]
		best, top := 0, math.Inf(-1)
		for k := range c {
			if z := floats.Dot(theta[k*d:(k+1)*d], xi) + b[k]; z > top {
				best, top = k, z
			}
		}
		pred[i] = best
	}
	return pred
}
