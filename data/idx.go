package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// idxUbyte is the IDX type code of unsigned bytes, the element type of
// image and label files.
const idxUbyte = 0x08

// maxIDXBody bounds the data an IDX header may promise (1 TiB), so that a
// corrupt header is reported rather than overflowing.
const maxIDXBody = 1 << 40

// loadIDX reads the train and test splits of a directory of IDX files
// named as MNIST's: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each possibly
// gzipped, and each possibly with a dot for the last hyphen
// (train-images.idx3-ubyte).
func loadIDX(dir string) (train, test *Images, err error) {
	if err := checkDir(dir); err != nil {
		return nil, nil, err
	}
	if train, err = loadIDXSplit(dir, "train"); err != nil {
		return nil, nil, err
	}
	if test, err = loadIDXSplit(dir, "t10k"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// loadIDXSplit reads the images and labels files whose names start with
// prefix.
func loadIDXSplit(dir, prefix string) (*Images, error) {
	ip, err := findIDX(dir, prefix+"-images", "idx3-ubyte")
	if err != nil {
		return nil, err
	}
	lp, err := findIDX(dir, prefix+"-labels", "idx1-ubyte")
	if err != nil {
		return nil, err
	}
	dims, pix, err := readIDX(ip, 3)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", ip, err)
	}
	ldims, lab, err := readIDX(lp, 1)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", lp, err)
	}
	switch {
	case dims[0] == 0:
		return nil, fmt.Errorf("loading %s: no images", ip)
	case dims[1] == 0 || dims[2] == 0:
		return nil, fmt.Errorf("loading %s: images of %dx%d pixels", ip, dims[1], dims[2])
	case dims[0] != ldims[0]:
		return nil, fmt.Errorf("loading %s: %d images, but %s holds %d labels", ip, dims[0], lp, ldims[0])
	}
	labels := make([]int, len(lab))
	for i, l := range lab {
		labels[i] = int(l)
	}
	return &Images{C: 1, H: dims[1], W: dims[2], Pix: pix, Labels: labels}, nil
}

// findIDX returns the path of the file stem-kind in dir, trying the
// spellings loadIDX accepts.
func findIDX(dir, stem, kind string) (string, error) {
	for _, name := range []string{stem + "-" + kind, stem + "." + kind} {
		for _, ext := range []string{"", ".gz"} {
			p := filepath.Join(dir, name+ext)
			_, err := os.Stat(p)
			if err == nil {
				return p, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("loading %s: %w", p, err)
			}
		}
	}
	return "", fmt.Errorf("loading %s: missing file %s-%s (or %s-%s.gz)", dir, stem, kind, stem, kind)
}

// readIDX reads an IDX file of unsigned bytes with ndims dimensions,
// gzipped or not, and returns its dimensions and data.
func readIDX(path string, ndims int) (dims []int, body []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if sig, _ := br.Peek(2); bytes.Equal(sig, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	head := make([]byte, 4+4*ndims)
	if _, err := io.ReadFull(r, head[:4]); err != nil {
		return nil, nil, truncated("header", err)
	}
	if want := [4]byte{0, 0, idxUbyte, byte(ndims)}; [4]byte(head[:4]) != want {
		return nil, nil, fmt.Errorf("wrong magic number 0x%08x, want 0x%08x (IDX unsigned bytes, %d dimensions)",
			binary.BigEndian.Uint32(head), binary.BigEndian.Uint32(want[:]), ndims)
	}
	if _, err := io.ReadFull(r, head[4:]); err != nil {
		return nil, nil, truncated("header", err)
	}
	dims = make([]int, ndims)
	size := int64(1)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(head[4+4*i:]))
		if d := int64(dims[i]); d > 0 && size > maxIDXBody/d {
			return nil, nil, fmt.Errorf("header promises an implausible %v elements", dims[:i+1])
		}
		size *= int64(dims[i])
	}
	var buf bytes.Buffer
	buf.Grow(int(min(size, 1<<26)))
	n, err := buf.ReadFrom(io.LimitReader(r, size+1))
	if err != nil {
		return nil, nil, truncated("data", err)
	}
	if n < size {
		return nil, nil, fmt.Errorf("truncated: header promises %v, %d bytes of data, file holds %d", dims, size, n)
	}
	if n > size {
		return nil, nil, fmt.Errorf("trailing data after the %d bytes the header promises", size)
	}
	return dims, buf.Bytes(), nil
}

// truncated describes a failed read of part of a file, calling an early
// end of file a truncation.
func truncated(part string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated %s", part)
	}
	return fmt.Errorf("reading %s: %w", part, err)
}
