// Package keys reads the dotted keys of command-line overrides such as
// model.embed_dim=384 and lists the TOML keys of configuration structs.
package keys

import (
	"fmt"
	"reflect"
	"sort"
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
