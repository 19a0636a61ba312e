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

func TestNames(t *testing.T) {
	if got := strings.Join(Names(&sample{}), " "); got != "name on ratio size" {
		t.Errorf("Names = %q", got)
	}
}
