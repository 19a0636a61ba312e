package plots

import (
	"bufio"
	"fmt"
	"image/png"
	"io"
	"os"

	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of the PNG figures.
const DPI = 110

// Save draws c and writes it to base+".png" and base+".svg".
func Save(c Chart, base string) error {
	f, err := layout(c)
	if err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(f.width, f.height), vgimg.UseDPI(DPI))
	f.draw(draw.New(img))
	if err := writeFile(base+".png", pngWriter{img}); err != nil {
		return err
	}
	svg := vgsvg.NewWith(vgsvg.UseWH(f.width, f.height))
	f.draw(draw.New(svg))
	return writeFile(base+".svg", svg)
}

// pngWriter encodes a canvas as PNG, favouring speed over size: reports
// draw many figures.
type pngWriter struct{ c *vgimg.Canvas }

// WriteTo implements io.WriterTo.
func (p pngWriter) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	err := enc.Encode(cw, p.c.Image())
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// writeFile writes what w writes to the file at path.
func writeFile(path string, w io.WriterTo) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	buf := bufio.NewWriter(out)
	if _, err := w.WriteTo(buf); err != nil {
		out.Close()
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	if err := buf.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("plots: write %s: %w", path, err)
	}
	return nil
}
