package ablations

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// sweep reads one --sweep, "KEY=V1,V2,..." or "KEY={ uniform = [A, B],
// count = N }" (sampled with seed, as in a file), and adds its axis to the
// plan after the file's, or, when the file has a keyed ablation of KEY,
// puts it in that axis's place, keeping its name and variants. It returns
// a note saying what it replaced, or "".
func (p *plan) sweep(raw string, seed uint64) (string, error) {
	where := "--sweep " + raw
	path, list, ok := strings.Cut(raw, "=")
	if !ok {
		return "", fmt.Errorf("%s: want KEY=V1,V2,... such as train.mask_ratio=0.5,0.75", where)
	}
	key := strings.TrimSpace(path)
	t, _, err := lookup(key)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	list = strings.TrimSpace(list)
	var values, items []any
	if strings.HasPrefix(list, "{") {
		var doc map[string]any
		if _, err := toml.Decode("v = "+list, &doc); err != nil {
			return "", fmt.Errorf("%s: not a TOML inline table such as { uniform = [0.5, 0.9], count = 4 }: %v", where, err)
		}
		spec, ok := doc["v"].(map[string]any)
		if !ok {
			return "", fmt.Errorf("%s: want a TOML inline table", where)
		}
		if values, err = sample(key, spec, seed, where); err != nil {
			return "", err
		}
		items = values
	} else {
		for _, item := range splitList(list) {
			item = strings.TrimSpace(item)
			if item == "" {
				return "", fmt.Errorf("%s: an empty value; want KEY=V1,V2,...", where)
			}
			values = append(values, commandLineValue(t, item))
			items = append(items, item)
		}
	}
	a := axis{key: key, name: key[strings.LastIndex(key, ".")+1:], sweep: true}
	at := func(j int, _ any) string { return fmt.Sprintf("--sweep %s=%v", key, items[j]) }
	if a.values, err = axisValues(key, values, values, where, at); err != nil {
		return "", err
	}
	for i, b := range p.axes {
		switch {
		case b.sweep && b.key == key:
			return "", fmt.Errorf("%s: %s is swept twice on the command line", where, key)
		case !b.bundle && b.key == key:
			a.name, a.variants = b.name, b.variants
			p.axes[i] = a
			return fmt.Sprintf("--sweep %s replaces the file's ablation %q: values %s instead of %s", key, key, labels(a), labels(b)), nil
		}
	}
	if err := checkAxis(p.axes, a); err != nil {
		return "", err
	}
	p.axes = append(p.axes, a)
	return "", nil
}

// labels lists the values of an axis as run names show them: "[0.5, 0.75]".
func labels(a axis) string {
	parts := make([]string, len(a.values))
	for i, av := range a.values {
		parts[i] = fmt.Sprint(av.label)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// splitList splits a --sweep's values at the commas outside brackets,
// braces and quotes, so that an array value ("[1,2],[3,4]") or a quoted
// string with a comma stays one value.
func splitList(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '[' || r == '{':
			depth++
		case r == ']' || r == '}':
			depth--
		case r == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
