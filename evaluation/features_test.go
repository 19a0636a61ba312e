package evaluation

import (
	"math/rand/v2"
)

// clusters returns n vectors of dimension d, drawn from classes Gaussian
// clusters of unit variance whose centres lie sep apart along separate
// axes, labelled by their cluster, or at random if shuffle.
func clusters(r *rand.Rand, n, d, classes int, sep float64, shuffle bool) Features {
	f := Features{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n)}
	for i := range n {
		y := i % classes
		for j := range d {
			v := r.NormFloat64()
			if j == y {
				v += sep
			}
			f.X[i*d+j] = float32(v)
		}
		f.Labels[i] = y
		if shuffle {
			f.Labels[i] = r.IntN(classes)
		}
	}
	return f
}

// realistic returns n vectors of dimension d that mimic a network's
// features: rectified random mixtures of 32 latent factors with class
// means of scale sep, plus a little noise, so that the features are
// strongly correlated. The classes depend on seed, the vectors drawn from
// them on draw.
func realistic(seed, draw uint64, n, d, classes int, sep float64) Features {
	const latent = 32
	r := rand.New(rand.NewPCG(seed, 0))
	means := make([]float64, classes*latent)
	for i := range means {
		means[i] = sep * r.NormFloat64()
	}
	mix := make([]float64, d*latent)
	for i := range mix {
		mix[i] = r.NormFloat64()
	}
	f := Features{X: make([]float32, n*d), N: n, D: d, Labels: make([]int, n)}
	z := make([]float64, latent)
	r = rand.New(rand.NewPCG(seed, draw))
	for i := range n {
		y := r.IntN(classes)
		f.Labels[i] = y
		for l := range z {
			z[l] = means[y*latent+l] + r.NormFloat64()
		}
		for j := range d {
			var v float64
			for l, zl := range z {
				v += mix[j*latent+l] * zl
			}
			f.X[i*d+j] = float32(max(v, 0) + 0.1*r.NormFloat64())
		}
	}
	return f
}
