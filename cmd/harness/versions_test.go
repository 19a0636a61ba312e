package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// lsNames runs harness ls in dir with args and returns the ids and names
// it lists, as "id name".
func lsNames(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	code, out, stderr := runHarness(t, dir, append([]string{"ls"}, args...)...)
	if code != 0 {
		t.Fatalf("ls %v: exit %d\n%s%s", args, code, out, stderr)
	}
	var runs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		runs = append(runs, f[0]+" "+f[2])
	}
	return runs
}

// setSteps rewrites train.steps in the experiment file at path.
func setSteps(t *testing.T, path, from, to string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "steps = "+from+"\n", "steps = "+to+"\n", 1)
	if text == string(b) {
		t.Fatalf("%s holds no steps = %s", path, from)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Running an edited file makes a new version: the harness says what
// changed, ls, show and report keep to the current version's runs unless
// given --all-versions, and --dry-run tells each run's status without
// writing to the store.
func TestVersions(t *testing.T) {
	dir := t.TempDir()
	path := mae(t, dir)
	if code, out, stderr := runHarness(t, dir, "run", "tiny.toml"); code != 0 || !strings.Contains(out, "experiment tiny: version 1 (new): 2 runs\n") {
		t.Fatalf("first run: exit %d\n%s%s", code, out, stderr)
	}
	setSteps(t, path, "40", "30")
	db := openDB(t, dir)
	before := count(t, db, `SELECT count(*) FROM experiment_versions`)
	code, out, stderr := runHarness(t, dir, "run", "tiny.toml", "--dry-run")
	if code != 0 || !strings.Contains(out, "experiment tiny: version 2 (changed from version 1): 2 runs added, 2 runs no longer in the file (kept in the store, see --all-versions), 0 unchanged\n") ||
		!regexp.MustCompile(`(?m)^MAE/seed=0 +new +vit +30 `).MatchString(out) {
		t.Errorf("dry run of the edited file: exit %d\n%s%s", code, out, stderr)
	}
	if after := count(t, db, `SELECT count(*) FROM experiment_versions`); after != before {
		t.Errorf("the dry run wrote a version: %d versions, was %d", after, before)
	}
	code, out, stderr = runHarness(t, dir, "run", "tiny.toml")
	want := "experiment tiny: version 2 (changed from version 1): 2 runs added, 2 runs no longer in the file (kept in the store, see --all-versions), 0 unchanged\n"
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Fatalf("run of the edited file: exit %d, want output starting %q\n%s%s", code, want, out, stderr)
	}
	if got := strings.Join(lsNames(t, dir), "; "); got != "3 CRATE-MAE/seed=0; 4 MAE/seed=0" {
		t.Errorf("ls: %s", got)
	}
	if got := strings.Join(lsNames(t, dir, "--all-versions"), "; "); got != "1 CRATE-MAE/seed=0; 2 MAE/seed=0; 3 CRATE-MAE/seed=0; 4 MAE/seed=0" {
		t.Errorf("ls --all-versions: %s", got)
	}

	// show resolves a name in the current version and says so
	code, out, stderr = runHarness(t, dir, "show", "MAE/seed=0")
	if code != 0 || !strings.HasPrefix(out, "run           4 MAE/seed=0\n") || !regexp.MustCompile(`(?m)^versions +version 2$`).MatchString(out) ||
		!strings.Contains(stderr, "MAE/seed=0 is run 4 of the current version of tiny; other versions have run 2 (version 1) of that name") {
		t.Errorf("show MAE/seed=0: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = runHarness(t, dir, "show", "MAE/seed=0", "--all-versions")
	if code != 2 || !strings.Contains(stderr, "runs 2 (version 1), 4 (version 2) of tiny have that name; give the run's id") {
		t.Errorf("show --all-versions of a name two runs have: exit %d\n%s%s", code, out, stderr)
	}

	// the report draws the current runs under the current text
	code, out, stderr = runHarness(t, dir, "report", "--out", "reports")
	if code != 0 || !strings.Contains(out, "(2 runs,") {
		t.Errorf("report: exit %d\n%s%s", code, out, stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "reports", "tiny", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "steps = 30\n") || strings.Contains(string(md), "steps = 40\n") {
		t.Errorf("the report does not show the current file (steps = 30):\n%s", md)
	}
	if code, out, stderr = runHarness(t, dir, "report", "--out", "all", "--all-versions"); code != 0 || !strings.Contains(out, "(4 runs,") {
		t.Errorf("report --all-versions: exit %d\n%s%s", code, out, stderr)
	}

	// back to the first text: its runs are done already
	setSteps(t, path, "30", "40")
	code, out, stderr = runHarness(t, dir, "run", "tiny.toml", "--dry-run")
	if code != 0 || !strings.Contains(out, "version 3 (changed from version 2): 2 runs added (2 of them in the store from an earlier version), 2 runs no longer in the file") ||
		!regexp.MustCompile(`(?m)^MAE/seed=0 +done +vit +40 `).MatchString(out) {
		t.Errorf("dry run of the first text again: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr = runHarness(t, dir, "run", "tiny.toml"); code != 0 || !strings.Contains(out, "0 executed now, 2 done") {
		t.Errorf("run of the first text again: exit %d\n%s%s", code, out, stderr)
	}
	if got := strings.Join(lsNames(t, dir), "; "); got != "1 CRATE-MAE/seed=0; 2 MAE/seed=0" {
		t.Errorf("ls after returning to the first text: %s", got)
	}
	if code, out, stderr = runHarness(t, dir, "show", "2"); code != 0 || !regexp.MustCompile(`(?m)^versions +versions 1, 3$`).MatchString(out) {
		t.Errorf("show 2: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr = runHarness(t, dir, "run", "tiny.toml", "--dry-run"); code != 0 || !strings.Contains(out, "experiment tiny: version 3 (unchanged): 2 runs\n") {
		t.Errorf("dry run of the current text: exit %d\n%s%s", code, out, stderr)
	}
}
