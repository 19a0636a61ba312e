package ablations

import (
	"fmt"
	"slices"
	"strings"

	"harness/data"
	"harness/model"
)

// expand makes the runs of the plan: the variants in order; for each,
// every combination of the axes that apply to it, the first outermost;
// for each, every seed. It validates every run's spec.
func (p *plan) expand(x *Experiment) ([]Run, error) {
	var runs []Run
	for _, v := range p.variants {
		var vaxes []axis // the axes that apply to v
		for _, a := range p.axes {
			if a.appliesTo(v.name) {
				vaxes = append(vaxes, a)
			}
		}
		at := make([]int, len(vaxes)) // the value each axis takes
		for {
			settings := slices.Concat(p.base, v.sets)
			var parts []string
			if v.name != "" {
				parts = append(parts, v.name)
			}
			axes := make([]AxisValue, len(vaxes))
			for i, a := range vaxes {
				av := a.values[at[i]]
				settings = append(settings, av.sets...)
				parts = append(parts, fmt.Sprintf("%s=%v", a.name, av.label))
				axes[i] = AxisValue{Key: a.key, Value: av.label}
			}
			settings = append(settings, p.overrides...)
			for _, seed := range x.Seeds {
				r := Run{
					Experiment: x.Name,
					Name:       strings.Join(append(parts, fmt.Sprintf("seed=%d", seed)), "/"),
					Variant:    v.name,
					Axes:       slices.Clone(axes),
					Spec:       build(settings),
					given:      givenKeys(settings),
				}
				r.Spec.Seed = seed
				if err := r.Spec.Validate(); err != nil {
					return nil, fmt.Errorf("run %q: %s%w", r.Name, blame(err, settings), err)
				}
				runs = append(runs, r)
			}
			if !next(at, vaxes) {
				break
			}
		}
	}
	return runs, nil
}

// givenKeys is the set of keys that settings give a value.
func givenKeys(settings []setting) map[string]bool {
	given := make(map[string]bool, len(settings))
	for _, s := range settings {
		given[s.key] = true
	}
	return given
}

// next moves at to the next combination of the axes' values, the last
// axis fastest, and reports false after the last one.
func next(at []int, axes []axis) bool {
	for i := len(at) - 1; i >= 0; i-- {
		if at[i]++; at[i] < len(axes[i].values) {
			return true
		}
		at[i] = 0
	}
	return false
}

// blame finds the setting of highest precedence for the key that a
// validation error names first ("model.num_heads: ..."), and returns
// where it comes from, followed by ": ", or "" when no setting gives it.
func blame(err error, settings []setting) string {
	key, _, _ := strings.Cut(err.Error(), ":")
	for _, s := range slices.Backward(settings) {
		if s.key == key {
			return s.where + ": "
		}
	}
	return ""
}

// CheckData opens, once each, the datasets the runs need, as each run's
// data configuration and model input (in_chans, img_size) say, and reports
// the first that cannot be opened, naming the run and the dataset's path,
// or whose splits are smaller than a run's sizes say (see checkSizes).
// Load and Parse do not call it, so that an experiment can be listed
// without its data; call it before the first run. Its errors wrap
// [ErrInvalid].
func CheckData(runs []Run) error {
	opened := map[string]splitSizes{} // by data configuration and input
	for _, r := range runs {
		in := data.Input{Chans: r.Spec.Model.InChans, Size: r.Spec.Model.ImgSize}
		key := fmt.Sprintf("%#v %#v", r.Spec.Data, in)
		n, seen := opened[key]
		if !seen {
			ds, err := data.Open(r.Spec.Data, in)
			if err != nil {
				return dataError(r, err)
			}
			n = splitSizes{train: ds.Train.Len(), test: ds.Test.Len()}
			opened[key] = n
		}
		if err := r.checkSizes(n); err != nil {
			return dataError(r, err)
		}
	}
	return nil
}

// splitSizes are the numbers of images of a dataset's splits.
type splitSizes struct{ train, test int }

// checkSizes refuses a train.batch_size larger than the train split, and
// the eval sizes (eval.images, probe_train, probe_test) larger than their
// splits where the file or an override gives them: by default they take
// at most the whole split, as documented.
func (r Run) checkSizes(n splitSizes) error {
	for _, c := range []struct {
		key   string
		v     int
		split string
		len   int
	}{
		{"train.batch_size", r.Spec.Train.BatchSize, "train", n.train},
		{"eval.images", r.Spec.Eval.Images, "test", n.test},
		{"eval.probe_train", r.Spec.Eval.ProbeTrain, "train", n.train},
		{"eval.probe_test", r.Spec.Eval.ProbeTest, "test", n.test},
	} {
		if (c.key == "train.batch_size" || r.given[c.key]) && c.v > c.len {
			return fmt.Errorf("%s: %d exceeds the %d images of the %s split (data.%s_size)", c.key, c.v, c.len, c.split, c.split)
		}
	}
	return nil
}

// dataError is an error of run r's dataset, naming the run and the
// dataset.
func dataError(r Run, err error) error {
	where := r.Spec.Data.Dataset
	if r.Spec.Data.Path != "" {
		where += fmt.Sprintf(" at %q", r.Spec.Data.Path)
	}
	return &inputError{fmt.Sprintf("experiment %q", r.Experiment), fmt.Errorf("run %q: dataset %s: %w", r.Name, where, err)}
}

// Params counts the parameters of the run's model, for listings such as
// a runner's --dry-run.
func (r Run) Params() (model.Counts, error) { return model.CountParams(r.Spec.Model) }
