package evaluation

import (
	"math/rand/v2"
	"testing"
)

// The benchmarks time the evaluations at the sizes of the default [eval]
// table: 2000 train and 1000 test vectors of ViT-small width.

func BenchmarkLinearProbe(b *testing.B) {
	train, test := realistic(1, 1, 2000, 384, 10, 0.6), realistic(1, 2, 1000, 384, 10, 0.6)
	for b.Loop() {
		if _, err := LinearProbe(train, test, 10); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKNN(b *testing.B) {
	train, test := realistic(1, 1, 2000, 384, 10, 0.6), realistic(1, 2, 1000, 384, 10, 0.6)
	for b.Loop() {
		if _, err := KNN(train, test, 20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodingRateHeads times one image's tokens in a ViT-base layer:
// 197 tokens, 12 heads of dimension 64.
func BenchmarkCodingRateHeads(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 1))
	z := make([]float32, 197*12*64)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	for b.Loop() {
		CodingRateHeads(z, 197, 12, 64, CodingRateEps)
	}
}
