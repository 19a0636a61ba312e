package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cifarRecords returns n records of format f, record i holding label
// (i*3) mod classes (and coarse label 19 for CIFAR-100) and pixel p equal
// to (i + p) mod 256.
func cifarRecords(f cifarFormat, n int) []byte {
	var b []byte
	for i := range n {
		if f.labelBytes == 2 {
			b = append(b, 19)
		}
		b = append(b, byte(i*3%f.classes))
		for p := range cifarPixels {
			b = append(b, byte(i+p))
		}
	}
	return b
}

// writeCIFAR writes every file of format f, each of two records, to dir.
func writeCIFAR(t *testing.T, dir string, f cifarFormat) {
	t.Helper()
	for _, name := range append(append([]string{}, f.train...), f.test...) {
		writeFile(t, filepath.Join(dir, name), cifarRecords(f, 2))
	}
}

func TestLoadCIFAR(t *testing.T) {
	tests := []struct {
		name      string
		f         cifarFormat
		sub       bool // files in the archive's folder inside path
		nTrain    int
		wantLabel int // of the second record
	}{
		{"cifar10", cifar10, false, 10, 3},
		{"cifar10 archive folder", cifar10, true, 10, 3},
		{"cifar100 fine labels", cifar100, false, 2, 3},
		{"cifar100 archive folder", cifar100, true, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := root
			if tt.sub {
				dir = filepath.Join(root, tt.f.folder)
			}
			writeCIFAR(t, dir, tt.f)
			train, test, err := tt.f.load(root)
			if err != nil {
				t.Fatal(err)
			}
			if train.Len() != tt.nTrain || test.Len() != 2 {
				t.Fatalf("%d train and %d test images, want %d and 2", train.Len(), test.Len(), tt.nTrain)
			}
			if train.C != 3 || train.H != 32 || train.W != 32 {
				t.Fatalf("images of %dx%dx%d, want 3x32x32", train.C, train.H, train.W)
			}
			if got := train.Labels[1]; got != tt.wantLabel {
				t.Errorf("label of record 1 = %d, want %d", got, tt.wantLabel)
			}
			// Record 1, pixel p = (1 + p) mod 256: red plane first, row-major,
			// so green (0, 0) is p = 1024 and blue (31, 31) is p = 3071.
			img := train.At(1)
			if img[0] != 1 || img[1024] != 1 || img[cifarPixels-1] != 0 {
				t.Errorf("pixels of record 1 start %d, green %d, end %d", img[0], img[1024], img[cifarPixels-1])
			}
		})
	}
}

func TestLoadCIFARErrors(t *testing.T) {
	badLabel := cifarRecords(cifar10, 2)
	badLabel[cifar10.labelBytes+cifarPixels] = 10
	badFine := cifarRecords(cifar100, 1)
	badFine[1] = 100
	tests := []struct {
		name  string
		f     cifarFormat
		file  string
		write []byte // nil removes the file
		path  string // what the error names, relative to the directory
		want  string
	}{
		{"missing batch", cifar10, "data_batch_3.bin", nil, "", "missing file data_batch_3.bin"},
		{"missing test", cifar100, "test.bin", nil, "", "missing file test.bin"},
		{"truncated", cifar10, "test_batch.bin", cifarRecords(cifar10, 2)[:5000], "test_batch.bin",
			"5000 bytes is not a whole number of 3073-byte records"},
		{"empty", cifar100, "train.bin", []byte{}, "train.bin", "0 bytes is not a whole number of 3074-byte records"},
		{"label out of range", cifar10, "data_batch_2.bin", badLabel, "data_batch_2.bin", "record 1 has label 10, want < 10"},
		{"fine label out of range", cifar100, "train.bin", badFine, "train.bin", "record 0 has label 100, want < 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCIFAR(t, dir, tt.f)
			p := filepath.Join(dir, tt.file)
			if tt.write == nil {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			} else {
				writeFile(t, p, tt.write)
			}
			_, _, err := tt.f.load(dir)
			want := filepath.Join(dir, tt.path)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("load = %v, want an error naming %s saying %q", err, want, tt.want)
			}
		})
	}
}
