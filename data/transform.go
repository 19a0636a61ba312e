package data

import "fmt"

// Input is the shape of a model's input: Chans planes of Size x Size
// pixels.
type Input struct {
	Chans, Size int
}

// Len returns the number of values in one input image.
func (in Input) Len() int { return in.Chans * in.Size * in.Size }

// luminance holds the ITU-R BT.601 weights of red, green and blue, as in
// PIL's conversion to grayscale.
var luminance = []float64{0.299, 0.587, 0.114}

// Transform turns stored images of one shape into model inputs. It first
// converts the channels (kept; one replicated to all; red, green and blue
// to luminance), then resizes with bilinear interpolation (half-pixel
// centres, no antialiasing, as PyTorch's interpolate with
// align_corners=False) or centres the image on a black square, then maps
// each pixel value p/255 of channel c to (p/255 - Mean[c]) / Std[c].
type Transform struct {
	In        Input
	Fit       string    // "resize" or "pad"
	Mean, Std []float64 // per input channel, in [0,1] units

	c, h, w int         // shape of the stored images
	scale   [][]float32 // scale[o][i]: weight of stored channel i in input channel o, over 255*Std[o]
	bias    []float32   // -Mean[o]/Std[o]
	ys, xs  []tap       // where each input row and column samples the stored image
}

// NewTransform returns the transform of images with c channels of h x w
// pixels into in. fit is "resize" or "pad"; mean and std hold a value for
// each of the in.Chans channels.
func NewTransform(c, h, w int, in Input, fit string, mean, std []float64) (*Transform, error) {
	if c < 1 || h < 1 || w < 1 {
		return nil, fmt.Errorf("images of %d channels of %dx%d pixels", c, h, w)
	}
	if in.Chans < 1 || in.Size < 1 {
		return nil, fmt.Errorf("model input of %d channels of %dx%d pixels", in.Chans, in.Size, in.Size)
	}
	if len(mean) != in.Chans || len(std) != in.Chans {
		return nil, fmt.Errorf("%d means and %d standard deviations for %d input channels", len(mean), len(std), in.Chans)
	}
	mix, err := channelMix(c, in.Chans)
	if err != nil {
		return nil, err
	}
	t := &Transform{In: in, Fit: fit, Mean: mean, Std: std, c: c, h: h, w: w}
	switch fit {
	case "resize":
		t.ys, t.xs = resizeTaps(h, in.Size), resizeTaps(w, in.Size)
	case "pad":
		if h > in.Size || w > in.Size {
			return nil, fmt.Errorf("fit \"pad\" cannot shrink %dx%d images to %dx%d", h, w, in.Size, in.Size)
		}
		t.ys, t.xs = padTaps(h, in.Size), padTaps(w, in.Size)
	default:
		return nil, fmt.Errorf("fit must be \"resize\" or \"pad\", got %q", fit)
	}
	t.scale = make([][]float32, in.Chans)
	t.bias = make([]float32, in.Chans)
	for o, row := range mix {
		t.scale[o] = make([]float32, c)
		for i, m := range row {
			t.scale[o][i] = float32(m / (255 * std[o]))
		}
		t.bias[o] = float32(-mean[o] / std[o])
	}
	return t, nil
}

// channelMix returns the weights, a row per output channel, that turn
// images of cin channels into images of cout channels.
func channelMix(cin, cout int) ([][]float64, error) {
	mix := make([][]float64, cout)
	for o := range mix {
		mix[o] = make([]float64, cin)
		switch {
		case cin == cout:
			mix[o][o] = 1
		case cin == 1:
			mix[o][0] = 1
		case cin == 3 && cout == 1:
			copy(mix[o], luminance)
		default:
			return nil, fmt.Errorf("cannot turn %d-channel images into %d-channel model input", cin, cout)
		}
	}
	return mix, nil
}

// Apply writes the model input made from the stored image pix, laid out
// [C][H][W], to dst[:t.In.Len()], laid out [Chans][Size][Size].
func (t *Transform) Apply(dst []float32, pix []uint8) {
	s := t.In.Size
	dst = dst[:t.In.Len()]
	pix = pix[:t.c*t.h*t.w]
	for o, weights := range t.scale {
		out := dst[o*s*s : (o+1)*s*s]
		for k := range out {
			out[k] = t.bias[o]
		}
		for i, sc := range weights {
			if sc == 0 {
				continue
			}
			plane := pix[i*t.h*t.w : (i+1)*t.h*t.w]
			for oy, y := range t.ys {
				row := out[oy*s : (oy+1)*s]
				for ox, x := range t.xs {
					row[ox] += sc * sample(plane, t.w, y, x)
				}
			}
		}
	}
}

// tap says where one output row or column samples its source: between
// source rows (or columns) i0 and i1 at fraction w, or nowhere (black)
// when in is false.
type tap struct {
	i0, i1 int
	w      float32
	in     bool
}

// resizeTaps returns the taps that stretch n source pixels to size, with
// the source and output pixel grids aligned at their outer edges.
func resizeTaps(n, size int) []tap {
	taps := make([]tap, size)
	for o := range taps {
		s := max((float64(o)+0.5)*float64(n)/float64(size)-0.5, 0)
		i0 := int(s)
		taps[o] = tap{i0: i0, i1: min(i0+1, n-1), w: float32(s - float64(i0)), in: true}
	}
	return taps
}

// padTaps returns the taps that centre n source pixels among size,
// leaving (size-n)/2 pixels, rounded down, before them.
func padTaps(n, size int) []tap {
	taps := make([]tap, size)
	off := (size - n) / 2
	for o := range taps {
		i := o - off
		taps[o] = tap{i0: i, i1: i, in: 0 <= i && i < n}
	}
	return taps
}

// sample returns the value of the plane of width w, row-major, at the
// point the taps y and x select.
func sample(plane []uint8, w int, y, x tap) float32 {
	if !y.in || !x.in {
		return 0
	}
	r0, r1 := plane[y.i0*w:], plane[y.i1*w:]
	a := float32(r0[x.i0]) + x.w*(float32(r0[x.i1])-float32(r0[x.i0]))
	b := float32(r1[x.i0]) + x.w*(float32(r1[x.i1])-float32(r1[x.i0]))
	return a + y.w*(b-a)
}
