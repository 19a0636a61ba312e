package data

import (
	"bufio"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// decoders maps the file extensions of an image folder, in lower case, to
// their decoders.
var decoders = map[string]func(io.Reader) (image.Image, error){
	".png":  png.Decode,
	".jpg":  jpeg.Decode,
	".jpeg": jpeg.Decode,
}

// loadFolder reads an image folder: root/train/CLASS/* and root/test/CLASS/*
// (or root/val/CLASS/*), or, without a train folder, root/CLASS/* split
// per class at random, fixed by seed, with testFraction of each class held
// out. Classes are numbered in the order of their folder names; the test
// split need not have every class. Names starting with a dot are ignored,
// as are plain files beside the class folders. Images are stored with one
// channel if every pixel of both splits is gray, else as RGB, with any
// transparency composed over black. They must share one size unless
// loadSize resizes them all to loadSize x loadSize.
func loadFolder(root string, testFraction float64, seed uint64, loadSize int) (train, test *Images, classes int, err error) {
	if err := checkDir(root); err != nil {
		return nil, nil, 0, err
	}
	var trainFiles, testFiles [][]string
	var names []string
	if trainDir := filepath.Join(root, "train"); isDir(trainDir) {
		testDir := filepath.Join(root, "test")
		if !isDir(testDir) {
			testDir = filepath.Join(root, "val")
		}
		if !isDir(testDir) {
			return nil, nil, 0, fmt.Errorf("loading %s: a train folder but no test or val folder", root)
		}
		if names, err = classFolders(trainDir); err != nil {
			return nil, nil, 0, err
		}
		if trainFiles, err = classFiles(trainDir, names); err != nil {
			return nil, nil, 0, err
		}
		testNames, err := classFolders(testDir)
		if err != nil {
			return nil, nil, 0, err
		}
		for _, n := range testNames {
			if !slices.Contains(names, n) {
				return nil, nil, 0, fmt.Errorf("loading %s: class %q is not in %s", filepath.Join(testDir, n), n, trainDir)
			}
		}
		present := make([]string, len(names)) // "" where the test split lacks the class
		for i, n := range names {
			if slices.Contains(testNames, n) {
				present[i] = n
			}
		}
		if testFiles, err = classFiles(testDir, present); err != nil {
			return nil, nil, 0, err
		}
	} else {
		if names, err = classFolders(root); err != nil {
			return nil, nil, 0, err
		}
		all, err := classFiles(root, names)
		if err != nil {
			return nil, nil, 0, err
		}
		trainFiles, testFiles = splitFiles(all, testFraction, seed)
	}
	l := folderLoader{loadSize: loadSize, gray: true}
	if train, err = l.read(trainFiles); err != nil {
		return nil, nil, 0, err
	}
	if test, err = l.read(testFiles); err != nil {
		return nil, nil, 0, err
	}
	if l.gray {
		train, test = train.firstChannel(), test.firstChannel()
	}
	return train, test, len(names), nil
}

// classFolders returns the names of the folders in dir, sorted.
func classFolders(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && isDir(filepath.Join(dir, e.Name())) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("loading %s: no class folders", dir)
	}
	return names, nil
}

// classFiles returns the paths of the images in each named folder of dir,
// sorted; an empty name stands for a class without a folder.
func classFiles(dir string, names []string) ([][]string, error) {
	files := make([][]string, len(names))
	for i, name := range names {
		if name == "" {
			continue
		}
		cdir := filepath.Join(dir, name)
		entries, err := os.ReadDir(cdir)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", cdir, err)
		}
		for _, e := range entries {
			p := filepath.Join(cdir, e.Name())
			switch {
			case strings.HasPrefix(e.Name(), "."):
				continue
			case isDir(p):
				return nil, fmt.Errorf("loading %s: a folder inside a class folder", p)
			case decoders[strings.ToLower(filepath.Ext(p))] == nil:
				return nil, fmt.Errorf("loading %s: unsupported image format (want .png, .jpg or .jpeg)", p)
			}
			files[i] = append(files[i], p)
		}
		if len(files[i]) == 0 {
			return nil, fmt.Errorf("loading %s: empty class folder", cdir)
		}
	}
	return files, nil
}

// splitFiles holds out a share frac of the files of each class, chosen at
// random from seed, keeping the files of each part in order.
func splitFiles(all [][]string, frac float64, seed uint64) (train, test [][]string) {
	train = make([][]string, len(all))
	test = make([][]string, len(all))
	for c, files := range all {
		n := len(files)
		nTest := min(int(math.Round(frac*float64(n))), n-1)
		held := newRNG(seed, streamFolder, uint64(c)).perm(n)[:nTest]
		for i, f := range files {
			if slices.Contains(held, i) {
				test[c] = append(test[c], f)
			} else {
				train[c] = append(train[c], f)
			}
		}
	}
	return train, test
}

// folderLoader decodes the images of a folder into RGB planes, checking
// that they share one size and noting whether all are gray.
type folderLoader struct {
	loadSize int
	h, w     int
	first    string // the first image read, which set h and w
	gray     bool   // every pixel read so far has equal red, green and blue
}

// read decodes the files of each class, labelled by class index.
func (l *folderLoader) read(files [][]string) (*Images, error) {
	m := &Images{C: 3}
	for label, list := range files {
		for _, p := range list {
			pix, err := l.decode(p)
			if err != nil {
				return nil, err
			}
			m.Pix = append(m.Pix, pix...)
			m.Labels = append(m.Labels, label)
		}
	}
	m.H, m.W = l.h, l.w
	return m, nil
}

// decode returns the pixels of the image file at p as [3][H][W].
func (l *folderLoader) decode(p string) ([]uint8, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", p, err)
	}
	defer f.Close()
	img, err := decoders[strings.ToLower(filepath.Ext(p))](bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", p, err)
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	if h == 0 || w == 0 {
		return nil, fmt.Errorf("decoding %s: empty image", p)
	}
	pix := make([]uint8, 3*h*w)
	for y := range h {
		for x := range w {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			pix[y*w+x], pix[h*w+y*w+x], pix[2*h*w+y*w+x] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			l.gray = l.gray && r>>8 == g>>8 && g>>8 == bl>>8
		}
	}
	if s := l.loadSize; s > 0 && (h != s || w != s) {
		pix, h, w = resizePlanes(pix, 3, h, w, s), s, s
	}
	if l.first == "" {
		l.first, l.h, l.w = p, h, w
	} else if h != l.h || w != l.w {
		return nil, fmt.Errorf("loading %s: image is %dx%d but %s is %dx%d; set data.load_size to resize images on loading",
			p, w, h, l.first, l.w, l.h)
	}
	return pix, nil
}

// resizePlanes resizes c planes of h x w pixels to size x size with the
// bilinear interpolation of [Transform].
func resizePlanes(pix []uint8, c, h, w, size int) []uint8 {
	ys, xs := resizeTaps(h, size), resizeTaps(w, size)
	out := make([]uint8, c*size*size)
	for ch := range c {
		plane := pix[ch*h*w : (ch+1)*h*w]
		for oy, y := range ys {
			for ox, x := range xs {
				out[ch*size*size+oy*size+ox] = uint8(sample(plane, w, y, x) + 0.5)
			}
		}
	}
	return out
}
