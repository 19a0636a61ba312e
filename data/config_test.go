package data

import (
	"math"
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"synthetic", func(c *Config) { c.Dataset = "synthetic" }, ""},
		{"cifar with path", func(c *Config) { c.Dataset, c.Path = "cifar10", "/x" }, ""},
		{"mean and std", func(c *Config) { c.Mean, c.Std = []float64{0.5}, []float64{0.25} }, ""},
		{"unknown dataset", func(c *Config) { c.Dataset = "imagenet" },
			`data.dataset: must be one of mnist, fashion-mnist, cifar10, cifar100, imagefolder, synthetic, got "imagenet"`},
		{"cifar without path", func(c *Config) { c.Dataset = "cifar100" }, `data.path: required for dataset "cifar100"`},
		{"imagefolder without path", func(c *Config) { c.Dataset = "imagefolder" }, `data.path: required for dataset "imagefolder"`},
		{"synthetic with path", func(c *Config) { c.Dataset, c.Path = "synthetic", "/x" }, `data.path: dataset "synthetic" reads no files, got "/x"`},
		{"train_size", func(c *Config) { c.TrainSize = -3 }, "data.train_size: must be >= 0, got -3"},
		{"test_size", func(c *Config) { c.TestSize = -1 }, "data.test_size: must be >= 0, got -1"},
		{"synthetic_classes", func(c *Config) { c.SyntheticClasses = 1 }, "data.synthetic_classes: must be >= 2, got 1"},
		{"synthetic_size", func(c *Config) { c.SyntheticSize = -32 }, "data.synthetic_size: must be >= 0, got -32"},
		{"synthetic_chans", func(c *Config) { c.SyntheticChans = -1 }, "data.synthetic_chans: must be >= 0, got -1"},
		{"load_size", func(c *Config) { c.LoadSize = -1 }, "data.load_size: must be >= 0, got -1"},
		{"test_fraction 0", func(c *Config) { c.TestFraction = 0 }, "data.test_fraction: must be in (0, 1), got 0"},
		{"test_fraction 1", func(c *Config) { c.TestFraction = 1 }, "data.test_fraction: must be in (0, 1), got 1"},
		{"test_fraction NaN", func(c *Config) { c.TestFraction = math.NaN() }, "data.test_fraction: must be in (0, 1), got NaN"},
		{"fit", func(c *Config) { c.Fit = "crop" }, `data.fit: must be "resize" or "pad", got "crop"`},
		{"std missing", func(c *Config) { c.Mean = []float64{0.5} }, "data.std: must have as many values as data.mean (1), got 0"},
		{"mean missing", func(c *Config) { c.Std = []float64{0.5, 0.5} }, "data.std: must have as many values as data.mean (0), got 2"},
		{"mean infinite", func(c *Config) { c.Mean, c.Std = []float64{math.Inf(1)}, []float64{1} }, "data.mean: value 0 must be finite, got +Inf"},
		{"std zero", func(c *Config) { c.Mean, c.Std = []float64{0, 0}, []float64{1, 0} }, "data.std: value 1 must be positive and finite, got 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestConfigTOML(t *testing.T) {
	const doc = `
dataset = "cifar10"
path = "/data/cifar"
train_size = 1000
test_size = 200
seed = 7
synthetic_classes = 4
synthetic_size = 16
synthetic_chans = 1
test_fraction = 0.25
load_size = 64
fit = "pad"
mean = [0.5, 0.4, 0.3]
std = [0.2, 0.2, 0.2]
`
	c := DefaultConfig()
	md, err := toml.Decode(doc, &c)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("keys not decoded: %v", u)
	}
	want := Config{
		Dataset: "cifar10", Path: "/data/cifar", TrainSize: 1000, TestSize: 200, Seed: 7,
		SyntheticClasses: 4, SyntheticSize: 16, SyntheticChans: 1, TestFraction: 0.25, LoadSize: 64,
		Fit: "pad", Mean: []float64{0.5, 0.4, 0.3}, Std: []float64{0.2, 0.2, 0.2},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("decoded %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
