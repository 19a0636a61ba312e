package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"harness/runner"
	"harness/store"
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
	if !strings.Contains(string(md), "steps = 30\n") || strings.Contains(string(md), "steps = 40\n") ||
		!strings.Contains(string(md), "The runs are those of version 2 of the experiment file, shown at the end. 2 runs of earlier versions are left out") {
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
	if code, out, stderr = runHarness(t, dir, "show", "4"); code != 0 || !regexp.MustCompile(`(?m)^versions +version 2 \(not in the current version, 3\)$`).MatchString(out) {
		t.Errorf("show 4: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr = runHarness(t, dir, "tag", "MAE/seed=0", "--add", "old", "--all-versions"); code != 2 || !strings.Contains(stderr, "runs 2 (versions 1, 3), 4 (version 2) of tiny have that name") {
		t.Errorf("tag --all-versions of a name two runs have: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr = runHarness(t, dir, "run", "tiny.toml", "--dry-run"); code != 0 || !strings.Contains(out, "experiment tiny: version 3 (unchanged): 2 runs\n") {
		t.Errorf("dry run of the current text: exit %d\n%s%s", code, out, stderr)
	}
}

// rm deletes the runs named, their rows and their directories and nothing
// else; without --yes and with no terminal it deletes nothing and exits
// with status 2.
func TestRm(t *testing.T) {
	dir := t.TempDir()
	path := mae(t, dir)
	if code, out, stderr := runHarness(t, dir, "run", "tiny.toml"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, stderr)
	}
	setSteps(t, path, "40", "30")
	if code, out, stderr := runHarness(t, dir, "run", "tiny.toml"); code != 0 {
		t.Fatalf("second run: exit %d\n%s%s", code, out, stderr)
	}
	out := filepath.Join(dir, "out")
	if code, o, stderr := runHarness(t, dir, "tag", "1", "--add", "x"); code != 0 {
		t.Fatalf("tag: exit %d\n%s%s", code, o, stderr)
	}
	if code, o, stderr := runHarness(t, dir, "note", "1", "n"); code != 0 {
		t.Fatalf("note: exit %d\n%s%s", code, o, stderr)
	}
	db := openDB(t, dir)
	rows := func() string {
		var parts []string
		for _, table := range []string{"runs", "metrics", "artifacts", "run_tags", "notes", "version_runs", "experiment_versions"} {
			parts = append(parts, fmt.Sprintf("%s %d", table, count(t, db, `SELECT count(*) FROM `+table)))
		}
		return strings.Join(parts, ", ")
	}
	before := rows()
	stray := filepath.Join(out, "tiny", "keep.txt")
	if err := os.WriteFile(stray, []byte("not a run's"), 0o644); err != nil {
		t.Fatal(err)
	}

	// no --yes, no terminal: nothing
	code, o, stderr := runHarness(t, dir, "rm", "1", "2")
	if code != 2 || !strings.Contains(stderr, "would delete 2 runs of tiny and their directories; give --yes") {
		t.Errorf("rm without --yes: exit %d\n%s%s", code, o, stderr)
	}
	if got := rows(); got != before {
		t.Errorf("rm without --yes changed the store: %s, was %s", got, before)
	}
	if n := len(runDirs(t, 1, out)) + len(runDirs(t, 2, out)); n != 2 {
		t.Errorf("rm without --yes: %d run directories of runs 1 and 2 left, want 2", n)
	}

	code, o, stderr = runHarness(t, dir, "rm", "1", "--yes", "--db", filepath.Join(dir, "harness.db"))
	if code != 0 || !strings.Contains(o, "deleted 1 run of tiny; 1 run directory removed") {
		t.Fatalf("rm 1 --yes: exit %d\n%s%s", code, o, stderr)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{`SELECT count(*) FROM runs WHERE id = 1`, 0},
		{`SELECT count(*) FROM metrics WHERE run_id = 1`, 0},
		{`SELECT count(*) FROM artifacts WHERE run_id = 1`, 0},
		{`SELECT count(*) FROM run_tags`, 0},
		{`SELECT count(*) FROM notes`, 0},
		{`SELECT count(*) FROM version_runs`, 3},
		{`SELECT count(*) FROM runs`, 3},
		{`SELECT count(*) FROM metrics WHERE run_id = 2 AND key = 'train/loss'`, 4},
	} {
		if got := count(t, db, tc.query); got != tc.want {
			t.Errorf("after rm 1: %s: %d, want %d", tc.query, got, tc.want)
		}
	}
	if d := runDirs(t, 1, out); len(d) != 0 {
		t.Errorf("rm 1 left its directory %v", d)
	}
	for _, id := range []int{2, 3, 4} {
		if len(runDirs(t, id, out)) != 1 {
			t.Errorf("rm 1 removed the directory of run %d", id)
		}
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("rm 1 removed a file not a run's: %v", err)
	}

	// a directory that is not the run's is left, and said so
	d2 := runDirs(t, 2, out)[0]
	if err := os.WriteFile(filepath.Join(d2, "run.json"), []byte(`{"store_id":"other","run_id":2,"config_hash":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, o, stderr = runHarness(t, dir, "rm", "2", "--yes")
	if code != 1 || !strings.Contains(stderr, "not to this run; left it") || count(t, db, `SELECT count(*) FROM runs WHERE id = 2`) != 0 {
		t.Errorf("rm of a run whose directory is another's: exit %d\n%s%s", code, o, stderr)
	}
	if _, err := os.Stat(d2); err != nil {
		t.Errorf("rm removed a directory not the run's: %v", err)
	}

	// the experiment whole
	code, o, stderr = runHarness(t, dir, "rm", "--experiment", "tiny", "--yes")
	if code != 0 || !strings.Contains(o, "deleted 2 runs of tiny; 2 run directories removed") {
		t.Errorf("rm --experiment: exit %d\n%s%s", code, o, stderr)
	}
	if got := rows(); got != "runs 0, metrics 0, artifacts 0, run_tags 0, notes 0, version_runs 0, experiment_versions 0" {
		t.Errorf("after rm --experiment: %s", got)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("rm --experiment removed a file not a run's: %v", err)
	}

	// another --out: the rows go, and rm says where it looked
	mae(t, dir)
	if code, o, stderr := runHarness(t, dir, "run", "tiny.toml"); code != 0 {
		t.Fatalf("third run: exit %d\n%s%s", code, o, stderr)
	}
	code, o, stderr = runHarness(t, dir, "rm", "--experiment", "tiny", "--yes", "--out", "elsewhere")
	if code != 0 || !strings.Contains(o, "deleted 2 runs of tiny; 0 run directories removed") ||
		!strings.Contains(stderr, "2 runs started but have no directory under "+filepath.Join(dir, "elsewhere")) {
		t.Errorf("rm with another --out: exit %d\n%s%s", code, o, stderr)
	}

	// bad input
	for _, args := range [][]string{{"rm"}, {"rm", "nosuch", "--yes"}, {"rm", "--experiment", "nosuch", "--yes"}, {"rm", "9", "--yes", "--db", "none.db"}} {
		if code, o, stderr := runHarness(t, dir, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, code, o, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Errorf("rm made a store")
	}
}

// rm refuses a run running under a live harness and deletes nothing.
func TestRmRunning(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	s := stopAt(t, dir, regexp.MustCompile(`step \d+/40`), "run", "tiny.toml")
	defer func() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.wait()
	}()
	code, o, stderr := runHarness(t, dir, "rm", "--experiment", "tiny", "--yes")
	if code != 2 || !strings.Contains(stderr, "is running in pid") {
		t.Errorf("rm of a running run: exit %d\n%s%s", code, o, stderr)
	}
	if n := count(t, openDB(t, dir), `SELECT count(*) FROM runs`); n == 0 {
		t.Errorf("rm of a running run deleted it")
	}
}

// Tags and notes round trip and show in ls and show.
func TestTagsAndNotes(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	if code, out, stderr := runHarness(t, dir, "run", "tiny.toml"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, stderr)
	}
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"tag", "1", "MAE/seed=0", "--add", "best", "--add", "lr=0.1"}, 0, "run 1 CRATE-MAE/seed=0: best,lr=0.1\nrun 2 MAE/seed=0: best,lr=0.1\n"},
		{[]string{"tag", "2", "--remove", "best", "--add", "lr=0.2"}, 0, "run 2 MAE/seed=0: lr=0.2\n"},
		{[]string{"tag", "2"}, 2, ""},
		{[]string{"tag", "2", "--add", "=v"}, 2, ""},
		{[]string{"tag", "9", "--add", "k"}, 2, ""},
		{[]string{"note", "2", "diverged once"}, 0, "noted on run 2 MAE/seed=0"},
		{[]string{"note", "--experiment", "tiny", "heads study"}, 0, "noted on experiment tiny"},
		{[]string{"note", "2"}, 2, ""},
		{[]string{"note", "--experiment", "nosuch", "x"}, 2, ""},
	} {
		code, out, stderr := runHarness(t, dir, tc.args...)
		if code != tc.code || !strings.HasPrefix(out, tc.out) {
			t.Errorf("%v: exit %d, want %d; output %q, want it to start %q\n%s", tc.args, code, tc.code, out, tc.out, stderr)
		}
	}
	_, out, _ := runHarness(t, dir, "ls")
	if !regexp.MustCompile(`(?m)^1 .* best,lr=0\.1$`).MatchString(out) || !regexp.MustCompile(`(?m)^2 .* lr=0\.2$`).MatchString(out) {
		t.Errorf("ls does not show the tags:\n%s", out)
	}
	_, out, _ = runHarness(t, dir, "show", "2")
	if !regexp.MustCompile(`(?m)^tags +lr=0\.2$`).MatchString(out) || !regexp.MustCompile(`(?m)^notes:\n  \S+  diverged once$`).MatchString(out) {
		t.Errorf("show does not show the tags and notes:\n%s", out)
	}
	if code, out, stderr := runHarness(t, dir, "report", "--out", "reports"); code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, out, stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "reports", "tiny", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Note \([^)]*\): heads study`).Match(md) ||
		!strings.Contains(string(md), "Tagged runs: run 1 CRATE-MAE/seed=0: best, lr=0.1; run 2 MAE/seed=0: lr=0.2.") {
		t.Errorf("the report does not show the experiment's note and the tags:\n%s", md)
	}
	n := count(t, openDB(t, dir), `SELECT count(*) FROM notes WHERE experiment = 'tiny' AND text = 'heads study'`)
	if n != 1 {
		t.Errorf("%d experiment notes, want 1", n)
	}
}

// On a terminal rm asks, and deletes only on yes.
func TestRmAsks(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	if code, out, stderr := runHarness(t, dir, "run", "tiny.toml"); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, stderr)
	}
	db := openDB(t, dir)
	for _, tc := range []struct {
		answer string
		runs   int
		out    string
	}{
		{"\n", 2, "nothing deleted\n"},
		{"n\n", 2, "nothing deleted\n"},
		{"y\n", 0, "deleted 2 runs of tiny; 2 run directories removed\n"},
	} {
		var stdout, stderr strings.Builder
		err := runRm(&rmOptions{
			db: filepath.Join(dir, "harness.db"), out: filepath.Join(dir, "out"), refs: []string{"1", "2"},
			in: strings.NewReader(tc.answer), stdout: &stdout, stderr: &stderr, interactive: true,
		})
		if err != nil || stdout.String() != tc.out || stderr.String() != "delete 2 runs of tiny and their directories? [y/N] " {
			t.Errorf("answer %q: %v; stdout %q, stderr %q", tc.answer, err, stdout.String(), stderr.String())
		}
		if n := count(t, db, `SELECT count(*) FROM runs`); n != tc.runs {
			t.Errorf("answer %q: %d runs left, want %d", tc.answer, n, tc.runs)
		}
	}
}

func TestPlanStatus(t *testing.T) {
	now := time.Now()
	live := runner.Liveness{Host: "h", Now: func() time.Time { return now }, Alive: func(pid int, _ string) bool { return pid == 1 }}
	running := func(pid int) store.Run {
		return store.Run{Status: store.StatusRunning, StartedAt: now, Heartbeat: now, Owner: store.Owner{Host: "h", PID: pid}}
	}
	for _, tc := range []struct {
		r     store.Run
		found bool
		retry bool
		want  string
	}{
		{store.Run{}, false, false, "new"},
		{store.Run{Status: store.StatusPending}, true, false, "new"},
		{store.Run{Status: store.StatusDone}, true, true, "done"},
		{store.Run{Status: store.StatusFailed}, true, false, "failed"},
		{store.Run{Status: store.StatusFailed}, true, true, "failed (retried)"},
		{store.Run{Status: store.StatusInterrupted}, true, false, "interrupted (resumable)"},
		{running(1), true, false, "running (pid 1 on h)"},
		{running(2), true, false, "resumable (owner gone)"},
	} {
		if got := planStatus(tc.r, tc.found, tc.retry, live); got != tc.want {
			t.Errorf("planStatus(%s, found %v, retry %v) = %q, want %q", tc.r.Status, tc.found, tc.retry, got, tc.want)
		}
	}
}

func TestDescribeChange(t *testing.T) {
	r := []store.VersionRun{{Name: "a"}, {Name: "b"}}
	for _, tc := range []struct {
		c    store.VersionChange
		want string
	}{
		{store.VersionChange{Experiment: "x", Version: 1, New: true, Added: r}, "experiment x: version 1 (new): 2 runs"},
		{store.VersionChange{Experiment: "x", Version: 2, Previous: 1, Unchanged: r[:1]}, "experiment x: version 2 (unchanged): 1 run"},
		{store.VersionChange{Experiment: "x", Version: 3, Previous: 2, New: true, Added: r[:1], Unchanged: r[1:]},
			"experiment x: version 3 (changed from version 2): 1 run added, 0 runs no longer in the file, 1 unchanged"},
		{store.VersionChange{Experiment: "x", Version: 3, Previous: 2, New: true, Added: r, Removed: r, Known: 2},
			"experiment x: version 3 (changed from version 2): 2 runs added (2 of them in the store from an earlier version), 2 runs no longer in the file (kept in the store, see --all-versions), 0 unchanged"},
	} {
		if got := describeChange(tc.c); got != tc.want {
			t.Errorf("describeChange(%+v) =\n%s\nwant\n%s", tc.c, got, tc.want)
		}
	}
}
