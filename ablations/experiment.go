package ablations

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"harness/internal/names"
)

// ErrInvalid is wrapped by every error of [Load], [Parse] and [CheckData]:
// the experiment cannot run as its file, overrides and data are, which a
// command reports with exit status 2 (test with errors.Is).
var ErrInvalid = errors.New("invalid experiment")

// inputError is an error of an experiment's file, overrides or data.
type inputError struct {
	where string // the file, file:line or experiment at fault
	err   error
}

func (e *inputError) Error() string   { return e.where + ": " + e.err.Error() }
func (e *inputError) Unwrap() []error { return []error{ErrInvalid, e.err} }

// Experiment is an experiment file's [experiment] table, with the file.
type Experiment struct {
	Name        string   // groups the runs in the store
	Description string   // what the experiment compares
	Seeds       []uint64 // every run is repeated per seed, in this order
	Source      string   // the file's path, or the name given to Parse
	Text        string   // the file's text, as the store keeps it
}

// MaxFileSize is the largest experiment file Load reads, in bytes. The
// shipped ones are a few KiB; the store keeps each file's text whole.
const MaxFileSize = 1 << 20

// Load reads the experiment file at path and expands it into runs, with
// the overrides ("train.steps=5", as given to --set) applied to every run.
// It refuses a file that is not a regular file (a device such as
// /dev/zero, a pipe, a directory) or is over MaxFileSize. See [Parse].
func Load(path string, overrides []string) (*Experiment, []Run, error) {
	text, err := readFile(path)
	if err != nil {
		return nil, nil, &inputError{path, err}
	}
	return Parse(text, path, overrides)
}

// readFile reads a regular file of at most MaxFileSize bytes, reading no
// more than that whatever the file is.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading experiment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading experiment: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s); give an experiment's TOML file", fileKind(fi.Mode()))
	}
	text, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading experiment: %w", err)
	}
	if len(text) > MaxFileSize {
		return nil, fmt.Errorf("over %d bytes (%d KiB), the most an experiment file may hold", MaxFileSize, MaxFileSize>>10)
	}
	return text, nil
}

// fileKind names the type of a file that is not regular.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// Parse reads the text of an experiment file, named source in errors, and
// expands it into runs, with the overrides applied to every run. It checks
// every run's configuration but opens no dataset; see [CheckData]. A
// syntax error names its line and shows the lines around it.
func Parse(text []byte, source string, overrides []string) (*Experiment, []Run, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(text), &doc); err != nil {
		return nil, nil, syntaxError(text, source, err)
	}
	x, p, err := read(doc, overrides)
	if err != nil {
		return nil, nil, &inputError{source, err}
	}
	x.Source, x.Text = source, string(text)
	runs, err := p.expand(x)
	if err != nil {
		return nil, nil, &inputError{source, err}
	}
	return x, runs, nil
}

// plan is an experiment file read and checked, ready to expand.
type plan struct {
	base      []setting // the keys of [model], [data], [train] and [eval]
	variants  []variant // at least one
	axes      []axis
	overrides []setting
}

type variant struct {
	name string // "" when the file has no variants
	sets []setting
}

// An axis is one [[ablation]].
type axis struct {
	key    string // AxisValue.Key: the dotted key, or a bundle's name
	name   string // the axis in run names
	values []axisValue
}

type axisValue struct {
	label any // AxisValue.Value, and the value in run names
	sets  []setting
}

// tables lists the top-level tables of an experiment file, in order.
var tables = []string{"experiment", "model", "data", "train", "eval", "variant", "ablation"}

// read checks a decoded experiment file and the overrides.
func read(doc map[string]any, overrides []string) (*Experiment, *plan, error) {
	for _, k := range sortedKeys(doc) {
		if !slices.Contains(tables, k) {
			return nil, nil, fmt.Errorf("%s: unknown table (known: %s)", k, strings.Join(tables, ", "))
		}
	}
	x, err := readExperiment(doc["experiment"])
	if err != nil {
		return nil, nil, err
	}
	p := new(plan)
	for _, section := range sections() {
		t, err := table(doc[section], "["+section+"]")
		if err != nil {
			return nil, nil, err
		}
		for _, k := range sortedKeys(t) {
			s, err := newSetting(section+"."+k, t[k], fmt.Sprintf("[%s] %s = %s", section, k, show(t[k])))
			if err != nil {
				return nil, nil, err
			}
			p.base = append(p.base, s)
		}
	}
	if p.variants, err = readVariants(doc["variant"]); err != nil {
		return nil, nil, err
	}
	if p.axes, err = readAxes(doc["ablation"]); err != nil {
		return nil, nil, err
	}
	for _, o := range overrides {
		s, err := newOverride(o)
		if err != nil {
			return nil, nil, err
		}
		if by := p.setBy(s.key); by != "" {
			return nil, nil, fmt.Errorf("%s: %s is set by %s; an override may not change what run names describe", s.where, s.key, by)
		}
		p.overrides = append(p.overrides, s)
	}
	return x, p, nil
}

// readExperiment reads the [experiment] table.
func readExperiment(v any) (*Experiment, error) {
	t, err := table(v, "[experiment]")
	if err != nil {
		return nil, err
	}
	if err := known(t, "[experiment]", "name", "description", "seeds"); err != nil {
		return nil, err
	}
	x := &Experiment{Seeds: []uint64{0}}
	if x.Name, err = text(t, "[experiment]", "name"); err != nil {
		return nil, err
	}
	if x.Name == "" {
		return nil, errors.New("[experiment]: name: required")
	}
	if err := names.Check(x.Name); err != nil {
		return nil, fmt.Errorf("[experiment] name: %w (it names a directory under --out)", err)
	}
	if x.Description, err = text(t, "[experiment]", "description"); err != nil {
		return nil, err
	}
	if v, ok := t["seeds"]; ok {
		seeds, ok := v.([]any)
		if !ok || len(seeds) == 0 {
			return nil, fmt.Errorf("[experiment] seeds = %s: want a non-empty array of integers >= 0", show(v))
		}
		x.Seeds = nil
		for _, s := range seeds {
			n, ok := s.(int64)
			if !ok || n < 0 {
				return nil, fmt.Errorf("[experiment] seeds = %s: %s is not an integer >= 0", show(v), show(s))
			}
			if slices.Contains(x.Seeds, uint64(n)) {
				return nil, fmt.Errorf("[experiment] seeds = %s: seed %d is given twice", show(v), n)
			}
			x.Seeds = append(x.Seeds, uint64(n))
		}
	}
	return x, nil
}

// readVariants reads the [[variant]] tables; without any, there is one
// unnamed variant.
func readVariants(v any) ([]variant, error) {
	ts, err := tableList(v, "variant")
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return []variant{{}}, nil
	}
	var vs []variant
	for i, t := range ts {
		what := fmt.Sprintf("variant %d", i+1)
		if err := known(t, what, "name", "set"); err != nil {
			return nil, err
		}
		name, err := text(t, what, "name")
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, fmt.Errorf("%s: name: required", what)
		}
		if err := names.CheckText(name); err != nil {
			return nil, fmt.Errorf("%s: name: %w", what, err)
		}
		if slices.ContainsFunc(vs, func(v variant) bool { return v.name == name }) {
			return nil, fmt.Errorf("variant %q: name given to two variants", name)
		}
		what = fmt.Sprintf("variant %q", name)
		sets, err := readSet(t["set"], what+": set")
		if err != nil {
			return nil, err
		}
		vs = append(vs, variant{name, sets})
	}
	return vs, nil
}

// readAxes reads the [[ablation]] tables.
func readAxes(v any) ([]axis, error) {
	ts, err := tableList(v, "ablation")
	if err != nil {
		return nil, err
	}
	var axes []axis
	for i, t := range ts {
		a, err := readAxis(t, i)
		if err != nil {
			return nil, err
		}
		for _, av := range a.values {
			for _, s := range av.sets {
				for _, b := range axes {
					if b.sets(s.key) {
						return nil, fmt.Errorf("ablation %q: %s is also set by ablation %q; a key may belong to one axis only", a.key, s.key, b.key)
					}
				}
			}
		}
		if a.name == "seed" {
			return nil, fmt.Errorf("ablation %q: its name is seed, which run names give the run's seed; give it another name", a.key)
		}
		for _, b := range axes {
			if b.name == a.name {
				return nil, fmt.Errorf("ablation %q: name %q is also the name of ablation %q; give one of them another name", a.key, a.name, b.key)
			}
		}
		axes = append(axes, a)
	}
	return axes, nil
}

// readAxis reads the i'th [[ablation]] table: a key and its values, or a
// bundle of keys with a name, labels and a table of keys per value.
func readAxis(t map[string]any, i int) (axis, error) {
	what := fmt.Sprintf("ablation %d", i+1)
	if err := known(t, what, "key", "name", "labels", "values"); err != nil {
		return axis{}, err
	}
	key, err := text(t, what, "key")
	if err != nil {
		return axis{}, err
	}
	name, err := text(t, what, "name")
	if err != nil {
		return axis{}, err
	}
	a := axis{key: key, name: name}
	bundle := key == ""
	switch {
	case bundle && name == "":
		return axis{}, fmt.Errorf("%s: want a key, or a name for a bundle of keys", what)
	case bundle:
		a.key = name
	case name == "":
		a.name = key[strings.LastIndex(key, ".")+1:]
	}
	what = fmt.Sprintf("ablation %q", a.key)
	if err := names.CheckText(a.name); err != nil {
		return axis{}, fmt.Errorf("%s: name: %w", what, err)
	}
	values, ok := t["values"].([]any)
	if ts, isTables := t["values"].([]map[string]any); isTables { // [[ablation.values]]
		values, ok = make([]any, len(ts)), true
		for j, v := range ts {
			values[j] = v
		}
	}
	if !ok || len(values) == 0 {
		return axis{}, fmt.Errorf("%s: values: want a non-empty array", what)
	}
	labels := make([]any, len(values))
	if v, ok := t["labels"]; ok {
		ls, ok := v.([]any)
		if !ok || len(ls) != len(values) {
			return axis{}, fmt.Errorf("%s: labels: want an array of %d strings, one per value", what, len(values))
		}
		for j, l := range ls {
			if _, ok := l.(string); !ok {
				return axis{}, fmt.Errorf("%s: labels: %s is not a string", what, show(l))
			}
			labels[j] = l
		}
	} else if bundle {
		return axis{}, fmt.Errorf("%s: labels: required for a bundle of keys, one string per value", what)
	} else {
		copy(labels, values)
	}
	seen := map[string]bool{}
	for j, v := range values {
		label := fmt.Sprint(labels[j])
		if err := names.CheckText(label); err != nil {
			return axis{}, fmt.Errorf("%s: value %s: %w (it is part of run names)", what, show(labels[j]), err)
		}
		if seen[label] {
			return axis{}, fmt.Errorf("%s: value %s is given twice", what, show(labels[j]))
		}
		seen[label] = true
		var sets []setting
		if bundle {
			if sets, err = readSet(v, fmt.Sprintf("%s value %q: set", what, label)); err != nil {
				return axis{}, err
			}
			if len(sets) == 0 {
				return axis{}, fmt.Errorf("%s value %q: sets no key", what, label)
			}
		} else {
			s, err := newSetting(key, v, fmt.Sprintf("%s = %s", what, show(v)))
			if err != nil {
				return axis{}, err
			}
			sets = []setting{s}
		}
		a.values = append(a.values, axisValue{labels[j], sets})
	}
	return a, nil
}

// readSet reads a table of dotted keys, a variant's set or a bundled
// ablation value. Keys may be quoted ("model.arch") or nested (model.arch,
// model = { arch = ... }).
func readSet(v any, what string) ([]setting, error) {
	t, err := table(v, what)
	if err != nil {
		return nil, err
	}
	flat := map[string]any{}
	if err := flatten(t, "", flat, what); err != nil {
		return nil, err
	}
	var sets []setting
	for _, k := range sortedKeys(flat) {
		s, err := newSetting(k, flat[k], fmt.Sprintf("%s %q = %s", what, k, show(flat[k])))
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// flatten copies the values of nested tables t into flat under their
// dotted keys.
func flatten(t map[string]any, prefix string, flat map[string]any, what string) error {
	for k, v := range t {
		k = prefix + k
		if sub, ok := v.(map[string]any); ok {
			if err := flatten(sub, k+".", flat, what); err != nil {
				return err
			}
			continue
		}
		if _, ok := flat[k]; ok {
			return fmt.Errorf("%s: %q is given twice", what, k)
		}
		flat[k] = v
	}
	return nil
}

// setBy names the variant or ablation that sets key, or returns "".
func (p *plan) setBy(key string) string {
	for _, v := range p.variants {
		if slices.ContainsFunc(v.sets, func(s setting) bool { return s.key == key }) {
			return fmt.Sprintf("variant %q", v.name)
		}
	}
	for _, a := range p.axes {
		if a.sets(key) {
			return fmt.Sprintf("ablation %q", a.key)
		}
	}
	return ""
}

// sets reports whether any value of the axis sets key.
func (a axis) sets(key string) bool {
	for _, av := range a.values {
		if slices.ContainsFunc(av.sets, func(s setting) bool { return s.key == key }) {
			return true
		}
	}
	return false
}

// table returns v as a table; a missing table is empty.
func table(v any, what string) (map[string]any, error) {
	if v == nil {
		return nil, nil
	}
	t, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: %s is %s, want a table", what, show(v), describe(v))
	}
	return t, nil
}

// tableList returns v, the value of top-level key name, as an array of
// tables; a missing one is empty.
func tableList(v any, name string) ([]map[string]any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []map[string]any:
		return v, nil
	case []any:
		ts := make([]map[string]any, len(v))
		for i, x := range v {
			t, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s %d: %s is %s, want a table", name, i+1, show(x), describe(x))
			}
			ts[i] = t
		}
		return ts, nil
	}
	return nil, fmt.Errorf("%s: %s is %s, want [[%s]] tables", name, show(v), describe(v), name)
}

// known refuses the keys of t that are not among names.
func known(t map[string]any, what string, names ...string) error {
	for _, k := range sortedKeys(t) {
		if !slices.Contains(names, k) {
			return fmt.Errorf("%s: %s: unknown key (known: %s)", what, k, strings.Join(names, ", "))
		}
	}
	return nil
}

// text returns the string table what holds under key, or "" if it holds
// none.
func text(t map[string]any, what, key string) (string, error) {
	v, ok := t[key]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s %s = %s: %s is %s, want a string", what, key, show(v), show(v), describe(v))
	}
	return s, nil
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
