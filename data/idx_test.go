package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes returns an IDX file of unsigned bytes with the given dimensions.
func idxBytes(dims []int, body []byte) []byte {
	b := []byte{0, 0, idxUbyte, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, body...)
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinyIDX returns n images of h x w pixels, pixel p of image i being
// (7i + p) mod 256, with labels i mod 3.
func tinyIDX(n, h, w int) *Images {
	m := &Images{C: 1, H: h, W: w, Pix: make([]uint8, n*h*w), Labels: make([]int, n)}
	for i := range n {
		m.Labels[i] = i % 3
		for p := range h * w {
			m.Pix[i*h*w+p] = uint8(7*i + p)
		}
	}
	return m
}

// writeIDXSplit writes m as the images and labels files of prefix in dir,
// gzipped if gz, spelt with a dot before idx if dotted.
func writeIDXSplit(t *testing.T, dir, prefix string, m *Images, gz, dotted bool) {
	t.Helper()
	labels := make([]byte, m.Len())
	for i, l := range m.Labels {
		labels[i] = byte(l)
	}
	sep, ext := "-", ""
	if dotted {
		sep = "."
	}
	if gz {
		ext = ".gz"
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{
		{prefix + "-images" + sep + "idx3-ubyte" + ext, idxBytes([]int{m.Len(), m.H, m.W}, m.Pix)},
		{prefix + "-labels" + sep + "idx1-ubyte" + ext, idxBytes([]int{m.Len()}, labels)},
	} {
		if gz {
			f.b = gzipped(t, f.b)
		}
		writeFile(t, filepath.Join(dir, f.name), f.b)
	}
}

// writeIDXDir writes a tiny IDX dataset, 5 train and 3 test images of
// 4 x 3 pixels, to a new directory and returns it with the images.
func writeIDXDir(t *testing.T, gz bool) (dir string, train, test *Images) {
	t.Helper()
	dir = t.TempDir()
	train, test = tinyIDX(5, 4, 3), tinyIDX(3, 4, 3)
	writeIDXSplit(t, dir, "train", train, gz, false)
	writeIDXSplit(t, dir, "t10k", test, gz, false)
	return dir, train, test
}

func TestLoadIDX(t *testing.T) {
	tests := []struct {
		name            string
		gzTrain, gzTest bool
		dotted          bool
	}{
		{"plain", false, false, false},
		{"gzip", true, true, false},
		{"mixed", true, false, false},
		{"dotted names", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			wantTrain, wantTest := tinyIDX(5, 4, 3), tinyIDX(3, 4, 3)
			writeIDXSplit(t, dir, "train", wantTrain, tt.gzTrain, tt.dotted)
			writeIDXSplit(t, dir, "t10k", wantTest, tt.gzTest, tt.dotted)
			train, test, err := loadIDX(dir)
			if err != nil {
				t.Fatal(err)
			}
			checkImages(t, "train", train, wantTrain)
			checkImages(t, "test", test, wantTest)
		})
	}
}

func checkImages(t *testing.T, name string, got, want *Images) {
	t.Helper()
	if got.C != want.C || got.H != want.H || got.W != want.W || got.Len() != want.Len() {
		t.Fatalf("%s: %d images of %dx%dx%d, want %d of %dx%dx%d",
			name, got.Len(), got.C, got.H, got.W, want.Len(), want.C, want.H, want.W)
	}
	if !bytes.Equal(got.Pix, want.Pix) {
		t.Errorf("%s: pixels differ", name)
	}
	for i := range want.Labels {
		if got.Labels[i] != want.Labels[i] {
			t.Fatalf("%s: label %d = %d, want %d", name, i, got.Labels[i], want.Labels[i])
		}
	}
}

func TestLoadIDXErrors(t *testing.T) {
	const (
		trainImages = "train-images-idx3-ubyte"
		trainLabels = "train-labels-idx1-ubyte"
	)
	body := tinyIDX(5, 4, 3).Pix
	full := idxBytes([]int{5, 4, 3}, body)
	tests := []struct {
		name  string
		file  string // the file the error must name, "" for the directory
		write []byte // what to write to file; nil removes it
		want  string
	}{
		{"missing images", trainImages, nil, "missing file train-images-idx3-ubyte"},
		{"wrong magic", trainImages, idxBytes([]int{5}, body[:5]),
			"wrong magic number 0x00000801, want 0x00000803"},
		{"not ubyte", trainImages, append([]byte{0, 0, 0x0d, 3}, full[4:]...),
			"wrong magic number 0x00000d03, want 0x00000803"},
		{"truncated header", trainImages, full[:9], "truncated header"},
		{"truncated data", trainImages, full[:len(full)-1], "truncated: header promises [5 4 3], 60 bytes of data, file holds 59"},
		{"truncated gzip", trainImages + ".gz", gzipped(t, full)[:30], "truncated"},
		{"corrupt gzip", trainImages + ".gz", []byte{0x1f, 0x8b, 1, 2, 3}, "gzip:"},
		{"trailing data", trainImages, append(full, 0), "trailing data after the 60 bytes the header promises"},
		{"no images", trainImages, idxBytes([]int{0, 4, 3}, nil), "no images"},
		{"empty images", trainImages, idxBytes([]int{5, 0, 3}, nil), "images of 0x3 pixels"},
		{"count mismatch", trainLabels, idxBytes([]int{4}, []byte{0, 1, 2, 0}), "5 images, but"},
		{"implausible", trainImages, idxBytes([]int{1 << 31, 1 << 31, 1 << 31}, nil), "implausible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _, _ := writeIDXDir(t, false)
			path := filepath.Join(dir, tt.file)
			if err := os.Remove(filepath.Join(dir, strings.TrimSuffix(tt.file, ".gz"))); err != nil {
				t.Fatal(err)
			}
			if tt.write != nil {
				writeFile(t, path, tt.write)
			} else {
				path = dir
			}
			_, _, err := loadIDX(dir)
			if err == nil {
				t.Fatal("loadIDX succeeded")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not name %s and say %q", err, path, tt.want)
			}
		})
	}
}

func TestLoadIDXNoDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	_, _, err := loadIDX(dir)
	if err == nil || err.Error() != "loading "+dir+": no such directory" {
		t.Fatalf("loadIDX(%s) = %v", dir, err)
	}
}
