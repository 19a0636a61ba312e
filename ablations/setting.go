package ablations

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"harness/keys"
	"harness/model"
	"harness/training"
)

// presetKey names the model preset a run starts from. It is no field of
// model.Config.
const presetKey = "model.preset"

// A setting is one key given a value by one part of an experiment: a table
// of the file, a variant, an ablation value or an override.
type setting struct {
	key   string        // dotted, e.g. "train.steps"
	where string        // the part that gives it, for errors: `[train] steps = 10`
	index []int         // the field in training.Spec; nil for presetKey
	v     reflect.Value // the value, of the field's type; a model.Config for presetKey
}

// newSetting checks that key names a field of training.Spec (or is
// presetKey) and that value, as decoded from TOML, suits its type. Errors
// begin with where.
func newSetting(key string, value any, where string) (setting, error) {
	t, index, err := lookup(key)
	if err != nil {
		return setting{}, fmt.Errorf("%s: %w", where, err)
	}
	v, err := convert(t, value)
	if err != nil {
		return setting{}, fmt.Errorf("%s: %s: %w", where, key, err)
	}
	if key == presetKey {
		c, err := model.Preset(v.String())
		if err != nil {
			return setting{}, fmt.Errorf("%s: %w", where, err)
		}
		v = reflect.ValueOf(c)
	}
	return setting{key: key, where: where, index: index, v: v}, nil
}

// lookup finds the field of training.Spec that a dotted key names, by the
// TOML tags of Spec's tables and of their fields. For presetKey it returns
// the string type and a nil index.
func lookup(key string) (reflect.Type, []int, error) {
	section, name, ok := strings.Cut(key, ".")
	if !ok || section == "" || name == "" {
		return nil, nil, fmt.Errorf("%q: want a dotted key such as train.steps", key)
	}
	if key == presetKey {
		return reflect.TypeFor[string](), nil, nil
	}
	spec := reflect.TypeFor[training.Spec]()
	i, ok := fieldByTag(spec, section)
	if !ok {
		return nil, nil, fmt.Errorf("%s: unknown section %q (known: %s)", key, section, strings.Join(sections(), ", "))
	}
	table := spec.Field(i).Type
	j, ok := fieldByTag(table, name)
	if !ok {
		known := keys.Names(reflect.New(table).Interface())
		if section == "model" {
			known = append(known, "preset")
			slices.Sort(known)
		}
		return nil, nil, fmt.Errorf("%s: unknown key (known %s keys: %s)", key, section, strings.Join(known, ", "))
	}
	return table.Field(j).Type, []int{i, j}, nil
}

// sections lists the tables of training.Spec by their TOML names, sorted.
func sections() []string { return keys.Names(&training.Spec{}) }

// fieldByTag returns the index of the field of struct type t whose TOML
// tag is name.
func fieldByTag(t reflect.Type, name string) (int, bool) {
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if tag == name && tag != "-" {
			return i, true
		}
	}
	return 0, false
}

// convert checks that a value decoded from TOML suits type t and returns
// it as a t: integers for integer fields, integers or floats for float
// fields, exactly booleans and strings for those, arrays for slices.
func convert(t reflect.Type, value any) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	wrong := func() (reflect.Value, error) {
		return reflect.Value{}, fmt.Errorf("%s is %s, want %s", show(value), describe(value), want(t))
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := value.(string)
		if !ok {
			return wrong()
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := value.(bool)
		if !ok {
			return wrong()
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := value.(int64)
		if !ok {
			return wrong()
		}
		if v.OverflowInt(n) {
			return reflect.Value{}, fmt.Errorf("%d is out of range for %s", n, t)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := value.(int64)
		if !ok || n < 0 {
			return wrong()
		}
		if v.OverflowUint(uint64(n)) {
			return reflect.Value{}, fmt.Errorf("%d is out of range for %s", n, t)
		}
		v.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		switch x := value.(type) {
		case int64:
			v.SetFloat(float64(x))
		case float64:
			v.SetFloat(x)
		default:
			return wrong()
		}
	case reflect.Slice:
		xs, ok := value.([]any)
		if !ok {
			return wrong()
		}
		if len(xs) == 0 {
			return v, nil // nil, as a table that leaves the key out
		}
		v = reflect.MakeSlice(t, len(xs), len(xs))
		for i, x := range xs {
			e, err := convert(t.Elem(), x)
			if err != nil {
				return reflect.Value{}, fmt.Errorf("value %d: %w", i, err)
			}
			v.Index(i).Set(e)
		}
	default:
		return reflect.Value{}, fmt.Errorf("cannot be set by an experiment (type %s)", t)
	}
	return v, nil
}

// want describes the TOML values a field of type t takes.
func want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer >= 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	}
	return "an integer"
}

// describe names the TOML type of a decoded value, with an article.
func describe(value any) string {
	switch value.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

// show writes a decoded value as TOML would, for error messages.
func show(value any) string {
	switch v := value.(type) {
	case string:
		return strconv.Quote(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = show(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, strconv.Quote(k)+" = "+show(v[k]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return fmt.Sprint(value)
}

// newOverride reads an override such as "train.steps=5". Its value is
// read as a TOML value, except for string fields, which take it as it is,
// unquoted if quoted.
func newOverride(override string) (setting, error) {
	where := "--set " + override
	section, name, raw, err := keys.Split(override)
	if err != nil {
		return setting{}, err
	}
	key := section + "." + name
	t, _, err := lookup(key)
	if err != nil {
		return setting{}, fmt.Errorf("%s: %w", where, err)
	}
	return newSetting(key, commandLineValue(t, raw), where)
}

// commandLineValue reads a value given on the command line for a field of
// type t as a TOML value, except for string fields, which take it as it
// is, unquoted if quoted. What is no TOML value stays the string raw, for
// newSetting to refuse.
func commandLineValue(t reflect.Type, raw string) any {
	if t.Kind() == reflect.String {
		if s, err := strconv.Unquote(raw); err == nil {
			return s
		}
		return raw
	}
	var doc map[string]any
	if _, err := toml.Decode("v = "+raw, &doc); err == nil && len(doc) == 1 {
		return doc["v"]
	}
	return raw
}

// build makes a run's spec from its settings, given lowest precedence
// first: the defaults, then the preset of the last setting that names
// one, then every other setting in order.
func build(settings []setting) training.Spec {
	spec := training.DefaultSpec()
	for _, s := range settings {
		if s.index == nil {
			spec.Model = s.v.Interface().(model.Config)
		}
	}
	dst := reflect.ValueOf(&spec).Elem()
	for _, s := range settings {
		if s.index == nil {
			continue
		}
		f := dst.FieldByIndex(s.index)
		if s.v.Kind() == reflect.Slice {
			// a copy, so that no two runs share a slice
			f.Set(reflect.AppendSlice(reflect.Zero(s.v.Type()), s.v))
		} else {
			f.Set(s.v)
		}
	}
	return spec
}

// Override applies command-line overrides such as "train.steps=5" to spec,
// with the checks of an experiment file's keys, in order;
// "model.preset=NAME" first restarts the model from that preset. Errors
// wrap ErrInvalid.
func Override(spec training.Spec, overrides []string) (training.Spec, error) {
	for _, o := range overrides {
		s, err := newOverride(o)
		if err != nil {
			return spec, &inputError{where: "command line", err: err}
		}
		dst := reflect.ValueOf(&spec).Elem()
		if s.index == nil {
			spec.Model = s.v.Interface().(model.Config)
			continue
		}
		dst.FieldByIndex(s.index).Set(s.v)
	}
	return spec, nil
}
