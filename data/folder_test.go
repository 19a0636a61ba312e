package data

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// grayPNG returns a w x h gray PNG whose pixel (x, y) is v + x + w*y.
func grayPNG(t *testing.T, w, h int, v uint8) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{v + uint8(x+w*y)})
		}
	}
	return encodePNG(t, img)
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTree writes the files, given by slash-separated path, under a new
// directory and returns it.
func writeTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	root := t.TempDir()
	for p, b := range files {
		writeFile(t, filepath.Join(root, filepath.FromSlash(p)), b)
	}
	return root
}

func TestLoadFolderSplitFolders(t *testing.T) {
	for _, testName := range []string{"test", "val"} {
		t.Run(testName, func(t *testing.T) {
			root := writeTree(t, map[string][]byte{
				"train/dog/1.png":           grayPNG(t, 3, 2, 100),
				"train/cat/b.png":           grayPNG(t, 3, 2, 20),
				"train/cat/a.PNG":           grayPNG(t, 3, 2, 10),
				"train/cat/.DS_Store":       []byte("junk"),
				"train/README":              []byte("not a class"),
				"train/emu/x.png":           grayPNG(t, 3, 2, 200),
				testName + "/emu/y.png":     grayPNG(t, 3, 2, 50),
				testName + "/cat/z.png":     grayPNG(t, 3, 2, 60),
				testName + "/.hidden/q.txt": []byte("ignored"),
			})
			train, test, classes, err := loadFolder(root, 0.2, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if classes != 3 {
				t.Errorf("%d classes, want 3", classes)
			}
			// Classes by name: cat 0, dog 1, emu 2; files by name.
			if !slices.Equal(train.Labels, []int{0, 0, 1, 2}) || !slices.Equal(test.Labels, []int{0, 2}) {
				t.Fatalf("labels %v and %v, want [0 0 1 2] and [0 2]", train.Labels, test.Labels)
			}
			if train.C != 1 || train.H != 2 || train.W != 3 {
				t.Fatalf("train images of %dx%dx%d, want 1x2x3", train.C, train.H, train.W)
			}
			if got := train.At(0); !slices.Equal(got, []uint8{10, 11, 12, 13, 14, 15}) {
				t.Errorf("first image %v", got)
			}
			if got := test.At(1); !slices.Equal(got, []uint8{50, 51, 52, 53, 54, 55}) {
				t.Errorf("last test image %v", got)
			}
		})
	}
}

func TestLoadFolderColour(t *testing.T) {
	rgb := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgb.SetNRGBA(0, 0, color.NRGBA{255, 10, 20, 255})
	rgb.SetNRGBA(1, 0, color.NRGBA{200, 100, 0, 255})
	translucent := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	translucent.SetNRGBA(0, 0, color.NRGBA{200, 200, 200, 128})
	root := writeTree(t, map[string][]byte{
		"train/a/rgb.png":  encodePNG(t, rgb),
		"train/a/gray.png": grayPNG(t, 2, 1, 7),
		"test/a/half.png":  encodePNG(t, translucent),
	})
	train, test, _, err := loadFolder(root, 0.2, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if train.C != 3 || test.C != 3 {
		t.Fatalf("%d and %d channels, want 3", train.C, test.C)
	}
	// Files by name: gray.png, then rgb.png; planes red, green, blue.
	want := []uint8{7, 8, 7, 8, 7, 8, 255, 200, 10, 100, 20, 0}
	if !bytes.Equal(train.Pix, want) {
		t.Errorf("pixels %v, want %v", train.Pix, want)
	}
	// Half-transparent gray 200 over black.
	if got := test.At(0); got[0] != 100 || got[2] != 100 || got[1] != 0 {
		t.Errorf("translucent pixels %v, want 100 then 0 on each plane", got)
	}
}

func TestLoadFolderJPEG(t *testing.T) {
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, map[string][]byte{"a/1.jpg": buf.Bytes(), "a/2.jpeg": buf.Bytes(), "b/3.JPG": buf.Bytes()})
	train, test, classes, err := loadFolder(root, 0.5, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if classes != 2 || train.C != 1 || train.H != 8 || train.Len()+test.Len() != 3 {
		t.Fatalf("%d classes, %d+%d images of %dx%dx%d", classes, train.Len(), test.Len(), train.C, train.H, train.W)
	}
	if p := train.Pix[0]; p < 126 || p > 130 {
		t.Errorf("pixel %d, want about 128", p)
	}
}

func TestLoadFolderRandomSplit(t *testing.T) {
	files := map[string][]byte{}
	var all []uint8 // the first pixel of each image, unique
	for c, n := range []int{10, 9, 10} {
		for i := range n {
			files[string(rune('a'+c))+"/"+string(rune('0'+i))+".png"] = grayPNG(t, 2, 2, uint8(10*c+i))
			all = append(all, uint8(10*c+i))
		}
	}
	root := writeTree(t, files)
	split := func(seed uint64) (train, test *Images) {
		train, test, classes, err := loadFolder(root, 0.2, seed, 0)
		if err != nil {
			t.Fatal(err)
		}
		if classes != 3 {
			t.Fatalf("%d classes, want 3", classes)
		}
		return train, test
	}
	train, test := split(1)
	// round(0.2*10) = 2 and round(0.2*9) = 2 test images per class.
	if !slices.Equal(test.Labels, []int{0, 0, 1, 1, 2, 2}) || train.Len() != 23 {
		t.Fatalf("test labels %v and %d train images, want [0 0 1 1 2 2] and 23", test.Labels, train.Len())
	}
	train2, test2 := split(1)
	if !bytes.Equal(train.Pix, train2.Pix) || !bytes.Equal(test.Pix, test2.Pix) {
		t.Errorf("the same seed split differently")
	}
	if _, test3 := split(2); bytes.Equal(test.Pix, test3.Pix) {
		t.Errorf("seeds 1 and 2 split alike")
	}
	// Every image is in exactly one split.
	var firsts []uint8
	for _, m := range []*Images{train, test} {
		for i := range m.Len() {
			firsts = append(firsts, m.At(i)[0])
		}
	}
	if slices.Sort(firsts); !slices.Equal(firsts, all) {
		t.Errorf("images in the splits %v, want %v", firsts, all)
	}
}

func TestLoadFolderLoadSize(t *testing.T) {
	files := map[string][]byte{
		"train/a/big.png":   grayPNG(t, 4, 4, 0),
		"train/a/small.png": grayPNG(t, 2, 2, 0),
		"test/a/c.png":      grayPNG(t, 2, 2, 0),
	}
	root := writeTree(t, files)
	_, _, _, err := loadFolder(root, 0.2, 0, 0)
	big, small := filepath.Join(root, "train", "a", "big.png"), filepath.Join(root, "train", "a", "small.png")
	if err == nil || !strings.Contains(err.Error(), small+": image is 2x2 but "+big+" is 4x4") ||
		!strings.Contains(err.Error(), "data.load_size") {
		t.Fatalf("loadFolder = %v, want a size mismatch naming both files", err)
	}
	train, test, _, err := loadFolder(root, 0.2, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	// big.png halved: each output pixel is the mean of a 2x2 block of
	// x + 4y, rounded: 2.5, 4.5, 10.5, 12.5.
	if train.H != 2 || test.H != 2 || !slices.Equal(train.At(0), []uint8{3, 5, 11, 13}) {
		t.Errorf("resized to %dx%d: %v", train.H, train.W, train.At(0))
	}
}

func TestLoadFolderErrors(t *testing.T) {
	png := grayPNG(t, 2, 2, 0)
	tests := []struct {
		name  string
		files map[string][]byte
		path  string // named by the error, relative to the root
		want  string
	}{
		{"no classes", map[string][]byte{"README": nil}, "", "no class folders"},
		{"empty class", map[string][]byte{"a/1.png": png, "b/.keep": nil}, "b", "empty class folder"},
		{"unsupported format", map[string][]byte{"a/1.png": png, "a/2.gif": png}, "a/2.gif",
			"unsupported image format (want .png, .jpg or .jpeg)"},
		{"corrupt image", map[string][]byte{"a/1.png": png, "a/2.png": png[:20]}, "a/2.png", "decoding"},
		{"not an image", map[string][]byte{"a/1.jpg": []byte("hello")}, "a/1.jpg", "decoding"},
		{"nested folder", map[string][]byte{"a/1.png": png, "a/sub/2.png": png}, "a/sub", "a folder inside a class folder"},
		{"no test folder", map[string][]byte{"train/a/1.png": png}, "", "a train folder but no test or val folder"},
		{"test class not in train", map[string][]byte{"train/a/1.png": png, "test/b/1.png": png}, "test/b",
			`class "b" is not in`},
		{"empty test class", map[string][]byte{"train/a/1.png": png, "test/a/.keep": nil}, "test/a", "empty class folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files)
			_, _, _, err := loadFolder(root, 0.2, 0, 0)
			want := filepath.Join(root, filepath.FromSlash(tt.path))
			if err == nil || !strings.Contains(err.Error(), want+":") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("loadFolder = %v, want an error naming %s saying %q", err, want, tt.want)
			}
		})
	}
}
