package evaluation

import (
	"fmt"
	"math"
)

// Features are N feature vectors of dimension D, one per image, with the
// images' class labels.
type Features struct {
	X      []float32 // [N][D], row-major
	N, D   int
	Labels []int // [N], class indices from 0
}

// check reports the first inconsistency of f, value that is not finite,
// or label outside [0, classes) (negative when classes is 0).
func (f Features) check(classes int) error {
	switch {
	case f.N < 1 || f.D < 1:
		return fmt.Errorf("%d vectors of dimension %d", f.N, f.D)
	case len(f.X) != f.N*f.D:
		return fmt.Errorf("%d values for %d vectors of dimension %d", len(f.X), f.N, f.D)
	case len(f.Labels) != f.N:
		return fmt.Errorf("%d labels for %d vectors", len(f.Labels), f.N)
	}
	for k, v := range f.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("value %d of vector %d is %v", k%f.D, k/f.D, v)
		}
	}
	for i, y := range f.Labels {
		if y < 0 || classes > 0 && y >= classes {
			return fmt.Errorf("label %d of vector %d outside [0, %d)", y, i, classes)
		}
	}
	return nil
}

// checkPair checks train and test features and that their dimensions
// agree.
func checkPair(train, test Features, classes int) error {
	if err := train.check(classes); err != nil {
		return fmt.Errorf("train features: %w", err)
	}
	if err := test.check(classes); err != nil {
		return fmt.Errorf("test features: %w", err)
	}
	if train.D != test.D {
		return fmt.Errorf("train features of dimension %d, test features of dimension %d", train.D, test.D)
	}
	return nil
}

// accuracy returns the fraction of pred that equals labels.
func accuracy(pred, labels []int) float64 {
	hits := 0
	for i, p := range pred {
		if p == labels[i] {
			hits++
		}
	}
	return float64(hits) / float64(len(labels))
}

// unitRows returns the rows of the n×d matrix x scaled to unit Euclidean
// norm; rows of zeros stay zero.
func unitRows(x []float32, n, d int) []float32 {
	u := make([]float32, len(x))
	for i := range n {
		row := x[i*d : (i+1)*d]
		inv := invNorm(row)
		for j, v := range row {
			u[i*d+j] = float32(float64(v) * inv)
		}
	}
	return u
}

// invNorm returns 1/‖row‖, or 0 for a row of zeros.
func invNorm(row []float32) float64 {
	var ss float64
	for _, v := range row {
		ss += float64(v) * float64(v)
	}
	if ss == 0 {
		return 0
	}
	return 1 / math.Sqrt(ss)
}
