package ablations

import (
	"fmt"

	"harness/internal/names"
)

// Reference is a file's [report] reference: the runs of another
// experiment that a report of this one draws as a reference, such as the
// MAE runs of mask_ratio at mask ratio 0.75 for a study of CRATE-MAE alone
// on the same recipe:
//
//	[report]
//	reference = { experiment = "mask_ratio", variant = "MAE", axes = { "train.mask_ratio" = 0.75 } }
//
// A report reads the runs of Experiment from the store (as it reads its
// own: config_json decoded into a Run) and keeps those that [Reference.Matches].
// Load and Parse cannot check that the experiment exists, nor that any of
// its runs match: a report says so when none do.
type Reference struct {
	Experiment string `json:"experiment"` // the other experiment's name; required
	Variant    string `json:"variant"`    // its runs of this variant; "": all

	// Axes are the axis values the runs must have, by AxisValue.Key (a
	// dotted key, or a bundle's name): the runs of one setting of the
	// other experiment's axes. Those not named may take any value.
	Axes []AxisValue `json:"axes,omitempty"`
}

// Matches reports whether run r is one of the reference's runs: of its
// experiment and variant, and with its axis values. Values compare as
// they print (fmt.Sprint), so that 0.75 from the file matches 0.75 read
// back from a run's JSON, and 2 matches 2.0.
func (ref *Reference) Matches(r Run) bool {
	if r.Experiment != ref.Experiment || (ref.Variant != "" && r.Variant != ref.Variant) {
		return false
	}
	for _, want := range ref.Axes {
		found := false
		for _, got := range r.Axes {
			if got.Key == want.Key && fmt.Sprint(got.Value) == fmt.Sprint(want.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// String describes the reference for captions and listings:
// `mask_ratio, variant MAE, train.mask_ratio=0.75`.
func (ref *Reference) String() string {
	s := ref.Experiment
	if ref.Variant != "" {
		s += ", variant " + ref.Variant
	}
	for _, a := range ref.Axes {
		s += fmt.Sprintf(", %s=%v", a.Key, a.Value)
	}
	return s
}

// readReport reads the [report] table; nil when it names no reference.
func readReport(v any) (*Reference, error) {
	t, err := table(v, "[report]")
	if err != nil {
		return nil, err
	}
	if err := known(t, "[report]", "reference"); err != nil {
		return nil, err
	}
	if _, ok := t["reference"]; !ok {
		return nil, nil
	}
	const what = "[report] reference"
	rt, err := table(t["reference"], what)
	if err != nil {
		return nil, err
	}
	if err := known(rt, what, "experiment", "variant", "axes"); err != nil {
		return nil, err
	}
	ref := new(Reference)
	if ref.Experiment, err = text(rt, what, "experiment"); err != nil {
		return nil, err
	}
	if ref.Experiment == "" {
		return nil, fmt.Errorf("%s: experiment: required, the name of the experiment whose runs it draws", what)
	}
	if err := names.Check(ref.Experiment); err != nil {
		return nil, fmt.Errorf("%s: experiment: %w", what, err)
	}
	if ref.Variant, err = text(rt, what, "variant"); err != nil {
		return nil, err
	}
	if err := names.CheckText(ref.Variant); err != nil {
		return nil, fmt.Errorf("%s: variant: %w", what, err)
	}
	at, err := table(rt["axes"], what+": axes")
	if err != nil {
		return nil, err
	}
	flat := map[string]any{}
	if err := flatten(at, "", flat, what+": axes"); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(flat) {
		switch v := flat[k].(type) {
		case string, int64, float64, bool:
			ref.Axes = append(ref.Axes, AxisValue{Key: k, Value: v})
		default:
			return nil, fmt.Errorf("%s: axes: %q = %s: want a value as run names show it (a number, string or boolean)", what, k, show(v))
		}
	}
	return ref, nil
}
