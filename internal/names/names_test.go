package names

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"mask_ratio", true},
		{"CRATE-MAE vs MAE (MNIST) 100%", true},
		{"ablation η", true},
		{strings.Repeat("a", MaxLen), true},
		{"", false},
		{".", false},
		{"..", false},
		{"../../escaped", false},
		{"a/b", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\tb", false},
		{"a\x1b[31mred", false},
		{"a\x7f", false},
		{"a\u0085b", false}, // C1 next line
		{"abc\u202Egpj.exe", false},
		{" ", false},
		{" lead", false},
		{"trail ", false},
		{strings.Repeat("a", MaxLen+1), false},
		{"bad\xffutf8", false},
	}
	for _, tt := range tests {
		err := Check(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("Check(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsafe) {
			t.Errorf("Check(%q) = %v, not ErrUnsafe", tt.name, err)
		}
		if tt.ok && !strings.Contains(tt.name, "%") && Escape(tt.name) != tt.name {
			t.Errorf("Escape(%q) = %q, want it unchanged", tt.name, Escape(tt.name))
		}
	}
}

func TestCheckText(t *testing.T) {
	for _, s := range []string{"CRATE-MAE", "a/b=c", "", " spaced "} {
		if err := CheckText(s); err != nil {
			t.Errorf("CheckText(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"a\nb", "\x1b]0;title\x07", "\xfe", "x\u2066y"} {
		if err := CheckText(s); !errors.Is(err, ErrUnsafe) {
			t.Errorf("CheckText(%q) = %v, want ErrUnsafe", s, err)
		}
	}
}

// Whatever goes in, what comes out is one directory name that Check
// accepts and that stays inside the directory it is joined to.
func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CRATE-MAE/mask_ratio=0.75/seed=0", "CRATE-MAE%2Fmask_ratio=0.75%2Fseed=0"},
		{"..", "%2E%2E"},
		{".", "%2E"},
		{"", "%"},
		{"../x", "..%2Fx"},
		{"100%", "100%25"},
		{"a\nb", "a%0Ab"},
		{" a ", "%20a%20"},
		{"a b", "a b"},
		{"\xff", "%FF"},
		{`a\b`, "a%5Cb"},
		{"\u202E", "%E2%80%AE"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("é/", 200)
	for _, in := range []string{long, strings.Repeat("x", 300), strings.Repeat("/", 300), long + "a"} {
		got := Escape(in)
		if err := Check(got); err != nil {
			t.Errorf("Escape(%.20q...) = %q: %v", in, got, err)
		}
		if filepath.Dir(filepath.Join("out", got)) != "out" {
			t.Errorf("Escape(%.20q...) leaves out/", in)
		}
	}
	if Escape(long) == Escape(long+"a") {
		t.Error("two long names escape to one")
	}
}

// Distinct strings that differ only where escapes are made stay distinct.
func TestEscapeIsInjective(t *testing.T) {
	ins := []string{"a/b", "a%2Fb", "a%b", "a%25b", "a b", " ab", "ab ", "a\x00b", "a%00b", ".", "%2E", "", "%"}
	seen := map[string]string{}
	for _, in := range ins {
		out := Escape(in)
		if prev, ok := seen[out]; ok {
			t.Errorf("%q and %q both escape to %q", prev, in, out)
		}
		seen[out] = in
	}
}
