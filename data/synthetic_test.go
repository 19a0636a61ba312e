package data

import (
	"bytes"
	"slices"
	"testing"
)

func TestSyntheticDeterministic(t *testing.T) {
	base := synthesize(200, 10, 3, 16, 1, 0)
	tests := []struct {
		name string
		m    *Images
		same bool
	}{
		{"same seed", synthesize(200, 10, 3, 16, 1, 0), true},
		{"other seed", synthesize(200, 10, 3, 16, 2, 0), false},
		{"other split", synthesize(200, 10, 3, 16, 1, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bytes.Equal(tt.m.Pix, base.Pix); got != tt.same {
				t.Errorf("same pixels = %v, want %v", got, tt.same)
			}
			if !slices.Equal(tt.m.Labels, base.Labels) {
				t.Errorf("labels differ")
			}
		})
	}
	// An image depends on its index, not on how many are drawn.
	if few := synthesize(37, 10, 3, 16, 1, 0); !bytes.Equal(few.Pix, base.Pix[:len(few.Pix)]) {
		t.Errorf("the first 37 of 200 images differ from 37 images")
	}
}

func TestSyntheticShape(t *testing.T) {
	tests := []struct{ n, classes, chans, size int }{
		{10, 2, 1, 28},
		{7, 3, 5, 17},
		{4, 10, 3, 1},
	}
	for _, tt := range tests {
		m := synthesize(tt.n, tt.classes, tt.chans, tt.size, 0, 0)
		if m.Len() != tt.n || m.C != tt.chans || m.H != tt.size || m.W != tt.size || len(m.Pix) != tt.n*tt.chans*tt.size*tt.size {
			t.Errorf("%+v: %d images of %dx%dx%d in %d bytes", tt, m.Len(), m.C, m.H, m.W, len(m.Pix))
		}
		if top := m.maxLabel(); top != min(tt.n, tt.classes)-1 {
			t.Errorf("%+v: largest label %d", tt, top)
		}
	}
}

// TestSyntheticClasses checks that the classes are told apart by the
// nearest class mean of the raw pixels, a linear classifier.
func TestSyntheticClasses(t *testing.T) {
	tests := []struct {
		classes, chans, size int
		minAcc               float64
	}{
		{10, 3, 16, 0.9},
		{10, 1, 28, 0.9},
		{100, 3, 16, 0.5},
	}
	for _, tt := range tests {
		train := synthesize(50*tt.classes, tt.classes, tt.chans, tt.size, 3, 0)
		test := synthesize(300, tt.classes, tt.chans, tt.size, 3, 1)
		acc := nearestMeanAccuracy(train, test, tt.classes)
		t.Logf("%d classes, %d channels of %dx%d: accuracy %.3f", tt.classes, tt.chans, tt.size, tt.size, acc)
		if acc < tt.minAcc {
			t.Errorf("%d classes, %d channels of %dx%d: nearest-mean accuracy %.3f, want >= %.2f (chance %.2f)",
				tt.classes, tt.chans, tt.size, tt.size, acc, tt.minAcc, 1/float64(tt.classes))
		}
	}
}

// nearestMeanAccuracy classifies each test image by the closest mean of a
// train class and returns the share classified right.
func nearestMeanAccuracy(train, test *Images, classes int) float64 {
	n := train.C * train.H * train.W
	means := make([][]float64, classes)
	counts := make([]int, classes)
	for c := range means {
		means[c] = make([]float64, n)
	}
	for i := range train.Len() {
		l := train.Labels[i]
		counts[l]++
		for p, v := range train.At(i) {
			means[l][p] += float64(v)
		}
	}
	for c := range means {
		for p := range means[c] {
			means[c][p] /= float64(counts[c])
		}
	}
	right := 0
	for i := range test.Len() {
		best, bestD := -1, 0.0
		for c, m := range means {
			d := 0.0
			for p, v := range test.At(i) {
				d += (float64(v) - m[p]) * (float64(v) - m[p])
			}
			if best < 0 || d < bestD {
				best, bestD = c, d
			}
		}
		if best == test.Labels[i] {
			right++
		}
	}
	return float64(right) / float64(test.Len())
}
