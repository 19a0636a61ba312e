package evaluation

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestKNN(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 1))
	for _, tc := range []struct {
		name        string
		train, test Features
		k           int
		lo, hi      float64
	}{
		{"separable clusters", clusters(r, 600, 16, 4, 8, false), clusters(r, 400, 16, 4, 8, false), 20, 0.99, 1},
		{"random labels", clusters(r, 600, 16, 4, 8, true), clusters(r, 400, 16, 4, 8, true), 20, 0.15, 0.35},
		{"correlated features", realistic(2, 1, 1000, 128, 10, 1.5), realistic(2, 2, 300, 128, 10, 1.5), 20, 0.95, 1},
		{"k beyond the train vectors", clusters(r, 30, 8, 3, 8, false), clusters(r, 30, 8, 3, 8, false), 1000, 0.99, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := KNN(tc.train, tc.test, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if acc < tc.lo || acc > tc.hi {
				t.Errorf("accuracy %.3f, want in [%.2f, %.2f]", acc, tc.lo, tc.hi)
			}
		})
	}
}

// TestKNNByHand checks votes worked out by hand. The test vector (1, 0.1)
// has cosine similarities 0.995, 0.774, 0.774, 0.0995 and -0.995 to the
// train vectors (3, 0), (1, 1), (2, 2), (0, 2) and (-1, 0), whose lengths
// do not matter. Its nearest neighbour, of class 0, outweighs the next
// two, of class 1: exp(0.995/T) = 1.5e6 > 2 exp(0.774/T) = 1.3e5 for
// T = 0.07, where a count of votes or votes weighted by similarity
// (0.995 < 2 × 0.774) would elect class 1. The zero vector has similarity 0
// to all train vectors, so its nearest are the first in train order.
func TestKNNByHand(t *testing.T) {
	train := Features{X: []float32{3, 0, 1, 1, 2, 2, 0, 2, -1, 0}, N: 5, D: 2, Labels: []int{0, 1, 1, 1, 0}}
	for _, tc := range []struct {
		name  string
		x     []float32
		label int
		k     int
		want  float64
	}{
		{"nearest", []float32{1, 0.1}, 0, 1, 1},
		{"weighted votes", []float32{1, 0.1}, 0, 3, 1},
		{"all vote", []float32{1, 0.1}, 0, 5, 1},
		{"second nearest", []float32{1, 0.1}, 1, 1, 0},
		{"nearer to (1, 1)", []float32{0.9, 1}, 1, 2, 1},
		{"zero vector, first in train order", []float32{0, 0}, 0, 1, 1},
		{"zero vector, tie of two classes", []float32{0, 0}, 0, 2, 1},
		{"zero vector, two of class 1", []float32{0, 0}, 1, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			test := Features{X: tc.x, N: 1, D: 2, Labels: []int{tc.label}}
			acc, err := KNN(train, test, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if acc != tc.want {
				t.Errorf("accuracy %v, want %v", acc, tc.want)
			}
		})
	}
}

// TestKNNScaleInvariant checks that scaling vectors by positive factors
// changes nothing.
func TestKNNScaleInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	train, test := clusters(r, 300, 8, 3, 1.5, false), clusters(r, 200, 8, 3, 1.5, false)
	want, err := KNN(train, test, 10)
	if err != nil {
		t.Fatal(err)
	}
	scaled := train
	scaled.X = make([]float32, len(train.X))
	for i := range train.N {
		s := float32(int(1) << r.IntN(10)) // exact in float32
		for j := range train.D {
			scaled.X[i*train.D+j] = s * train.X[i*train.D+j]
		}
	}
	if got, err := KNN(scaled, test, 10); err != nil || got != want {
		t.Errorf("scaled train vectors: accuracy %v, %v, want %v", got, err, want)
	}
}

func TestKNNErrors(t *testing.T) {
	good := Features{X: []float32{1, 0, 0, 1}, N: 2, D: 2, Labels: []int{0, 1}}
	for _, tc := range []struct {
		name        string
		train, test Features
		k           int
		want        string
	}{
		{"k zero", good, good, 0, "k = 0"},
		{"dimensions differ", good, Features{X: []float32{1}, N: 1, D: 1, Labels: []int{0}}, 1, "train features of dimension 2, test features of dimension 1"},
		{"negative label", Features{X: []float32{1, 0}, N: 1, D: 2, Labels: []int{-2}}, good, 1, "train features: label -2"},
		{"infinite value", good, Features{X: []float32{1, float32(math.Inf(1))}, N: 1, D: 2, Labels: []int{0}}, 1, "test features: value 1 of vector 0 is +Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := KNN(tc.train, tc.test, tc.k)
			if err == nil || !strings.HasPrefix(err.Error(), "k-NN: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}
