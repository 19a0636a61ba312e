package data

import (
	"math"
	"strings"
	"testing"
)

func TestTransform(t *testing.T) {
	tests := []struct {
		name      string
		c, h, w   int
		pix       []uint8
		in        Input
		fit       string
		mean, std []float64
		want      []float32
	}{
		{
			name: "identity", c: 1, h: 2, w: 2, pix: []uint8{0, 51, 102, 255},
			in: Input{1, 2}, fit: "resize", mean: []float64{0}, std: []float64{1},
			want: []float32{0, 0.2, 0.4, 1},
		},
		{
			name: "normalise", c: 1, h: 2, w: 2, pix: []uint8{0, 51, 102, 255},
			in: Input{1, 2}, fit: "pad", mean: []float64{0.2}, std: []float64{0.4},
			want: []float32{-0.5, 0, 0.5, 2},
		},
		{
			// Along each axis the output samples the source at 0, 0.25, 0.75
			// and (clamped) 1, so the value is fx + fy - 2 fx fy.
			name: "upsample", c: 1, h: 2, w: 2, pix: []uint8{0, 255, 255, 0},
			in: Input{1, 4}, fit: "resize", mean: []float64{0}, std: []float64{1},
			want: []float32{
				0, 0.25, 0.75, 1,
				0.25, 0.375, 0.625, 0.75,
				0.75, 0.625, 0.375, 0.25,
				1, 0.75, 0.25, 0,
			},
		},
		{
			// Halving samples the centre of each 2x2 block: its mean.
			name: "downsample", c: 1, h: 4, w: 4,
			pix: []uint8{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150},
			in:  Input{1, 2}, fit: "resize", mean: []float64{0}, std: []float64{1.0 / 255},
			want: []float32{25, 45, 105, 125},
		},
		{
			name: "stretch rectangle", c: 1, h: 1, w: 2, pix: []uint8{0, 255},
			in: Input{1, 2}, fit: "resize", mean: []float64{0}, std: []float64{1},
			want: []float32{0, 1, 0, 1},
		},
		{
			name: "pad", c: 1, h: 2, w: 2, pix: []uint8{255, 51, 0, 255},
			in: Input{1, 4}, fit: "pad", mean: []float64{0.5}, std: []float64{0.5},
			want: []float32{
				-1, -1, -1, -1,
				-1, 1, -0.6, -1,
				-1, -1, 1, -1,
				-1, -1, -1, -1,
			},
		},
		{
			// An odd margin puts the extra row and column after the image.
			name: "pad odd", c: 1, h: 1, w: 2, pix: []uint8{255, 255},
			in: Input{1, 3}, fit: "pad", mean: []float64{0}, std: []float64{1},
			want: []float32{
				0, 0, 0,
				1, 1, 0,
				0, 0, 0,
			},
		},
		{
			name: "replicate", c: 1, h: 1, w: 1, pix: []uint8{51},
			in: Input{3, 1}, fit: "resize", mean: []float64{0, 0.1, 0.2}, std: []float64{1, 1, 0.5},
			want: []float32{0.2, 0.1, 0},
		},
		{
			// Pixels (255, 0, 255) and (0, 255, 0) over a black row.
			name: "luminance", c: 3, h: 1, w: 2, pix: []uint8{255, 0, 0, 255, 255, 0},
			in: Input{1, 2}, fit: "pad", mean: []float64{0}, std: []float64{1},
			want: []float32{0.413, 0.587, 0, 0},
		},
		{
			name: "keep rgb", c: 3, h: 1, w: 1, pix: []uint8{255, 0, 51},
			in: Input{3, 1}, fit: "resize", mean: []float64{0, 0, 0}, std: []float64{1, 1, 1},
			want: []float32{1, 0, 0.2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tf, err := NewTransform(tt.c, tt.h, tt.w, tt.in, tt.fit, tt.mean, tt.std)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, tt.in.Len()+1)
			got[len(got)-1] = 42
			tf.Apply(got, tt.pix)
			if got[len(got)-1] != 42 {
				t.Errorf("Apply wrote past the image")
			}
			for i, w := range tt.want {
				if math.Abs(float64(got[i]-w)) > 1e-5 {
					t.Fatalf("got %v, want %v", got[:len(tt.want)], tt.want)
				}
			}
		})
	}
}

func TestNewTransformErrors(t *testing.T) {
	one, three := []float64{0}, []float64{0, 0, 0}
	tests := []struct {
		name      string
		c, h, w   int
		in        Input
		fit       string
		mean, std []float64
		want      string
	}{
		{"two channels to three", 2, 4, 4, Input{3, 4}, "resize", three, three,
			"cannot turn 2-channel images into 3-channel model input"},
		{"three channels to two", 3, 4, 4, Input{2, 4}, "resize", []float64{0, 0}, []float64{1, 1},
			"cannot turn 3-channel images into 2-channel model input"},
		{"pad shrinks", 1, 5, 3, Input{1, 4}, "pad", one, one, `fit "pad" cannot shrink 5x3 images to 4x4`},
		{"unknown fit", 1, 4, 4, Input{1, 4}, "crop", one, one, `fit must be "resize" or "pad", got "crop"`},
		{"mean per channel", 1, 4, 4, Input{3, 4}, "resize", one, three, "1 means and 3 standard deviations for 3 input channels"},
		{"empty images", 1, 0, 4, Input{1, 4}, "resize", one, one, "images of 1 channels of 0x4 pixels"},
		{"empty input", 1, 4, 4, Input{1, 0}, "resize", one, one, "model input of 1 channels of 0x0 pixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTransform(tt.c, tt.h, tt.w, tt.in, tt.fit, tt.mean, tt.std)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewTransform = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestMoments(t *testing.T) {
	gray := &Images{C: 1, H: 1, W: 2, Pix: []uint8{0, 255, 0, 255}, Labels: []int{0, 0}}
	red := &Images{C: 3, H: 1, W: 1, Pix: []uint8{255, 0, 0, 0, 0, 0}, Labels: []int{0, 0}}
	rgb := &Images{C: 3, H: 1, W: 1, Pix: []uint8{255, 51, 0, 0, 153, 0}, Labels: []int{0, 0}}
	tests := []struct {
		name      string
		m         *Images
		chans     int
		mean, std []float64
	}{
		{"gray", gray, 1, []float64{0.5}, []float64{0.5}},
		{"gray replicated", gray, 3, []float64{0.5, 0.5, 0.5}, []float64{0.5, 0.5, 0.5}},
		{"luminance", red, 1, []float64{0.1495}, []float64{0.1495}},
		{"rgb", rgb, 3, []float64{0.5, 0.4, 0}, []float64{0.5, 0.2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mix, err := channelMix(tt.m.C, tt.chans)
			if err != nil {
				t.Fatal(err)
			}
			mean, std := moments(tt.m, mix)
			for i := range tt.mean {
				if math.Abs(mean[i]-tt.mean[i]) > 1e-9 || math.Abs(std[i]-tt.std[i]) > 1e-9 {
					t.Fatalf("mean %v std %v, want %v %v", mean, std, tt.mean, tt.std)
				}
			}
		})
	}
}
