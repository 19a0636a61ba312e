package data

import (
	"math"

	"harness/internal/parallel"
)

// Numbers of synthetic images drawn when train_size or test_size is 0.
const (
	syntheticTrain = 5000
	syntheticTest  = 1000
)

// synthClass is the look of one synthetic class: a bright blob near a
// point of its own over a sinusoidal grating of its own orientation and
// frequency, tinted by gains of its own on each channel.
type synthClass struct {
	theta  float64   // grating orientation, radians
	freq   float64   // grating frequency, cycles per image side
	cx, cy float64   // blob centre, in image sides
	tint   []float64 // gain of each channel
}

// synthClasses returns the looks of k classes of images with chans
// channels. The blob centres lie evenly on a circle and the orientations
// evenly on a half turn; frequencies and tints are drawn from seed.
func synthClasses(k, chans int, seed uint64) []synthClass {
	cls := make([]synthClass, k)
	for c := range cls {
		r := newRNG(seed, streamClass, uint64(c))
		a := 2 * math.Pi * float64(c) / float64(k)
		cls[c] = synthClass{
			theta: math.Pi * (float64(c) + 0.5*r.float()) / float64(k),
			freq:  2 + 4*r.float(),
			cx:    0.5 + 0.25*math.Cos(a),
			cy:    0.5 + 0.25*math.Sin(a),
			tint:  make([]float64, chans),
		}
		for i := range cls[c].tint {
			cls[c].tint[i] = 0.5 + 0.5*r.float()
		}
	}
	return cls
}

// synthesize draws n square images of the given side and channels, image
// i of class i mod classes. Each image depends only on seed, split and i.
func synthesize(n, classes, chans, size int, seed, split uint64) *Images {
	cls := synthClasses(classes, chans, seed)
	m := &Images{C: chans, H: size, W: size, Pix: make([]uint8, n*chans*size*size), Labels: make([]int, n)}
	parallel.For(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			m.Labels[i] = i % classes
			cls[m.Labels[i]].draw(m.At(i), size, newRNG(seed, streamSynthetic, split<<40|uint64(i)))
		}
	})
	return m
}

// draw renders one image of the class into pix, laid out [C][size][size],
// with the blob's position and width, the grating's phase and contrast,
// and the pixel noise drawn from r. Both the blob and the grating are
// separable in x and y, so the cost is a few operations per pixel.
func (c *synthClass) draw(pix []uint8, size int, r *rng) {
	phase := 2 * math.Pi * r.float()
	cx := c.cx + 0.12*(r.float()-0.5)
	cy := c.cy + 0.12*(r.float()-0.5)
	sigma := 0.12 + 0.06*r.float()
	contrast := 0.1 + 0.1*r.float()
	kx := 2 * math.Pi * c.freq * math.Cos(c.theta)
	ky := 2 * math.Pi * c.freq * math.Sin(c.theta)
	// Along x: cos and sin of the grating's phase, and the blob profile;
	// likewise along y.
	ax := make([]float64, 3*size)
	ay := make([]float64, 3*size)
	for p := range size {
		u := (float64(p) + 0.5) / float64(size)
		ax[p], ax[size+p] = math.Cos(kx*u+phase), math.Sin(kx*u+phase)
		ay[p], ay[size+p] = math.Cos(ky*u), math.Sin(ky*u)
		ax[2*size+p] = math.Exp(-(u - cx) * (u - cx) / (2 * sigma * sigma))
		ay[2*size+p] = math.Exp(-(u - cy) * (u - cy) / (2 * sigma * sigma))
	}
	v := make([]float64, size*size)
	for y := range size {
		for x := range size {
			grating := ax[x]*ay[y] - ax[size+x]*ay[size+y]
			v[y*size+x] = 0.15 + 0.55*ax[2*size+x]*ay[2*size+y] + contrast*grating
		}
	}
	// The noise takes 16 bits at a time from the generator.
	var bits uint64
	for ch, g := range c.tint {
		out := pix[ch*len(v) : (ch+1)*len(v)]
		for p, vp := range v {
			if p%4 == 0 {
				bits = r.src.Uint64()
			}
			noise := float64(bits&0xffff)*0x1p-16 - 0.5
			bits >>= 16
			out[p] = uint8(255*min(max(vp*g+0.1*noise, 0), 1) + 0.5)
		}
	}
}
