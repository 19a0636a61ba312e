package data

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// idxConfig returns the configuration that reads the IDX files in dir.
func idxConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Path = dir
	return cfg
}

func TestOpenIDX(t *testing.T) {
	dir, train, test := writeIDXDir(t, true)
	d, err := Open(idxConfig(dir), Input{Chans: 3, Size: 6})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "mnist" || d.Path != dir || d.Classes != 3 || d.Train.Len() != 5 || d.Test.Len() != 3 {
		t.Fatalf("opened %s from %s: %d classes, %d train, %d test images",
			d.Name, d.Path, d.Classes, d.Train.Len(), d.Test.Len())
	}
	checkImages(t, "train", d.Train.Images(), train)
	checkImages(t, "test", d.Test.Images(), test)
	// The statistics of all train pixels, replicated to the three channels.
	var sum, sq float64
	for _, p := range train.Pix {
		v := float64(p) / 255
		sum += v
		sq += v * v
	}
	n := float64(len(train.Pix))
	mean, std := sum/n, math.Sqrt(sq/n-sum*sum/n/n)
	for c := range 3 {
		if math.Abs(d.Transform.Mean[c]-mean) > 1e-9 || math.Abs(d.Transform.Std[c]-std) > 1e-9 {
			t.Fatalf("mean %v std %v, want %v %v on each channel", d.Transform.Mean, d.Transform.Std, mean, std)
		}
	}
	if d.Transform.In != (Input{Chans: 3, Size: 6}) || d.Transform.Fit != "resize" {
		t.Errorf("transform to %+v by %q", d.Transform.In, d.Transform.Fit)
	}
}

func TestOpenSubset(t *testing.T) {
	dir, train, test := writeIDXDir(t, false)
	open := func(seed uint64) *Dataset {
		cfg := idxConfig(dir)
		cfg.TrainSize, cfg.TestSize, cfg.Seed = 3, 3, seed
		d, err := Open(cfg, Input{Chans: 1, Size: 4})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := open(1)
	if a.Train.Len() != 3 || a.Test.Len() != 3 {
		t.Fatalf("%d train and %d test images, want 3 and 3", a.Train.Len(), a.Test.Len())
	}
	checkImages(t, "whole test", a.Test.Images(), test)
	// The subset keeps the split's order: image i's first pixel is 7i.
	last := -1
	for i := range a.Train.Len() {
		k := int(a.Train.Images().At(i)[0]) / 7
		if k <= last || !bytes.Equal(a.Train.Images().At(i), train.At(k)) || a.Train.Label(i) != train.Labels[k] {
			t.Fatalf("subset image %d is not train image %d after %d", i, k, last)
		}
		last = k
	}
	if b := open(1); !bytes.Equal(a.Train.Images().Pix, b.Train.Images().Pix) {
		t.Errorf("the same seed chose different subsets")
	}
	// Statistics come from the whole train split, not the subset.
	whole := open(0)
	if !(a.Transform.Mean[0] == whole.Transform.Mean[0] && a.Transform.Std[0] == whole.Transform.Std[0]) {
		t.Errorf("statistics depend on the subset")
	}
}

func TestOpenNormalisation(t *testing.T) {
	dir, _, _ := writeIDXDir(t, false)
	tests := []struct {
		name      string
		mean, std []float64
		want      []float64 // mean of the input channels
	}{
		{"one value for all", []float64{0.5}, []float64{0.25}, []float64{0.5, 0.5, 0.5}},
		{"one per channel", []float64{0.1, 0.2, 0.3}, []float64{1, 1, 1}, []float64{0.1, 0.2, 0.3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := idxConfig(dir)
			cfg.Mean, cfg.Std = tt.mean, tt.std
			d, err := Open(cfg, Input{Chans: 3, Size: 4})
			if err != nil {
				t.Fatal(err)
			}
			for c, m := range tt.want {
				if d.Transform.Mean[c] != m || len(d.Transform.Std) != 3 {
					t.Fatalf("mean %v std %v, want mean %v", d.Transform.Mean, d.Transform.Std, tt.want)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir, _, _ := writeIDXDir(t, false)
	constant := t.TempDir()
	flat := &Images{C: 1, H: 2, W: 2, Pix: make([]uint8, 8), Labels: []int{0, 1}}
	writeIDXSplit(t, constant, "train", flat, false, false)
	writeIDXSplit(t, constant, "t10k", flat, false, false)
	mismatch := t.TempDir()
	writeIDXSplit(t, mismatch, "train", tinyIDX(2, 4, 3), false, false)
	writeIDXSplit(t, mismatch, "t10k", tinyIDX(2, 3, 4), false, false)
	absent := filepath.Join(t.TempDir(), "absent")
	tests := []struct {
		name string
		edit func(*Config)
		in   Input
		want string
	}{
		{"invalid config", func(c *Config) { c.TrainSize = -3 }, Input{1, 4}, "data.train_size: must be >= 0, got -3"},
		{"no input", func(*Config) {}, Input{0, 4}, "data: model input of 0 channels of 4x4 pixels"},
		{"missing directory", func(c *Config) { c.Path = absent }, Input{1, 4}, "loading " + absent + ": no such directory"},
		{"missing cifar", func(c *Config) { c.Dataset, c.Path = "cifar10", dir }, Input{3, 4}, "missing file data_batch_1.bin"},
		{"train_size too large", func(c *Config) { c.TrainSize = 6 }, Input{1, 4},
			"data.train_size: 6 exceeds the 5 images of the train split of " + dir},
		{"test_size too large", func(c *Config) { c.TestSize = 4 }, Input{1, 4},
			"data.test_size: 4 exceeds the 3 images of the test split of " + dir},
		{"mean length", func(c *Config) { c.Mean, c.Std = []float64{0, 0}, []float64{1, 1} }, Input{3, 4},
			"data.mean: 2 values, want 1 or in_chans (3)"},
		{"pad shrinks", func(c *Config) { c.Fit = "pad" }, Input{1, 3},
			"preparing " + dir + ` for the model: fit "pad" cannot shrink 4x3 images to 3x3`},
		{"channels", func(c *Config) { c.Dataset, c.Path, c.SyntheticChans = "synthetic", "", 2 }, Input{3, 4},
			"preparing synthetic for the model: cannot turn 2-channel images into 3-channel model input"},
		{"constant images", func(c *Config) { c.Path = constant }, Input{1, 4},
			"data.std: channel 0 of the train split of " + constant + " is constant"},
		{"split shapes", func(c *Config) { c.Path = mismatch }, Input{1, 4},
			"loading " + mismatch + ": train images are 1x4x3 but test images are 1x3x4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := idxConfig(dir)
			tt.edit(&cfg)
			_, err := Open(cfg, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOpenSynthetic(t *testing.T) {
	tests := []struct {
		name                string
		trainSize, testSize int
		size, chans         int
		in                  Input
		wantTrain, wantTest int
		wantC, wantH        int
	}{
		{"model's shape", 0, 0, 0, 0, Input{1, 8}, syntheticTrain, syntheticTest, 1, 8},
		{"own shape", 40, 20, 12, 3, Input{1, 8}, 40, 20, 3, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Dataset, cfg.Path = "synthetic", ""
			cfg.TrainSize, cfg.TestSize, cfg.SyntheticSize, cfg.SyntheticChans = tt.trainSize, tt.testSize, tt.size, tt.chans
			cfg.SyntheticClasses = 4
			d, err := Open(cfg, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			m := d.Train.Images()
			if d.Train.Len() != tt.wantTrain || d.Test.Len() != tt.wantTest || m.C != tt.wantC || m.H != tt.wantH || d.Classes != 4 {
				t.Fatalf("%d train, %d test images of %dx%dx%d, %d classes", d.Train.Len(), d.Test.Len(), m.C, m.H, m.W, d.Classes)
			}
		})
	}
}
