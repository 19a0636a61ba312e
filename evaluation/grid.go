package evaluation

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"harness/internal/atomicfile"
)

// Layout of a reconstruction grid.
const (
	// GridBorder is the width in pixels of the white border around and
	// between the cells of a reconstruction grid.
	GridBorder = 2
	// GridMinWidth is the width in pixels below which a reconstruction
	// grid scales its images up by an integer factor.
	GridMinWidth = 300
)

// WriteReconGrid draws the images of n samples side by side into a PNG
// file at path. Row i of the grid shows image i of each column of cols:
// typically the originals, the masked inputs, the reconstructions and
// perhaps the reconstructions with the visible patches pasted back. Each
// column holds n images of c channels, 1 (grey) or 3 (RGB), of size×size
// values, laid out [n][c][size][size] as a model sees them: value x of
// channel k stands for the pixel value x·std[k] + mean[k], which is
// clipped to [0, 1].
//
// Cells are separated and surrounded by [GridBorder] white pixels, and
// each image is scaled up by the smallest integer factor that makes the
// grid at least [GridMinWidth] pixels wide. The file is written to a
// temporary file beside path and renamed, so it appears whole or not at
// all.
func WriteReconGrid(path string, cols [][]float32, n, c, size int, mean, std []float64) error {
	img, err := reconGrid(cols, n, c, size, mean, std)
	if err != nil {
		return fmt.Errorf("reconstruction grid %s: %w", path, err)
	}
	if err := writePNG(path, img); err != nil {
		return fmt.Errorf("reconstruction grid: %w", err)
	}
	return nil
}

// reconGrid returns the image that WriteReconGrid writes.
func reconGrid(cols [][]float32, n, c, size int, mean, std []float64) (draw.Image, error) {
	switch {
	case n < 1 || len(cols) == 0:
		return nil, fmt.Errorf("%d columns of %d images", len(cols), n)
	case c != 1 && c != 3:
		return nil, fmt.Errorf("images of %d channels, want 1 or 3", c)
	case size < 1:
		return nil, fmt.Errorf("images of %dx%d pixels", size, size)
	case len(mean) != c || len(std) != c:
		return nil, fmt.Errorf("%d means and %d standard deviations for %d channels", len(mean), len(std), c)
	}
	plane := size * size
	for k, col := range cols {
		if len(col) != n*c*plane {
			return nil, fmt.Errorf("column %d holds %d values, want %d images of %d channels of %dx%d pixels",
				k, len(col), n, c, size, size)
		}
	}

	scale := 1
	for len(cols)*size*scale+(len(cols)+1)*GridBorder < GridMinWidth {
		scale++
	}
	cell := size * scale
	bounds := image.Rect(0, 0, len(cols)*cell+(len(cols)+1)*GridBorder, n*cell+(n+1)*GridBorder)
	var dst draw.Image
	if c == 1 {
		dst = image.NewGray(bounds)
	} else {
		dst = image.NewRGBA(bounds)
	}
	draw.Draw(dst, bounds, image.White, image.Point{}, draw.Src)
	for i := range n {
		y0 := GridBorder + i*(cell+GridBorder)
		for k, col := range cols {
			x0 := GridBorder + k*(cell+GridBorder)
			im := col[i*c*plane : (i+1)*c*plane]
			for y := range cell {
				for x := range cell {
					dst.Set(x0+x, y0+y, pixel(im, (y/scale)*size+x/scale, plane, mean, std))
				}
			}
		}
	}
	return dst, nil
}

// pixel returns the colour of pixel p of the image im of len(mean) planes
// of plane values, undoing the normalisation.
func pixel(im []float32, p, plane int, mean, std []float64) color.Color {
	if len(mean) == 1 {
		return color.Gray{level(im[p], mean[0], std[0])}
	}
	return color.RGBA{
		level(im[p], mean[0], std[0]),
		level(im[plane+p], mean[1], std[1]),
		level(im[2*plane+p], mean[2], std[2]),
		255,
	}
}

// level returns the 8-bit level of the normalised value v of a channel of
// the given mean and standard deviation, clipped to [0, 255]; NaN is 0.
func level(v float32, mean, std float64) uint8 {
	u := float64(v)*std + mean
	if !(u > 0) {
		return 0
	}
	return uint8(math.Round(min(u, 1) * 255))
}

// writePNG encodes img into a temporary file beside path and renames it to
// path.
func writePNG(path string, img image.Image) (err error) {
	return atomicfile.Write(path, func(w io.Writer) error {
		if err := png.Encode(w, img); err != nil {
			return fmt.Errorf("encoding %s: %w", path, err)
		}
		return nil
	})
}
