package evaluation

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

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
	return WriteLabelledReconGrid(path, cols, nil, n, c, size, mean, std)
}

// WriteLabelledReconGrid is [WriteReconGrid] with a header row above the
// grid naming each column: labels[k] is column k's, such as "original",
// "masked", "reconstruction", "reconstruction + visible". Labels are drawn
// in black in a 7×13-pixel bitmap font, centred over their column and
// wrapped at spaces to its width; the images are scaled up until every
// word fits. No labels (nil) means no header.
func WriteLabelledReconGrid(path string, cols [][]float32, labels []string, n, c, size int, mean, std []float64) error {
	if labels != nil && len(labels) != len(cols) {
		return fmt.Errorf("reconstruction grid %s: %d labels for %d columns", path, len(labels), len(cols))
	}
	img, err := reconGrid(cols, labels, n, c, size, mean, std)
	if err != nil {
		return fmt.Errorf("reconstruction grid %s: %w", path, err)
	}
	if err := writePNG(path, img); err != nil {
		return fmt.Errorf("reconstruction grid: %w", err)
	}
	return nil
}

// reconGrid returns the image that WriteLabelledReconGrid writes.
func reconGrid(cols [][]float32, labels []string, n, c, size int, mean, std []float64) (draw.Image, error) {
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

	widest := 0 // the longest word of a label, in pixels
	for _, l := range labels {
		for _, w := range wrap(l, 0) {
			widest = max(widest, textWidth(w))
		}
	}
	scale := 1
	for len(cols)*size*scale+(len(cols)+1)*GridBorder < GridMinWidth || size*scale < widest {
		scale++
	}
	cell := size * scale
	var lines [][]string // each label's lines
	header := 0
	for _, l := range labels {
		ls := wrap(l, cell)
		lines = append(lines, ls)
		header = max(header, len(ls))
	}
	top := 0
	if header > 0 {
		top = header*labelFace.Height + labelPad
	}
	bounds := image.Rect(0, 0, len(cols)*cell+(len(cols)+1)*GridBorder, top+n*cell+(n+1)*GridBorder)
	var dst draw.Image
	if c == 1 {
		dst = image.NewGray(bounds)
	} else {
		dst = image.NewRGBA(bounds)
	}
	draw.Draw(dst, bounds, image.White, image.Point{}, draw.Src)
	for k, ls := range lines {
		x0 := GridBorder + k*(cell+GridBorder)
		for j, line := range ls {
			d := font.Drawer{Dst: dst, Src: image.Black, Face: labelFace}
			d.Dot = fixed.P(x0+(cell-textWidth(line))/2, labelPad/2+j*labelFace.Height+labelFace.Ascent)
			d.DrawString(line)
		}
	}
	for i := range n {
		y0 := top + GridBorder + i*(cell+GridBorder)
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

// labelFace is the font of the column labels, and labelPad the blank
// pixels around them, above and below.
var labelFace = basicfont.Face7x13

const labelPad = 6

// textWidth is the width of s in labelFace, in pixels.
func textWidth(s string) int { return font.MeasureString(labelFace, s).Ceil() }

// wrap breaks s at spaces into lines no wider than width pixels where the
// words allow; a word of no letter or digit, such as "+", stays with the
// word after it.
func wrap(s string, width int) []string {
	var words []string
	glue := ""
	for _, w := range strings.Fields(s) {
		if !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			glue += w + " "
			continue
		}
		words = append(words, glue+w)
		glue = ""
	}
	if glue != "" {
		words = append(words, strings.TrimSpace(glue))
	}
	var lines []string
	for _, w := range words {
		if n := len(lines); n > 0 && textWidth(lines[n-1]+" "+w) <= width {
			lines[n-1] += " " + w
			continue
		}
		lines = append(lines, w)
	}
	return lines
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
