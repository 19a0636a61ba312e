// Package keys sets the fields of configuration structs by their TOML key,
// from the text of a command-line override such as model.embed_dim=384.
// It is strict: an unknown key or a value of the wrong type is an error that
// names the key.
package keys

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Split parses "section.key=value" into its parts.
func Split(override string) (section, key, value string, err error) {
	path, value, ok := strings.Cut(override, "=")
	if !ok {
		return "", "", "", fmt.Errorf("override %q: want KEY=VALUE", override)
	}
	section, key, ok = strings.Cut(strings.TrimSpace(path), ".")
	if !ok || section == "" || key == "" {
		return "", "", "", fmt.Errorf("override %q: want a dotted key such as model.embed_dim", override)
	}
	return section, key, strings.TrimSpace(value), nil
}

// Names lists the TOML keys of the struct that dst points to, sorted.
func Names(dst any) []string {
	t := reflect.TypeOf(dst).Elem()
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if tag := tagName(t.Field(i)); tag != "" {
			names = append(names, tag)
		}
	}
	sort.Strings(names)
	return names
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// Set parses raw as the type of the field whose TOML key is key in the
// struct dst points to, and stores it. Errors name the key as
// section.key. Strings may be quoted or bare; booleans are true or false.
func Set(dst any, section, key, raw string) error {
	v := reflect.ValueOf(dst).Elem()
	full := section + "." + key
	for i := 0; i < v.NumField(); i++ {
		if tagName(v.Type().Field(i)) != key {
			continue
		}
		if err := parseInto(v.Field(i), raw); err != nil {
			return fmt.Errorf("%s: %w", full, err)
		}
		return nil
	}
	return fmt.Errorf("%s: unknown key (known %s keys: %s)", full, section, strings.Join(Names(dst), ", "))
}

func parseInto(f reflect.Value, raw string) error {
	switch f.Kind() {
	case reflect.String:
		if s, err := strconv.Unquote(raw); err == nil {
			raw = s
		}
		f.SetString(raw)
	case reflect.Bool:
		if raw != "true" && raw != "false" {
			return fmt.Errorf("%q is not a boolean (true or false)", raw)
		}
		f.SetBool(raw == "true")
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(strings.ReplaceAll(raw, "_", ""), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", raw)
		}
		f.SetInt(n)
	case reflect.Float64, reflect.Float32:
		x, err := strconv.ParseFloat(strings.ReplaceAll(raw, "_", ""), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", raw)
		}
		f.SetFloat(x)
	default:
		return fmt.Errorf("cannot be set from the command line (type %s)", f.Type())
	}
	return nil
}
