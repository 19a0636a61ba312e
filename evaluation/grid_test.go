package evaluation

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// filled returns an image [len(v)][size][size] whose channel k holds the
// normalised value v[k] everywhere, except pixel (0, 0), which holds
// corner in every channel.
func filled(size int, corner float32, v ...float32) []float32 {
	im := make([]float32, len(v)*size*size)
	for k := range v {
		plane := im[k*size*size : (k+1)*size*size]
		for i := range plane {
			plane[i] = v[k]
		}
		plane[0] = corner
	}
	return im
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestWriteReconGrid(t *testing.T) {
	white := color.RGBA{255, 255, 255, 255}
	grey := func(v uint8) color.RGBA { return color.RGBA{v, v, v, 255} }
	type probe struct {
		x, y int
		want color.RGBA
	}
	for _, tc := range []struct {
		name          string
		cols          [][]float32
		n, c, size    int
		mean, std     []float64
		width, height int
		probes        []probe
	}{
		{
			// Three 28-pixel columns scale by 4 to 3·112 + 4·2 = 344
			// pixels. Values v map to 0.25 v + 0.5: 0 to 128, 2 to 255,
			// -1 to 64, and the corner 10 clips to 255, -10 to 0.
			name: "grey 28x28 scaled by 4",
			cols: [][]float32{
				slices.Concat(filled(28, 10, 0), filled(28, -10, -2)),
				slices.Concat(filled(28, 10, 2), filled(28, -10, 1)),
				slices.Concat(filled(28, 10, -1), filled(28, -10, 0.5)),
			},
			n: 2, c: 1, size: 28,
			mean: []float64{0.5}, std: []float64{0.25},
			width: 344, height: 2*112 + 3*2,
			probes: []probe{
				{0, 0, white}, {1, 50, white}, {114, 50, white}, {50, 115, white}, {343, 229, white},
				{2, 2, grey(255)}, {5, 5, grey(255)}, {6, 6, grey(128)}, {113, 113, grey(128)}, // row 0: the corner, 4×4 pixels, then 0
				{116, 60, grey(255)}, {230, 60, grey(64)},
				{2, 116, grey(0)}, {60, 116 + 111, grey(0)}, {118, 120, grey(191)}, {300, 200, grey(159)},
			},
		},
		{
			// Four 32-pixel columns scale by 3 to 4·96 + 5·2 = 394 pixels.
			name: "RGB 32x32 scaled by 3",
			cols: [][]float32{
				filled(32, 0, 0, 1, -1), filled(32, 0, 1, 0, 0),
				filled(32, 0, -1, -1, -1), filled(32, 0, 2, 2, 2),
			},
			n: 1, c: 3, size: 32,
			mean: []float64{0.4, 0.5, 0.6}, std: []float64{0.2, 0.2, 0.2},
			width: 394, height: 96 + 4,
			probes: []probe{
				{0, 0, white}, {98, 40, white},
				{2, 2, color.RGBA{102, 128, 153, 255}},
				{50, 50, color.RGBA{102, 179, 102, 255}},
				{100, 50, color.RGBA{153, 128, 153, 255}},
				{198, 97, color.RGBA{51, 77, 102, 255}},
				{391, 97, color.RGBA{204, 230, 255, 255}},
			},
		},
		{
			name: "large images are not scaled",
			cols: [][]float32{filled(160, 0, 0), filled(160, 0, 0)},
			n:    1, c: 1, size: 160,
			mean: []float64{0}, std: []float64{1},
			width: 2*160 + 3*2, height: 160 + 2*2,
			probes: []probe{{2, 2, grey(0)}, {161, 161, grey(0)}, {162, 80, white}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "grid.png")
			if err := WriteReconGrid(path, tc.cols, tc.n, tc.c, tc.size, tc.mean, tc.std); err != nil {
				t.Fatal(err)
			}
			img := decode(t, path)
			if b := img.Bounds(); b.Dx() != tc.width || b.Dy() != tc.height {
				t.Fatalf("size %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.width, tc.height)
			}
			for _, p := range tc.probes {
				if got := color.RGBAModel.Convert(img.At(p.x, p.y)).(color.RGBA); got != p.want {
					t.Errorf("pixel (%d, %d) = %v, want %v", p.x, p.y, got, p.want)
				}
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
				t.Errorf("directory holds %v (%v), want only grid.png", entries, err)
			}
		})
	}
}

func TestWriteReconGridErrors(t *testing.T) {
	g := filled(4, 0, 0)
	one := []float64{0}
	for _, tc := range []struct {
		name       string
		cols       [][]float32
		n, c, size int
		mean, std  []float64
		want       string
	}{
		{"no columns", nil, 1, 1, 4, one, one, "0 columns of 1 images"},
		{"no samples", [][]float32{g}, 0, 1, 4, one, one, "1 columns of 0 images"},
		{"two channels", [][]float32{filled(4, 0, 0, 0)}, 1, 2, 4, one, one, "2 channels, want 1 or 3"},
		{"no pixels", [][]float32{nil}, 1, 1, 0, one, one, "0x0 pixels"},
		{"means for RGB", [][]float32{filled(4, 0, 0, 0, 0)}, 1, 3, 4, one, one, "1 means and 1 standard deviations for 3 channels"},
		{"short column", [][]float32{g, g[:15]}, 1, 1, 4, one, one, "column 1 holds 15 values, want 1 images of 1 channels of 4x4 pixels"},
		{"samples missing", [][]float32{g, g}, 2, 1, 4, one, one, "column 0 holds 16 values, want 2 images"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "grid.png")
			err := WriteReconGrid(path, tc.cols, tc.n, tc.c, tc.size, tc.mean, tc.std)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("directory holds %v, want nothing", entries)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "missing", "grid.png")
	if err := WriteReconGrid(path, [][]float32{g}, 1, 1, 4, one, one); err == nil {
		t.Error("no error writing into a missing directory")
	}
}

// A labelled grid has a header row naming each column, in black on white
// above it and within its width; the images move down below it, scaled up
// until the longest word fits a column.
func TestWriteLabelledReconGrid(t *testing.T) {
	labels := []string{"original", "masked", "reconstruction", "reconstruction + visible"}
	var cols [][]float32
	for range labels {
		cols = append(cols, slices.Concat(filled(28, 0, 0), filled(28, 0, 0)))
	}
	path := filepath.Join(t.TempDir(), "grid.png")
	if err := WriteLabelledReconGrid(path, cols, labels, 2, 1, 28, []float64{0.5}, []float64{0.25}); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	b := img.Bounds()
	// "reconstruction", 14 characters of 7 pixels, needs 98-pixel cells:
	// 28-pixel images scale by 4, as for width 300 they would by 3
	const cell = 112
	if b.Dx() != 4*cell+5*GridBorder {
		t.Fatalf("width %d, want 4 cells of %d", b.Dx(), cell)
	}
	// two lines of labels ("reconstruction" / "+ visible") and padding
	top := 2*13 + 6
	if want := top + 2*cell + 3*GridBorder; b.Dy() != want {
		t.Fatalf("height %d, want %d", b.Dy(), want)
	}
	dark := func(x0, x1, y0, y1 int) int {
		n := 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray); g.Y < 128 {
					n++
				}
			}
		}
		return n
	}
	for k, l := range labels {
		x0 := GridBorder + k*(cell+GridBorder)
		if dark(x0, x0+cell, 0, top) < 10*len(strings.ReplaceAll(l, " ", "")) {
			t.Errorf("column %d: no label %q drawn above it", k, l)
		}
		// the borders between columns stay blank: labels fit their cell
		if k > 0 && dark(x0-GridBorder, x0, 0, top) > 0 {
			t.Errorf("label %q spills over its column's edge", l)
		}
		// the first image starts below the header: 0 maps to grey 128
		if g := color.GrayModel.Convert(img.At(x0+cell/2, top+GridBorder+1)).(color.Gray); g.Y != 128 {
			t.Errorf("column %d: pixel below the header is %v, want the image's 128", k, g)
		}
	}
	if err := WriteLabelledReconGrid(path, cols, labels[:2], 2, 1, 28, []float64{0.5}, []float64{0.25}); err == nil ||
		!strings.Contains(err.Error(), "2 labels for 4 columns") {
		t.Errorf("error %v for too few labels", err)
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  string
	}{
		{"reconstruction + visible", 112, "reconstruction|+ visible"},
		{"reconstruction + visible", 200, "reconstruction + visible"},
		{"masked input", 50, "masked|input"},
		{"original", 10, "original"}, // a word wider than the line stays whole
		{"a +", 100, "a +"},          // a trailing symbol joins the line before
	} {
		if got := strings.Join(wrap(tc.s, tc.width), "|"); got != tc.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}
