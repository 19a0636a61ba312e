package evaluation

import (
	"fmt"
	"math"

	"harness/internal/parallel"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// KNNTemperature is the temperature T of the k-NN classifier's votes: a
// neighbour of cosine similarity s votes for its class with weight
// exp(s/T), as in DINO's k-NN evaluation.
const KNNTemperature = 0.07

// knnBlock is the number of test vectors whose similarities to all train
// vectors are held at once.
const knnBlock = 128

// KNN classifies each test vector by its k nearest train vectors under
// cosine similarity and returns the top-1 accuracy. Each neighbour votes
// for its label with weight exp(s/[KNNTemperature]), s its similarity to
// the test vector; the class of the largest total wins, the smallest label
// on a tie. Neighbours of equal similarity are taken in train order, and k
// larger than the number of train vectors means all of them. Vectors of
// zero norm have similarity zero to every other.
func KNN(train, test Features, k int) (float64, error) {
	if k < 1 {
		return 0, fmt.Errorf("k-NN: k = %d", k)
	}
	if err := checkPair(train, test, 0); err != nil {
		return 0, fmt.Errorf("k-NN: %w", err)
	}
	k = min(k, train.N)
	classes := 0
	for _, y := range train.Labels {
		classes = max(classes, y+1)
	}
	d := train.D
	a := blas32.General{Rows: train.N, Cols: d, Stride: d, Data: unitRows(train.X, train.N, d)}
	q := unitRows(test.X, test.N, d)
	sim := make([]float32, knnBlock*train.N)
	pred := make([]int, test.N)
	for lo := 0; lo < test.N; lo += knnBlock {
		rows := min(knnBlock, test.N-lo)
		s := blas32.General{Rows: rows, Cols: train.N, Stride: train.N, Data: sim[:rows*train.N]}
		blas32.Gemm(blas.NoTrans, blas.Trans, 1,
			blas32.General{Rows: rows, Cols: d, Stride: d, Data: q[lo*d : (lo+rows)*d]}, a, 0, s)
		parallel.For(rows, func(rlo, rhi int) {
			v := newVoter(k, classes)
			for r := rlo; r < rhi; r++ {
				pred[lo+r] = v.vote(s.Data[r*train.N:(r+1)*train.N], train.Labels)
			}
		})
	}
	return accuracy(pred, test.Labels), nil
}

// A voter finds the nearest neighbours of one test vector and counts their
// votes.
type voter struct {
	idx   []int     // the neighbours found, most similar first
	sim   []float32 // their similarities
	votes []float64 // [classes]
}

// newVoter returns a voter for k neighbours and labels in [0, classes).
func newVoter(k, classes int) *voter {
	return &voter{idx: make([]int, 0, k), sim: make([]float32, 0, k), votes: make([]float64, classes)}
}

// vote returns the class that the k train vectors most similar to a test
// vector elect, given the similarities sim of all train vectors to it and
// their labels.
func (v *voter) vote(sim []float32, labels []int) int {
	k := cap(v.idx)
	v.idx, v.sim = v.idx[:0], v.sim[:0]
	for j, s := range sim {
		n := len(v.sim)
		if n == k && s <= v.sim[n-1] {
			continue
		}
		if n < k {
			v.idx, v.sim = v.idx[:n+1], v.sim[:n+1]
		} else {
			n-- // the least similar drops out
		}
		for n > 0 && v.sim[n-1] < s {
			v.idx[n], v.sim[n] = v.idx[n-1], v.sim[n-1]
			n--
		}
		v.idx[n], v.sim[n] = j, s
	}

	// Subtracting the top similarity keeps the weights finite and leaves
	// the winner unchanged.
	clear(v.votes)
	for i, j := range v.idx {
		v.votes[labels[j]] += math.Exp(float64(v.sim[i]-v.sim[0]) / KNNTemperature)
	}
	best := 0
	for c, w := range v.votes {
		if w > v.votes[best] {
			best = c
		}
	}
	return best
}
