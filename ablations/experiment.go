package ablations

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
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

	// Reference is the [report] reference: runs of another experiment a
	// report draws as a reference, or nil when the file names none.
	Reference *Reference

	// Notes say what the command line changed in the file's plan, such
	// as a --sweep that replaces one of its ablations; a command prints
	// them before it runs anything.
	Notes []string
}

// Options are what a command line adds to an experiment file.
type Options struct {
	Sets   []string // --set KEY=VALUE: a value for every run
	Sweeps []string // --sweep KEY=V1,V2,...: an ablation axis more
}

// MaxFileSize is the largest experiment file Load reads, in bytes. The
// shipped ones are a few KiB; the store keeps each file's text whole.
const MaxFileSize = 1 << 20

// Load reads the experiment file at path and expands it into runs, with
// the overrides ("train.steps=5", as given to --set) applied to every run.
// It refuses a file that is not a regular file (a device such as
// /dev/zero, a pipe, a directory) or is over MaxFileSize. See [Parse].
func Load(path string, overrides []string) (*Experiment, []Run, error) {
	return LoadWith(path, Options{Sets: overrides})
}

// LoadWith is [Load] with the overrides and sweeps of opt. See [ParseWith].
func LoadWith(path string, opt Options) (*Experiment, []Run, error) {
	text, err := readFile(path)
	if err != nil {
		return nil, nil, &inputError{path, err}
	}
	return ParseWith(text, path, opt)
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
	return ParseWith(text, source, Options{Sets: overrides})
}

// ParseWith is [Parse] with the overrides and sweeps of opt. Each sweep,
// "KEY=V1,V2,..." or "KEY={ log_uniform = [LOW, HIGH], count = N }", adds
// an ablation axis of KEY after the file's, or replaces the file's axis of
// KEY, keeping its name and variants, and says so in Experiment.Notes.
func ParseWith(text []byte, source string, opt Options) (*Experiment, []Run, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(text), &doc); err != nil {
		return nil, nil, syntaxError(text, source, err)
	}
	x, p, err := read(doc, opt)
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

// An axis is one [[ablation]], or one --sweep.
type axis struct {
	key      string // AxisValue.Key: the dotted key, or a bundle's name
	name     string // the axis in run names
	values   []axisValue
	variants []string // the variants it applies to; nil: every variant
	bundle   bool     // a bundle of keys, named rather than keyed
	sweep    bool     // given by --sweep
}

// String names the axis in errors: `ablation "train.mask_ratio"`, or
// `--sweep train.mask_ratio`.
func (a axis) String() string {
	if a.sweep {
		return "--sweep " + a.key
	}
	return fmt.Sprintf("ablation %q", a.key)
}

// appliesTo reports whether the axis applies to the variant named name.
func (a axis) appliesTo(name string) bool {
	return a.variants == nil || slices.Contains(a.variants, name)
}

type axisValue struct {
	label any // AxisValue.Value, and the value in run names
	sets  []setting
}

// tables lists the top-level tables of an experiment file, in order.
var tables = []string{"experiment", "model", "data", "train", "eval", "variant", "ablation", "report"}

// read checks a decoded experiment file, the overrides and the sweeps.
func read(doc map[string]any, opt Options) (*Experiment, *plan, error) {
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
	if p.axes, err = readAxes(doc["ablation"], x.Seeds[0]); err != nil {
		return nil, nil, err
	}
	if err := p.checkAxisVariants(); err != nil {
		return nil, nil, err
	}
	for _, raw := range opt.Sweeps {
		note, err := p.sweep(raw, x.Seeds[0])
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			x.Notes = append(x.Notes, note)
		}
	}
	if x.Reference, err = readReport(doc["report"]); err != nil {
		return nil, nil, err
	}
	for _, o := range opt.Sets {
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

// readAxes reads the [[ablation]] tables; seed draws sampled values.
func readAxes(v any, seed uint64) ([]axis, error) {
	ts, err := tableList(v, "ablation")
	if err != nil {
		return nil, err
	}
	var axes []axis
	for i, t := range ts {
		a, err := readAxis(t, i, seed)
		if err != nil {
			return nil, err
		}
		if err := checkAxis(axes, a); err != nil {
			return nil, err
		}
		axes = append(axes, a)
	}
	return axes, nil
}

// checkAxis refuses an axis a that sets a key of one of axes, or has the
// name of one of them or seed's.
func checkAxis(axes []axis, a axis) error {
	for _, av := range a.values {
		for _, s := range av.sets {
			for _, b := range axes {
				if b.sets(s.key) {
					return fmt.Errorf("%s: %s is also set by %s; a key may belong to one axis only", a, s.key, b)
				}
			}
		}
	}
	if a.name == "seed" {
		return fmt.Errorf("%s: its name is seed, which run names give the run's seed; give it another name", a)
	}
	for _, b := range axes {
		if b.name == a.name {
			return fmt.Errorf("%s: name %q is also the name of %s; give one of them another name", a, a.name, b)
		}
	}
	return nil
}

// readAxis reads the i'th [[ablation]] table: a key and its values, or a
// bundle of keys with a name, labels and a table of keys per value. seed
// draws sampled values.
func readAxis(t map[string]any, i int, seed uint64) (axis, error) {
	what := fmt.Sprintf("ablation %d", i+1)
	if err := known(t, what, "key", "name", "labels", "values", "variants"); err != nil {
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
	bundle := key == ""
	a := axis{key: key, name: name, bundle: bundle}
	switch {
	case bundle && name == "":
		return axis{}, fmt.Errorf("%s: want a key, or a name for a bundle of keys", what)
	case bundle:
		a.key = name
	case name == "":
		a.name = key[strings.LastIndex(key, ".")+1:]
	}
	what = a.String()
	if err := names.CheckText(a.name); err != nil {
		return axis{}, fmt.Errorf("%s: name: %w", what, err)
	}
	if a.variants, err = readAxisVariants(t, what); err != nil {
		return axis{}, err
	}
	values, ok := t["values"].([]any)
	if ts, isTables := t["values"].([]map[string]any); isTables { // [[ablation.values]]
		values, ok = make([]any, len(ts)), true
		for j, v := range ts {
			values[j] = v
		}
	}
	if spec, isTable := t["values"].(map[string]any); isTable { // sampled
		if bundle {
			return axis{}, fmt.Errorf("%s: values: a bundle's values are an array of tables; only a keyed axis can be sampled", what)
		}
		if _, ok := t["labels"]; ok {
			return axis{}, fmt.Errorf("%s: labels: not with sampled values, which run names show as drawn", what)
		}
		if values, err = sample(key, spec, seed, what); err != nil {
			return axis{}, err
		}
		ok = true
	}
	if !ok || len(values) == 0 {
		return axis{}, fmt.Errorf("%s: values: want a non-empty array, or a table of sampled values", what)
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
	if a.values, err = axisValues(key, values, labels, what, func(_ int, v any) string { return fmt.Sprintf("%s = %s", what, show(v)) }); err != nil {
		return axis{}, err
	}
	return a, nil
}

// axisValues makes the values of an axis of key, or of a bundle when key
// is "", from the values and labels as decoded; where names a value's
// setting in errors.
func axisValues(key string, values, labels []any, what string, where func(j int, v any) string) ([]axisValue, error) {
	var avs []axisValue
	seen := map[string]bool{}
	for j, v := range values {
		label := fmt.Sprint(labels[j])
		if err := names.CheckText(label); err != nil {
			return nil, fmt.Errorf("%s: value %s: %w (it is part of run names)", what, show(labels[j]), err)
		}
		if seen[label] {
			return nil, fmt.Errorf("%s: value %s is given twice", what, show(labels[j]))
		}
		seen[label] = true
		var sets []setting
		if key == "" {
			var err error
			if sets, err = readSet(v, fmt.Sprintf("%s value %q: set", what, label)); err != nil {
				return nil, err
			}
			if len(sets) == 0 {
				return nil, fmt.Errorf("%s value %q: sets no key", what, label)
			}
		} else {
			s, err := newSetting(key, v, where(j, v))
			if err != nil {
				return nil, err
			}
			sets = []setting{s}
		}
		avs = append(avs, axisValue{labels[j], sets})
	}
	return avs, nil
}

// readAxisVariants reads an [[ablation]]'s variants: a non-empty array of
// distinct names, or nil when it has none. [plan.checkAxisVariants] checks
// the names.
func readAxisVariants(t map[string]any, what string) ([]string, error) {
	v, ok := t["variants"]
	if !ok {
		return nil, nil
	}
	xs, ok := v.([]any)
	if !ok || len(xs) == 0 {
		return nil, fmt.Errorf("%s: variants = %s: want a non-empty array of variant names", what, show(v))
	}
	var vs []string
	for _, x := range xs {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s: variants = %s: %s is not a variant name, a string", what, show(v), show(x))
		}
		if slices.Contains(vs, s) {
			return nil, fmt.Errorf("%s: variants = %s: %q is given twice", what, show(v), s)
		}
		vs = append(vs, s)
	}
	return vs, nil
}

// checkAxisVariants refuses an axis's variants that name no variant of
// the file.
func (p *plan) checkAxisVariants() error {
	var known []string
	for _, v := range p.variants {
		if v.name != "" {
			known = append(known, strconv.Quote(v.name))
		}
	}
	for _, a := range p.axes {
		for _, name := range a.variants {
			if len(known) == 0 {
				return fmt.Errorf("%s: variants: %q: the file has no [[variant]] to name", a, name)
			}
			if !slices.ContainsFunc(p.variants, func(v variant) bool { return v.name == name }) {
				return fmt.Errorf("%s: variants: %q is no variant of the file (variants: %s)", a, name, strings.Join(known, ", "))
			}
		}
	}
	return nil
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
			return a.String()
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
