package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// cifarPixels is the size of a CIFAR image: 3 planes of 32x32 bytes,
// red, green then blue, each row-major.
const cifarPixels = 3 * 32 * 32

// cifarFormat describes one of the binary CIFAR formats, in which a file
// is a sequence of records, each label bytes followed by the pixels.
type cifarFormat struct {
	folder      string   // the folder the archive unpacks to
	train, test []string // the files of each split
	labelBytes  int      // label bytes in a record; the last one is used
	classes     int
}

// cifar10 is CIFAR-10: a label byte per record.
var cifar10 = cifarFormat{
	folder:     "cifar-10-batches-bin",
	train:      []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
	test:       []string{"test_batch.bin"},
	labelBytes: 1,
	classes:    10,
}

// cifar100 is CIFAR-100: a coarse then a fine label byte per record; the
// fine labels are used.
var cifar100 = cifarFormat{
	folder:     "cifar-100-binary",
	train:      []string{"train.bin"},
	test:       []string{"test.bin"},
	labelBytes: 2,
	classes:    100,
}

// load reads both splits from dir, or from the archive's folder inside
// dir when dir itself lacks the first train file.
func (f cifarFormat) load(dir string) (train, test *Images, err error) {
	if err := checkDir(dir); err != nil {
		return nil, nil, err
	}
	if sub := filepath.Join(dir, f.folder); !exists(filepath.Join(dir, f.train[0])) && isDir(sub) {
		dir = sub
	}
	if train, err = f.read(dir, f.train); err != nil {
		return nil, nil, err
	}
	if test, err = f.read(dir, f.test); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// read concatenates the records of the named files in dir.
func (f cifarFormat) read(dir string, names []string) (*Images, error) {
	rec := f.labelBytes + cifarPixels
	files := make([][]byte, len(names))
	n := 0
	for i, name := range names {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("loading %s: missing file %s", dir, name)
		}
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", p, err)
		}
		if len(b) == 0 || len(b)%rec != 0 {
			return nil, fmt.Errorf("loading %s: %d bytes is not a whole number of %d-byte records (truncated?)", p, len(b), rec)
		}
		files[i] = b
		n += len(b) / rec
	}
	m := &Images{C: 3, H: 32, W: 32, Pix: make([]uint8, 0, n*cifarPixels), Labels: make([]int, 0, n)}
	for i, b := range files {
		for r := 0; r*rec < len(b); r++ {
			x := b[r*rec : (r+1)*rec]
			l := int(x[f.labelBytes-1])
			if l >= f.classes {
				return nil, fmt.Errorf("loading %s: record %d has label %d, want < %d", filepath.Join(dir, names[i]), r, l, f.classes)
			}
			m.Labels = append(m.Labels, l)
			m.Pix = append(m.Pix, x[f.labelBytes:]...)
		}
	}
	return m, nil
}

// exists reports whether something is at path.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
