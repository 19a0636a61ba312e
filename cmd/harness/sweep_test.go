package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// --sweep adds an axis in a dry run of the harness process, replaces the
// file's axis of the same key with a note, and is refused with exit
// status 2 as --set is.
func TestSweepDryRun(t *testing.T) {
	dir := t.TempDir()
	path := mae(t, dir)
	db := filepath.Join(dir, "harness.db")
	code, out, stderr := runHarness(t, dir, "run", path, "--dry-run", "--db", db,
		"--sweep", "train.mask_ratio=0.25,0.5", "--sweep", "train.steps={ int_uniform = [20, 40], count = 2 }")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "experiment tiny: 8 runs") {
		t.Errorf("want 8 runs (2 variants x 2 mask ratios x 2 step counts)\n%s", out)
	}
	for _, want := range []string{
		// steps drawn from [20, 40] with seed 0: 27 and 35
		`(?m)^CRATE-MAE/mask_ratio=0\.25/steps=27/seed=0 +new +crate +27 `,
		`(?m)^MAE/mask_ratio=0\.5/steps=35/seed=0 +new +vit +35 +7,536 `,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no line matching %s\n%s", want, out)
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run made the store: %v", err)
	}

	// the file's axis replaced, said on stderr
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	axis := "\n[[ablation]]\nkey = \"train.mask_ratio\"\nvalues = [0.5, 0.75]\n"
	if err := os.WriteFile(path, append(text, axis...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runHarness(t, dir, "run", path, "--dry-run", "--db", db, "--sweep", "train.mask_ratio=0.6")
	if code != 0 || !strings.Contains(out, "experiment tiny: 2 runs") || !strings.Contains(out, "MAE/mask_ratio=0.6/seed=0 ") ||
		!strings.Contains(stderr, `note: --sweep train.mask_ratio replaces the file's ablation "train.mask_ratio": values [0.6] instead of [0.5, 0.75]`) {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}

	for _, c := range []struct{ sweep, want string }{
		{"train.mask=0.5", "--sweep train.mask=0.5: train.mask: unknown key (known train keys:"},
		{"train.steps=10,ten", `--sweep train.steps=ten: train.steps: "ten" is a string, want an integer`},
		{"train.steps", "--sweep train.steps: want KEY=V1,V2,..."},
		{"train.blr={ log_uniform = [0, 1], count = 2 }", "values: log_uniform = [0, 1]: the bounds must be > 0"},
	} {
		code, out, stderr := runHarness(t, dir, "run", path, "--dry-run", "--db", db, "--sweep", c.sweep)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("--sweep %s: exit %d, %q; want 2 naming %s\n%s", c.sweep, code, stderr, c.want, out)
		}
	}
}

// A --sweep makes a version of its own, as a --set does: both are in the
// overrides a version is recorded with, the sets first.
func TestVersionOverrides(t *testing.T) {
	for _, c := range []struct {
		sets, sweeps, want []string
	}{
		{nil, nil, nil},
		{[]string{"train.steps=5"}, nil, []string{"train.steps=5"}},
		{[]string{"train.steps=5"}, []string{"train.mask_ratio=0.5,0.75"}, []string{"train.steps=5", "--sweep train.mask_ratio=0.5,0.75"}},
	} {
		if got := versionOverrides(c.sets, c.sweeps); !slices.Equal(got, c.want) {
			t.Errorf("versionOverrides(%q, %q) = %q, want %q", c.sets, c.sweeps, got, c.want)
		}
	}
}
