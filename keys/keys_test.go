package keys

import (
	"strings"
	"testing"
)

type sample struct {
	Name  string  `toml:"name"`
	Size  int     `toml:"size"`
	Ratio float64 `toml:"ratio"`
	On    bool    `toml:"on"`
}

func TestSplit(t *testing.T) {
	tests := []struct {
		in                  string
		section, key, value string
		wantErr             string
	}{
		{"model.embed_dim=384", "model", "embed_dim", "384", ""},
		{" train.mask_ratio = 0.5", "train", "mask_ratio", "0.5", ""},
		{"model.arch=", "model", "arch", "", ""},
		{"embed_dim=384", "", "", "", "dotted key"},
		{"model.embed_dim", "", "", "", "KEY=VALUE"},
		{".x=1", "", "", "", "dotted key"},
	}
	for _, tt := range tests {
		s, k, v, err := Split(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Split(%q) error %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || s != tt.section || k != tt.key || v != tt.value {
			t.Errorf("Split(%q) = %q %q %q %v", tt.in, s, k, v, err)
		}
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		key, raw string
		want     sample
		wantErr  string
	}{
		{"name", "vit", sample{Name: "vit"}, ""},
		{"name", `"crate"`, sample{Name: "crate"}, ""},
		{"size", "1_024", sample{Size: 1024}, ""},
		{"ratio", "0.75", sample{Ratio: 0.75}, ""},
		{"on", "true", sample{On: true}, ""},
		{"size", "1.5", sample{}, "s.size: \"1.5\" is not an integer"},
		{"ratio", "abc", sample{}, "s.ratio: \"abc\" is not a number"},
		{"on", "1", sample{}, "s.on: \"1\" is not a boolean (true or false)"},
		{"nope", "1", sample{}, "s.nope: unknown key (known s keys: name, on, ratio, size)"},
	}
	for _, tt := range tests {
		var got sample
		err := Set(&got, "s", tt.key, tt.raw)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Set(%s=%s) error %v, want %q", tt.key, tt.raw, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Set(%s=%s) = %+v, %v; want %+v", tt.key, tt.raw, got, err, tt.want)
		}
	}
}
