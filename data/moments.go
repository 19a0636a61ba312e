package data

import "math"

// moments returns the mean and standard deviation, in [0,1] units, of each
// channel of the images after their channels are mixed by mix, which has a
// row of len m.C weights for every output channel. The statistics are
// exact: every mixed channel is linear in the stored ones, so the sums and
// cross products of the stored channels determine them.
func moments(m *Images, mix [][]float64) (mean, std []float64) {
	c, hw := m.C, m.H*m.W
	sum := make([]uint64, c)
	cross := make([]uint64, c*c) // cross[i*c+j] for j >= i
	for k := range m.Len() {
		pix := m.At(k)
		for p := range hw {
			for i := range c {
				xi := uint64(pix[i*hw+p])
				sum[i] += xi
				for j := i; j < c; j++ {
					cross[i*c+j] += xi * uint64(pix[j*hw+p])
				}
			}
		}
	}
	n := float64(m.Len() * hw)
	mean = make([]float64, len(mix))
	std = make([]float64, len(mix))
	for o, w := range mix {
		var mu, sq float64
		for i := range c {
			mu += w[i] * float64(sum[i]) / (255 * n)
			for j := range c {
				q := cross[min(i, j)*c+max(i, j)]
				sq += w[i] * w[j] * float64(q) / (255 * 255 * n)
			}
		}
		mean[o] = mu
		std[o] = math.Sqrt(max(sq-mu*mu, 0))
	}
	return mean, std
}
