package data

import (
	"math/bits"
	"math/rand/v2"
)

// Streams separate the uses of one seed, so that, say, the subset of the
// train split does not depend on how many synthetic images were drawn.
const (
	streamEpoch     uint64 = iota + 1 // loader order of one epoch
	streamSubset                      // train_size and test_size subsets
	streamSynthetic                   // one synthetic image
	streamClass                       // the look of one synthetic class
	streamFolder                      // imagefolder train/test split of one class
)

// rng draws the random numbers of the package. Its outputs are defined
// here on top of PCG, whose sequence is fixed, so that a seed gives the
// same data and batch order with any Go release.
type rng struct{ src *rand.PCG }

// newRNG returns the generator of stream (kind, index) of seed.
func newRNG(seed, kind, index uint64) *rng {
	return &rng{rand.NewPCG(mix64(seed), mix64(kind<<56^index))}
}

// mix64 is the SplitMix64 finaliser: it spreads nearby seeds apart.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// intn returns a uniform integer in [0, n) by Lemire's method.
func (r *rng) intn(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.src.Uint64(), un)
	if lo < un {
		for thresh := -un % un; lo < thresh; {
			hi, lo = bits.Mul64(r.src.Uint64(), un)
		}
	}
	return int(hi)
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 {
	return float64(r.src.Uint64()>>11) * 0x1p-53
}

// perm returns a uniform permutation of [0, n) by Fisher–Yates.
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
