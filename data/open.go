package data

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// Dataset is a dataset loaded for a model.
type Dataset struct {
	Name      string // the dataset key of the configuration
	Path      string // the directory read; "" for synthetic
	Classes   int    // labels lie in [0, Classes)
	Train     *Split
	Test      *Split
	Transform *Transform // shared by both splits
}

// Open validates cfg, loads the dataset it names and prepares the
// transform of its images into in. Every problem with the configuration
// or the files is reported here, before training starts.
func Open(cfg Config, in Input) (*Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if in.Chans < 1 || in.Size < 1 {
		return nil, fmt.Errorf("data: model input of %d channels of %dx%d pixels", in.Chans, in.Size, in.Size)
	}
	d, train, test, err := load(cfg, in)
	if err != nil {
		return nil, err
	}
	where := cmp.Or(d.Path, d.Name)
	if train.C != test.C || train.H != test.H || train.W != test.W {
		return nil, fmt.Errorf("loading %s: train images are %dx%dx%d but test images are %dx%dx%d",
			where, train.C, train.H, train.W, test.C, test.H, test.W)
	}
	mean, std, err := normalisation(cfg, in, train, where)
	if err != nil {
		return nil, err
	}
	if cfg.Dataset != "synthetic" {
		if train, err = train.sample(cfg.TrainSize, newRNG(cfg.Seed, streamSubset, 0), "train split of "+where, "train_size"); err != nil {
			return nil, err
		}
		if test, err = test.sample(cfg.TestSize, newRNG(cfg.Seed, streamSubset, 1), "test split of "+where, "test_size"); err != nil {
			return nil, err
		}
	}
	if d.Transform, err = NewTransform(train.C, train.H, train.W, in, cfg.Fit, mean, std); err != nil {
		return nil, fmt.Errorf("preparing %s for the model: %w", where, err)
	}
	d.Train, d.Test = &Split{train, d.Transform}, &Split{test, d.Transform}
	return d, nil
}

// load reads the splits of the dataset cfg names, and finds its path and
// number of classes.
func load(cfg Config, in Input) (d *Dataset, train, test *Images, err error) {
	d = &Dataset{Name: cfg.Dataset, Path: cfg.Path}
	switch cfg.Dataset {
	case "mnist", "fashion-mnist":
		if d.Path == "" {
			if d.Path, err = defaultIDXDir(cfg.Dataset); err != nil {
				return nil, nil, nil, err
			}
		}
		if train, test, err = loadIDX(d.Path); err != nil {
			return nil, nil, nil, err
		}
		d.Classes = max(train.maxLabel(), test.maxLabel()) + 1
	case "cifar10", "cifar100":
		f := cifar10
		if cfg.Dataset == "cifar100" {
			f = cifar100
		}
		if train, test, err = f.load(d.Path); err != nil {
			return nil, nil, nil, err
		}
		d.Classes = f.classes
	case "imagefolder":
		if train, test, d.Classes, err = loadFolder(d.Path, cfg.TestFraction, cfg.Seed, cfg.LoadSize); err != nil {
			return nil, nil, nil, err
		}
	case "synthetic":
		size, chans := cmp.Or(cfg.SyntheticSize, in.Size), cmp.Or(cfg.SyntheticChans, in.Chans)
		train = synthesize(cmp.Or(cfg.TrainSize, syntheticTrain), cfg.SyntheticClasses, chans, size, cfg.Seed, 0)
		test = synthesize(cmp.Or(cfg.TestSize, syntheticTest), cfg.SyntheticClasses, chans, size, cfg.Seed, 1)
		d.Classes = cfg.SyntheticClasses
	}
	where := cmp.Or(d.Path, d.Name)
	for _, s := range []struct {
		name string
		m    *Images
	}{{"train", train}, {"test", test}} {
		if s.m.Len() == 0 {
			return nil, nil, nil, fmt.Errorf("loading %s: the %s split is empty", where, s.name)
		}
	}
	return d, train, test, nil
}

// normalisation returns the mean and standard deviation of each input
// channel: those of cfg, a single value standing for all channels, or
// else those of the train split after channel conversion.
func normalisation(cfg Config, in Input, train *Images, where string) (mean, std []float64, err error) {
	switch len(cfg.Mean) {
	case 0:
		mix, err := channelMix(train.C, in.Chans)
		if err != nil {
			return nil, nil, fmt.Errorf("preparing %s for the model: %w", where, err)
		}
		mean, std = moments(train, mix)
		if i := slices.Index(std, 0); i >= 0 {
			return nil, nil, fmt.Errorf("data.std: channel %d of the train split of %s is constant; set data.mean and data.std", i, where)
		}
		return mean, std, nil
	case 1:
		return slices.Repeat(cfg.Mean, in.Chans), slices.Repeat(cfg.Std, in.Chans), nil
	case in.Chans:
		return cfg.Mean, cfg.Std, nil
	}
	return nil, nil, fmt.Errorf("data.mean: %d values, want 1 or in_chans (%d)", len(cfg.Mean), in.Chans)
}

// checkDir reports whether path is a directory that can be read, as an
// error naming path.
func checkDir(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("loading %s: no such directory", path)
	case err != nil:
		return fmt.Errorf("loading %s: %w", path, err)
	case !fi.IsDir():
		return fmt.Errorf("loading %s: not a directory", path)
	}
	return nil
}
