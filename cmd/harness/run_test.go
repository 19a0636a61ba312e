package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"harness/store"
)

// asHarness, set in its environment, makes the test binary run as the
// harness command: the harness processes of these tests and their workers
// (os.Executable) are this binary.
const asHarness = "HARNESS_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asHarness) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// tinyExperiment is the runner's test experiment: two small runs on
// synthetic data that train in well under a second each, CRATE-MAE and MAE.
const tinyExperiment = "../../runner/testdata/tiny.toml"

// writeExperiment writes the tiny experiment into dir with the given seeds
// and its second variant, MAE, replaced by one named second with the given
// settings.
func writeExperiment(t *testing.T, dir, seeds, second, set string) string {
	t.Helper()
	b, err := os.ReadFile(tinyExperiment)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, r := range [][2]string{
		{"seeds = [0]", "seeds = " + seeds},
		{"name = \"MAE\"\nset = { \"model.arch\" = \"vit\" }", fmt.Sprintf("name = %q\nset = %s", second, set)},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("%s no longer holds %q", tinyExperiment, r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	path := filepath.Join(dir, "tiny.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mae writes the usual tiny experiment: CRATE-MAE and MAE, seed 0.
func mae(t *testing.T, dir string) string {
	return writeExperiment(t, dir, "[0]", "MAE", `{ "model.arch" = "vit" }`)
}

// harnessBinary is the harness binary the process tests run: this test
// binary, unless the soak built one.
var harnessBinary = os.Args[0]

// command returns the harness command line args, run in dir, in a process
// group of its own.
func command(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(harnessBinary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), asHarness+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// runHarness runs the harness in dir to its end.
func runHarness(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := command(dir, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// A stopped harness is one that stopAt stopped.
type stopped struct {
	cmd    *exec.Cmd
	out    bytes.Buffer // its standard output and error
	copied chan struct{}
}

// stopAt starts the harness in dir and reads its output until a line
// matches at. It then stops the harness with SIGSTOP: its worker stops too,
// at its next event, which the harness no longer acknowledges.
func stopAt(t *testing.T, dir string, at *regexp.Regexp, args ...string) *stopped {
	t.Helper()
	s := &stopped{cmd: command(dir, args...), copied: make(chan struct{})}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	err = s.cmd.Start()
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(pr)
	for {
		line, err := r.ReadString('\n')
		s.out.WriteString(line)
		if at.MatchString(line) {
			break
		}
		if err != nil {
			s.cmd.Wait()
			t.Fatalf("the harness ended before %q:\n%s", at, s.out.String())
		}
	}
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	go func() {
		io.Copy(&s.out, r)
		pr.Close()
		close(s.copied)
	}()
	return s
}

// wait waits for the harness to end and returns how it ended and its
// output.
func (s *stopped) wait() (string, error) {
	<-s.copied
	err := s.cmd.Wait()
	return s.out.String(), err
}

// openDB opens the store of a test for SQL of its own.
func openDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "harness.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count runs a counting query.
func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkAllDone checks that the store in dir has n runs, all done, with the
// final metrics recorded once each.
func checkAllDone(t *testing.T, dir string, n int) {
	t.Helper()
	db := openDB(t, dir)
	if got := count(t, db, `SELECT count(*) FROM runs WHERE status = 'done'`); got != n {
		t.Errorf("%d runs done, want %d", got, n)
	}
	if got := count(t, db, `SELECT count(*) FROM runs`); got != n {
		t.Errorf("%d runs, want %d", got, n)
	}
	if dups := count(t, db, `SELECT count(*) FROM (SELECT run_id, step, key FROM metrics
GROUP BY run_id, step, key HAVING count(*) > 1)`); dups != 0 {
		t.Errorf("%d duplicated metric rows", dups)
	}
	for _, key := range []string{"train/loss", "eval/recon_loss", "eval/linear_probe_acc"} {
		if got := count(t, db, `SELECT count(*) FROM metrics WHERE key = ? AND step = 40`, key); got != n {
			t.Errorf("%s at step 40 in %d runs, want %d", key, got, n)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM metrics WHERE key = 'train/loss'`); got != 4*n {
		t.Errorf("%d train/loss rows, want %d (steps 10, 20, 30, 40)", got, 4*n)
	}
}

// metrics reads every metric of the store in dir, by run name, key and step.
func metrics(t *testing.T, dir string) map[string]float64 {
	t.Helper()
	rows, err := openDB(t, dir).Query(`SELECT r.name, m.key, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	all := map[string]float64{}
	for rows.Next() {
		var name, key string
		var step int
		var v float64
		if err := rows.Scan(&name, &key, &step, &v); err != nil {
			t.Fatal(err)
		}
		all[fmt.Sprintf("%s %s @%d", name, key, step)] = v
	}
	return all
}

// runDirs returns the directories of the run with the given id under the
// output directories out of the tiny experiment.
func runDirs(t *testing.T, id int, outs ...string) []string {
	t.Helper()
	var dirs []string
	for _, out := range outs {
		m, err := filepath.Glob(filepath.Join(out, "tiny", fmt.Sprintf("*-%d", id)))
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, m...)
	}
	return dirs
}

// starts counts the attempts at the run with the given id in its logs
// under the output directories outs, by default dir/out.
func starts(t *testing.T, dir string, id int, outs ...string) int {
	t.Helper()
	if len(outs) == 0 {
		outs = []string{filepath.Join(dir, "out")}
	}
	n := 0
	for _, d := range runDirs(t, id, outs...) {
		b, err := os.ReadFile(filepath.Join(d, "log.txt"))
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(b), fmt.Sprintf(" starts run %d ", id))
	}
	return n
}

func TestRunToCompletion(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	code, out, stderr := runHarness(t, dir, "run", "tiny.toml")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	checkAllDone(t, dir, 2)
	db := openDB(t, dir)
	var host, version, command, device string
	var total int64
	if err := db.QueryRow(`SELECT host, code_version, command, device, params_total FROM runs WHERE name = 'MAE/seed=0'`).
		Scan(&host, &version, &command, &device, &total); err != nil {
		t.Fatal(err)
	}
	if host == "" || version == "" || !strings.HasSuffix(command, " run tiny.toml") || !strings.HasPrefix(device, "cpu") || total != 7536 {
		t.Errorf("provenance: host %q, code version %q, command %q, device %q, params %d", host, version, command, device, total)
	}
	if n := count(t, db, `SELECT count(*) FROM experiments WHERE name = 'tiny' AND toml_text LIKE '%[[variant]]%'`); n != 1 {
		t.Error("the experiment's file is not recorded")
	}
	if n := count(t, db, `SELECT count(*) FROM artifacts WHERE kind = 'checkpoint'`); n != 2 {
		t.Errorf("%d checkpoint artifacts, want 2", n)
	}
	snapshot := func() string {
		var s string
		if err := db.QueryRow(`SELECT (SELECT count(*) FROM metrics) || ' ' || (SELECT count(*) FROM artifacts) || ' ' ||
(SELECT group_concat(status || finished_at) FROM runs)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()

	code, out, stderr = runHarness(t, dir, "run", "tiny.toml")
	if code != 0 || strings.Count(out, "done already") != 2 || strings.Contains(out, "started") {
		t.Errorf("again: exit %d\n%s%s", code, out, stderr)
	}
	if after := snapshot(); after != before {
		t.Errorf("running again changed the store: %s, was %s", after, before)
	}

	// the reports read the store
	db1 := filepath.Join(dir, "harness.db")
	if code, out, _ := harness("ls", "--db", db1, "--status", "done"); code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "7,536") {
		t.Errorf("ls: exit %d\n%s", code, out)
	}
	if code, out, _ := harness("show", "--db", db1, "MAE/seed=0"); code != 0 || !strings.Contains(out, `model.arch               "vit"`) ||
		!strings.Contains(out, "checkpoint") || !strings.Contains(out, "eval/linear_probe_acc") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
	if code, out, _ := harness("compare", "--db", db1, "1", "2"); code != 0 || !regexp.MustCompile(`(?m)^\* model\.arch +"crate" +"vit"$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^  model\.depth +1 +1$`).MatchString(out) {
		t.Errorf("compare: exit %d\n%s", code, out)
	}
	if code, out, _ := harness("export", "--db", db1, "--experiment", "tiny"); code != 0 || !strings.HasPrefix(out, "run_id,experiment,run,step,key,value,wall_time\n") ||
		!strings.Contains(out, ",tiny,MAE/seed=0,40,train/loss,") {
		t.Errorf("export: exit %d\n%.500s", code, out)
	}
	if code, _, stderr := harness("show", "--db", db1, "nope"); code != 2 || !strings.Contains(stderr, "nope") {
		t.Errorf("show of an unknown run: exit %d, %s", code, stderr)
	}
}

// A harness killed outright mid-training loses nothing but the steps since
// the last checkpoint: running it again resumes, and the curves are those
// of a run never interrupted, bit for bit.
func TestKilledHarnessResumes(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	h := stopAt(t, dir, regexp.MustCompile(`^run 1 .*: step 20/40`), "run", "tiny.toml", "--workers", "1")
	if err := syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	out, _ := h.wait()
	if n := count(t, openDB(t, dir), `SELECT count(*) FROM runs WHERE status = 'running'`); n != 1 {
		t.Fatalf("%d runs left running, want 1\n%s", n, out)
	}

	code, again, stderr := runHarness(t, dir, "run", "tiny.toml")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, again, stderr)
	}
	if !strings.Contains(again, "run 1 CRATE-MAE/seed=0: started on cpu") || !strings.Contains(again, "taken over from a harness that is gone") ||
		!regexp.MustCompile(`run 1 .*: resumed from the checkpoint at step (10|20)\n`).MatchString(again) {
		t.Errorf("the killed run is not resumed:\n%s", again)
	}
	checkAllDone(t, dir, 2)
	if n := starts(t, dir, 1); n != 2 {
		t.Errorf("run 1 started %d times, want 2", n)
	}

	fresh := t.TempDir()
	mae(t, fresh)
	if code, out, stderr := runHarness(t, fresh, "run", "tiny.toml"); code != 0 {
		t.Fatalf("fresh: exit %d\n%s%s", code, out, stderr)
	}
	for _, d := range metricDiffs(metrics(t, dir), metrics(t, fresh)) {
		t.Errorf("%s, as in a fresh store", d)
	}
}

// Two harnesses on the same store and file execute each run once.
func TestConcurrentHarnesses(t *testing.T) {
	dir := t.TempDir()
	writeExperiment(t, dir, "[0, 1]", "MAE", `{ "model.arch" = "vit" }`)
	a := command(dir, "run", "tiny.toml", "--workers", "1")
	b := command(dir, "run", "tiny.toml", "--workers", "1")
	var outA, outB bytes.Buffer
	a.Stdout, a.Stderr = &outA, &outA
	b.Stdout, b.Stderr = &outB, &outB
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	errA, errB := a.Wait(), b.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("exits %v and %v\n%s\n%s", errA, errB, outA.String(), outB.String())
	}
	checkAllDone(t, dir, 4)
	for id := 1; id <= 4; id++ {
		if n := starts(t, dir, id); n != 1 {
			t.Errorf("run %d executed %d times", id, n)
		}
	}
	if n := strings.Count(outA.String()+outB.String(), ": started on "); n != 4 {
		t.Errorf("%d runs started, want 4\n%s\n%s", n, outA.String(), outB.String())
	}
}

// Ctrl-C stops the harness promptly, its run interrupted after a
// checkpoint; the next harness finishes the job.
func TestInterrupt(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	h := stopAt(t, dir, regexp.MustCompile(`^run 1 .*: step 10/40`), "run", "tiny.toml", "--workers", "1")
	// as a terminal does, to the whole process group
	if err := syscall.Kill(-h.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := h.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(30*time.Second, func() { syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL) })
	out, err := h.wait()
	if !timer.Stop() {
		t.Fatalf("still running 30 s after SIGINT\n%s", out)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit %v after %s, want status 130\n%s", err, time.Since(start), out)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, "harness.db"))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(store.Filter{})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != store.StatusInterrupted {
		t.Errorf("runs after SIGINT: %+v, want run 1 interrupted and no other\n%s", runs, out)
	}
	if !strings.Contains(out, "1 interrupted, 1 not started") {
		t.Errorf("no summary:\n%s", out)
	}

	code, again, stderr := runHarness(t, dir, "run", "tiny.toml")
	// the worker stops at the first step after it sees the signal
	if code != 0 || !regexp.MustCompile(`run 1 .*: resumed from the checkpoint at step [1-3]\d\n`).MatchString(again) {
		t.Errorf("again: exit %d\n%s%s", code, again, stderr)
	}
	// the time of both attempts is counted
	if !regexp.MustCompile(`run 1 .*: started on cpu \(\d+ threads\), attempt 2 \([0-9.]+m?s before\)\n`).MatchString(again) ||
		!regexp.MustCompile(`run 1 .*: done in [0-9.]+m?s over 2 attempts \([0-9.]+m?s in this one\)\n`).MatchString(again) {
		t.Errorf("the second attempt does not say so:\n%s", again)
	}
	checkAllDone(t, dir, 2)
}

// A diverging run fails with the step; the other runs go on.
func TestDivergingRun(t *testing.T) {
	dir := t.TempDir()
	writeExperiment(t, dir, "[0]", "diverging", `{ "train.blr" = 1e30 }`)
	code, out, stderr := runHarness(t, dir, "run", "tiny.toml", "--workers", "2")
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s%s", code, out, stderr)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, "harness.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	good, err := st.RunByName("tiny", "CRATE-MAE/seed=0")
	if err != nil || good.Status != store.StatusDone {
		t.Errorf("the other run: %+v, %v", good, err)
	}
	bad, err := st.RunByName("tiny", "diverging/seed=0")
	if err != nil {
		t.Fatal(err)
	}
	if bad.Status != store.StatusFailed || !regexp.MustCompile(`^step \d+: the loss diverged to (NaN|[+-]Inf)\n`).MatchString(bad.Error) ||
		!strings.Contains(bad.Error, "log.txt") {
		t.Errorf("the diverging run: %s, error %q", bad.Status, bad.Error)
	}
}

// Bad input is refused with exit status 2, naming the fault, before the
// store is touched.
func TestRunRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(tinyExperiment)
	if err != nil {
		t.Fatal(err)
	}
	good := string(b)
	db := filepath.Join(dir, "harness.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutExperiment("other", "", "[experiment]\nname = \"other\"\n"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	hash := func() [32]byte {
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := hash()
	name := func(n string) string { return strings.Replace(good, `name = "tiny"`, "name = "+n, 1) }
	outFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(outFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	big := good + "\n#" + strings.Repeat("x", 1<<20) + "\n"
	tests := []struct {
		name, text string
		args       []string
		want       string
		path       string // the experiment file, if not the text written to tiny.toml
	}{
		{"unknown key", strings.Replace(good, "steps = 40", "stepz = 40", 1), nil, "stepz", ""},
		{"syntax error", strings.Replace(good, "[train]", "[train", 1), nil, "tiny.toml:", ""},
		{"unterminated table header", strings.Replace(good, "[model]", "[model", 1), nil,
			"tiny.toml:7:7: expected '.' or ']' to end table name, but got '\\n' instead\n  6 | \n  7 | [model\n    |       ^\n  8 | img_size = 8\n", ""},
		{"missing dataset", strings.Replace(good, `dataset = "synthetic"`, `dataset = "cifar10"`+"\npath = \"/nonexistent/cifar\"", 1), nil, "/nonexistent/cifar", ""},
		{"impossible shape", strings.Replace(good, "patch_size = 4", "patch_size = 3", 1), nil, "patch_size", ""},
		{"batch over the train split", strings.Replace(good, "batch_size = 8", "batch_size = 65", 1), nil, "train.batch_size: 65 exceeds the 64 images of the train split", ""},
		{"eval size over its split", good, []string{"--set", "eval.probe_train=65"}, "eval.probe_train: 65 exceeds the 64 images of the train split", ""},
		{"unknown override", good, []string{"--set", "train.nope=1"}, "train.nope", ""},
		{"override without =", good, []string{"--set", "train.steps", "100"}, "--set takes KEY=VALUE, got train.steps", ""},
		{"missing file", "", nil, "tiny.toml", ""},
		{"a device", "", nil, "/dev/zero: not a regular file (a character device)", "/dev/zero"},
		{"a directory", "", nil, "not a regular file (a directory)", dir},
		{"over 1 MiB", big, nil, "tiny.toml: over 1048576 bytes", ""},
		{"name ..", name(`".."`), nil, `[experiment] name: "..": unsafe name`, ""},
		{"name .", name(`"."`), nil, `[experiment] name: ".": unsafe name`, ""},
		{"name escaping --out", name(`"../../escaped"`), nil, "holds a path separator", ""},
		{"name with a backslash", name(`'a\b'`), nil, "holds a path separator", ""},
		{"name a lone space", name(`" "`), nil, "begins or ends with a space", ""},
		{"name with a newline", name(`"a\nb"`), nil, "control character U+000A", ""},
		{"name with a tab", name(`"a\tb"`), nil, "control character U+0009", ""},
		{"name with NUL", name(`"a\u0000b"`), nil, "control character U+0000", ""},
		{"name with ESC", name(`"a\u001b[2Jb"`), nil, "control character U+001B", ""},
		{"name over 255 bytes", name(`"` + strings.Repeat("n", 256) + `"`), nil, "256 bytes, at most 255", ""},
		{"variant name with a newline", strings.Replace(good, `name = "MAE"`, `name = "M\nAE"`, 1), nil, "control character U+000A", ""},
		{"--out a file", good, []string{"--out", outFile}, "--out " + outFile + ": " + outFile + " exists and is not a directory", ""},
		{"--out under a file", good, []string{"--out", filepath.Join(outFile, "out")}, outFile + " exists and is not a directory", ""},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, "tiny.toml")
		os.Remove(path)
		if tt.text != "" {
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if tt.path != "" {
			path = tt.path
		}
		args := append([]string{"run", path, "--db", db, "--out", filepath.Join(dir, "out")}, tt.args...)
		code, out, stderr := harness(args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, %q; want 2 naming %s\n%s", tt.name, code, stderr, tt.want, out)
		}
		if hash() != before {
			t.Fatalf("%s: the store changed", tt.name)
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
			t.Fatalf("%s: an output directory was made", tt.name)
		}
	}
}

// --dry-run lists the runs with their status and parameter counts and
// makes no store.
func TestDryRun(t *testing.T) {
	dir := t.TempDir()
	path := mae(t, dir)
	db := filepath.Join(dir, "harness.db")
	code, out, stderr := harness("run", path, "--dry-run", "--db", db)
	if code != 0 || !regexp.MustCompile(`(?m)^MAE/seed=0 +new +vit +40 +7,536 +7,376 +cpu$`).MatchString(out) {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a dry run made the store: %v", err)
	}
}

func TestDevices(t *testing.T) {
	code, out, _ := harness("devices")
	if code != 0 || !strings.Contains(out, "cpu ") || !strings.Contains(out, "compute: CPU only") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if strings.Contains(out, "gpu ") && !strings.Contains(out, "no: found, but this build cannot compute on it") {
		t.Errorf("a GPU is listed as usable:\n%s", out)
	}
}

// checkUnbroken checks that the metrics of the store in dir are those of
// the same experiment, written by exp, run once without interruption in a
// fresh directory, bit for bit.
func checkUnbroken(t *testing.T, dir string, exp func(t *testing.T, dir string) string) {
	t.Helper()
	fresh := t.TempDir()
	exp(t, fresh)
	if code, out, stderr := runHarness(t, fresh, "run", "tiny.toml"); code != 0 {
		t.Fatalf("fresh: exit %d\n%s%s", code, out, stderr)
	}
	for _, d := range metricDiffs(metrics(t, dir), metrics(t, fresh)) {
		t.Errorf("%s, as in an unbroken run", d)
	}
}

// metricDiffs says how the metrics got (as metrics reads them) differ from
// want, bit for bit: a count that differs, and each value missing or not
// the same bits.
func metricDiffs(got, want map[string]float64) []string {
	var diffs []string
	if len(got) != len(want) {
		diffs = append(diffs, fmt.Sprintf("%d metrics, want %d", len(got), len(want)))
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := want[k]
		if g, ok := got[k]; !ok || math.Float64bits(g) != math.Float64bits(w) {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", k, g, w))
		}
	}
	return diffs
}

// workerOf returns the pid of the worker process, the child, of the
// harness process pid.
func workerOf(t *testing.T, pid int) int {
	t.Helper()
	child, ok := childOf(pid)
	if !ok {
		t.Fatalf("harness %d has no worker process", pid)
	}
	return child
}

// childOf returns the pid of a child of the process pid, if it has one.
func childOf(pid int) (int, bool) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process is gone
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // from field 3, the state
		if len(fields) > 1 && fields[1] == fmt.Sprint(pid) {
			var child int
			fmt.Sscan(strings.TrimPrefix(filepath.Dir(path), "/proc/"), &child)
			return child, true
		}
	}
	return 0, false
}

// dead reports whether the process pid is gone: no such process, or a
// zombie.
func dead(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] == "Z"
}

// lsStatus is the status harness ls shows for the run with the given id.
func lsStatus(t *testing.T, db string, id int) string {
	t.Helper()
	code, out, stderr := harness("ls", "--db", db)
	if code != 0 {
		t.Fatalf("ls: exit %d\n%s%s", code, out, stderr)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == fmt.Sprint(id) {
			status := f[3]
			if len(f) > 5 && f[4] == "(owner" {
				status += " " + f[4] + " " + f[5]
			}
			return status
		}
	}
	t.Fatalf("ls shows no run %d:\n%s", id, out)
	return ""
}

// Two harnesses on one store, each in its own working directory and so
// with its own default --out, execute each run once, and every run done
// has all its metrics.
func TestConcurrentHarnessesOwnOut(t *testing.T) {
	root := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	var dirs []string
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeExperiment(t, dir, "[0, 1, 2]", "MAE", `{ "model.arch" = "vit" }`)
		cmd := command(dir, "run", "tiny.toml", "--workers", "1", "--db", "../harness.db")
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		cmds, outs, dirs = append(cmds, cmd), append(outs, out), append(dirs, filepath.Join(dir, "out"))
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("harness %d: %v\n%s", i, err, outs[i])
		}
	}
	checkAllDone(t, root, 6)
	for id := 1; id <= 6; id++ {
		if n := starts(t, root, id, dirs...); n != 1 {
			t.Errorf("run %d executed %d times", id, n)
		}
	}
	all := outs[0].String() + outs[1].String()
	if n := strings.Count(all, ": started on "); n != 6 || strings.Contains(all, "taken over") {
		t.Errorf("%d runs started, want 6, none taken over\n%s", n, all)
	}
}

// A harness SIGKILLed alone, its worker left behind, is gone: its worker
// dies with it, harness ls says so, and a harness started anywhere takes
// the run over and completes it as if it had never stopped, resuming from
// the checkpoint in the run's directory wherever it is (harness show names
// it), or, if that directory is gone, starting afresh in its own --out and
// saying why in the run's log.
func TestTakeoverOfKilledHarness(t *testing.T) {
	for _, tt := range []struct {
		name    string
		workdir string // of the second harness
		moved   bool   // the first harness's out/ is moved away before the takeover
		resumes bool   // from the first harness's checkpoint
		dir     string // the run's directory after the takeover, under root
	}{
		{"same directory", "a", false, true, "a/out"},
		{"another directory", "b", false, true, "a/out"},
		{"another directory, the first's out moved away", "b", true, false, "b/out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range []string{"a", "b"} {
				if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
					t.Fatal(err)
				}
				mae(t, filepath.Join(root, d))
			}
			db := filepath.Join(root, "harness.db")
			h := stopAt(t, filepath.Join(root, "a"), regexp.MustCompile(`^run 1 .*: step 20/40`), "run", "tiny.toml", "--workers", "1", "--db", db)
			worker := workerOf(t, h.cmd.Process.Pid)
			if got := lsStatus(t, db, 1); got != "running" {
				t.Errorf("ls of a stopped (live) harness's run: %q, want running", got)
			}
			if err := h.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			out, _ := h.wait()
			deadline := time.Now().Add(10 * time.Second)
			for !dead(worker) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !dead(worker) {
				t.Errorf("the worker %d outlived its harness", worker)
			}
			if got := lsStatus(t, db, 1); got != "running (owner gone)" {
				t.Errorf("ls of a killed harness's run: %q, want running (owner gone)\n%s", got, out)
			}
			moved := filepath.Join(root, "a", "moved")
			if tt.moved {
				if err := os.Rename(filepath.Join(root, "a", "out"), moved); err != nil {
					t.Fatal(err)
				}
			}

			code, again, stderr := runHarness(t, filepath.Join(root, tt.workdir), "run", "tiny.toml", "--db", db)
			if code != 0 || !strings.Contains(again, "run 1 CRATE-MAE/seed=0: started on cpu") || !strings.Contains(again, "taken over from a harness that is gone") {
				t.Fatalf("the killed run is not taken over: exit %d\n%s%s", code, again, stderr)
			}
			if resumed := regexp.MustCompile(`run 1 .*: resumed from the checkpoint at step (10|20)\n`).MatchString(again); resumed != tt.resumes {
				t.Errorf("resumed %v, want %v\n%s", resumed, tt.resumes, again)
			}
			checkAllDone(t, root, 2)
			outs := []string{filepath.Join(root, "a", "out"), moved, filepath.Join(root, "b", "out")}
			if n := starts(t, root, 1, outs...); n != 2 {
				t.Errorf("run 1 started %d times, want 2", n)
			}
			dirs := runDirs(t, 1, filepath.Join(root, tt.dir))
			if len(dirs) != 1 {
				t.Fatalf("run 1's directories under %s: %v, want one", tt.dir, dirs)
			}
			if code, out, _ := harness("show", "--db", db, "1"); code != 0 || !regexp.MustCompile(`(?m)^directory +`+regexp.QuoteMeta(dirs[0])+`$`).MatchString(out) {
				t.Errorf("show does not name run 1's directory %s: exit %d\n%s", dirs[0], code, out)
			}
			if tt.moved {
				b, err := os.ReadFile(filepath.Join(dirs[0], "log.txt"))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), "is not used (it does not exist)") {
					t.Errorf("the run's log does not say why its recorded directory is not used:\n%s", b)
				}
			}
			checkUnbroken(t, root, mae)
		})
	}
}

// A worker killed alone (as by the OOM killer) leaves its run interrupted,
// not failed; the other runs go on, and a plain run again resumes it.
func TestWorkerKilledAlone(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	h := stopAt(t, dir, regexp.MustCompile(`^run 1 .*: step 20/40`), "run", "tiny.toml", "--workers", "1")
	if err := syscall.Kill(workerOf(t, h.cmd.Process.Pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	out, err := h.wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(out, "1 done, 1 interrupted") ||
		!strings.Contains(out, "run 1 CRATE-MAE/seed=0: interrupted: the worker was killed by signal 9") {
		t.Errorf("exit %v, want 1 with run 1 interrupted\n%s", err, out)
	}
	st, err := store.OpenReadOnly(filepath.Join(dir, "harness.db"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Run(1)
	st.Close()
	if err != nil || r.Status != store.StatusInterrupted || !strings.Contains(r.Error, "killed") {
		t.Errorf("run 1: %s, %q, %v; want interrupted, saying the worker was killed", r.Status, r.Error, err)
	}

	code, again, stderr := runHarness(t, dir, "run", "tiny.toml")
	if code != 0 || !regexp.MustCompile(`run 1 .*: resumed from the checkpoint at step (10|20)\n`).MatchString(again) {
		t.Errorf("again: exit %d\n%s%s", code, again, stderr)
	}
	checkAllDone(t, dir, 2)
	checkUnbroken(t, dir, mae)
}

// A new store beside the out/ of an old one trains its runs afresh: the
// old store's checkpoints belong to the old store's runs.
func TestNewStoreBesideOldOut(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	if code, out, stderr := runHarness(t, dir, "run", "tiny.toml", "--db", "old.db"); code != 0 {
		t.Fatalf("old store: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr := runHarness(t, dir, "run", "tiny.toml")
	if code != 0 || strings.Contains(out, "resumed") || strings.Count(out, ": started on ") != 2 {
		t.Fatalf("new store: exit %d\n%s%s", code, out, stderr)
	}
	checkAllDone(t, dir, 2)
	if dirs := runDirs(t, 1, filepath.Join(dir, "out")); len(dirs) != 2 {
		t.Errorf("run 1's directories: %v, want one per store", dirs)
	}
	checkUnbroken(t, dir, mae)
}

// A full disk leaves the run that hit it interrupted, and no further run
// is started; once space is freed, a plain run again finishes the job as
// if nothing had happened.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	mae(t, dir)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", out).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", out).Run() })
	filler := filepath.Join(out, "filler")
	fill(t, filler, 16<<10)

	code, stdout, stderr := runHarness(t, dir, "run", "tiny.toml", "--workers", "1")
	if code != 1 || !strings.Contains(stderr, "disk is full") || !strings.Contains(stdout, "1 interrupted, 1 not started") {
		t.Errorf("on a full disk: exit %d, want 1 saying the disk is full\n%s%s", code, stdout, stderr)
	}
	db := openDB(t, dir)
	if n := count(t, db, `SELECT count(*) FROM runs`); n != 1 {
		t.Errorf("%d runs claimed on a full disk, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM runs WHERE status = 'interrupted' AND error LIKE '%no space left on device%'`); n != 1 {
		t.Errorf("the run that hit the full disk is not interrupted")
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runHarness(t, dir, "run", "tiny.toml"); code != 0 {
		t.Fatalf("with space again: exit %d\n%s%s", code, stdout, stderr)
	}
	checkAllDone(t, dir, 2)
	checkUnbroken(t, dir, mae)
}

// fill writes path until its file system is full, then frees the last
// free bytes.
func fill(t *testing.T, path string, free int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var n int64
	for {
		m, err := f.Write(buf)
		n += int64(m)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(n - free); err != nil {
		t.Fatal(err)
	}
}

// One fault of the store gives one exit status, 2, and one message from
// every command, before anything is written: the file's bytes are
// unchanged.
func TestBadStoreSameExitCode(t *testing.T) {
	dir := t.TempDir()
	experiment := mae(t, dir)
	foreign := filepath.Join(dir, "foreign.db")
	db, err := sql.Open("sqlite3", "file:"+foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT); INSERT INTO runs (what) VALUES ('theirs')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	text := filepath.Join(dir, "notes.db")
	if err := os.WriteFile(text, []byte("not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nonexistent", "x.db")
	stores := []struct {
		path      string
		want      string // from every command
		wantWrite string // from run, if it says more
	}{
		{foreign, "store " + foreign + ": not a harness store: an SQLite database of another program", ""},
		{text, "store " + text + ": not a harness store: not an SQLite database", ""},
		{missing, "store " + missing + ": ", "directory " + filepath.Dir(missing) + " does not exist"},
	}
	commands := [][]string{
		{"run", experiment, "--out", filepath.Join(dir, "out")},
		{"ls"}, {"show", "1"}, {"compare", "1", "2"}, {"export"},
		{"report", "--out", filepath.Join(dir, "reports")},
	}
	for _, s := range stores {
		before, _ := os.ReadFile(s.path)
		for _, c := range commands {
			code, _, stderr := harness(append(c, "--db", s.path)...)
			want := s.want
			if c[0] == "run" && s.wantWrite != "" {
				want = s.wantWrite
			}
			if code != 2 || !strings.Contains(stderr, want) {
				t.Errorf("%s on %s: exit %d, %q; want 2 and %q", c[0], filepath.Base(s.path), code, stderr, want)
			}
			if after, _ := os.ReadFile(s.path); !bytes.Equal(before, after) {
				t.Fatalf("%s changed %s", c[0], s.path)
			}
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store's directory was made: %v", err)
	}
	for _, p := range []string{filepath.Join(dir, "out"), filepath.Join(dir, "reports")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was made", p)
		}
	}
}

// An experiment the store does not know is invalid input for every
// command that takes --experiment, with one message.
func TestUnknownExperiment(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "harness.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutExperiment("tiny", "", ""); err != nil {
		t.Fatal(err)
	}
	st.Close()
	want := "no experiment nosuch in " + db + " (it has: tiny)"
	for _, c := range [][]string{
		{"ls"}, {"export"}, {"show", "1"}, {"compare", "1", "2"},
		{"report", "--out", filepath.Join(dir, "reports")},
	} {
		code, _, stderr := harness(append(c, "--db", db, "--experiment", "nosuch")...)
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, %q; want 2 and %q", c[0], code, stderr, want)
		}
	}
	if code, out, stderr := harness("ls", "--db", db, "--experiment", "tiny"); code != 0 {
		t.Errorf("ls of a known experiment: exit %d\n%s%s", code, out, stderr)
	}
}

// ls, show, compare, export and report read a store on read-only media.
// The store's directory is mounted read-only in a mount namespace of the
// harness's own (unshare -m, as root); where that is not allowed, the
// test is skipped (the store's own tests cover the open).
func TestReadOnlyStore(t *testing.T) {
	if out, err := exec.Command("unshare", "-m", "true").CombinedOutput(); err != nil {
		t.Skipf("no mount namespace of our own here (unshare -m): %v %s", err, out)
	}
	dir := t.TempDir()
	if code, out, stderr := runHarness(t, dir, "run", mae(t, dir)); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	db := filepath.Join(dir, "harness.db")
	before := sha256.Sum256(must(os.ReadFile(db)))
	reports := t.TempDir()
	for _, c := range [][]string{
		{"ls"}, {"show", "1"}, {"compare", "1", "2"}, {"export"}, {"report", "--out", reports},
	} {
		script := `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99; shift; exec "$@"`
		args := append([]string{"-m", "sh", "-c", script, "sh", dir, os.Args[0]}, c...)
		cmd := exec.Command("unshare", append(args, "--db", db)...)
		cmd.Env = append(os.Environ(), asHarness+"=1")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 99 || errors.Is(err, exec.ErrNotFound) {
			t.Skipf("cannot mount %s read-only here: %v\n%s", dir, err, out)
		}
		if err != nil || !strings.Contains(string(out), "MAE") && c[0] != "report" {
			t.Errorf("%s on read-only media: %v\n%s", c[0], err, out)
		}
	}
	if sha256.Sum256(must(os.ReadFile(db))) != before {
		t.Error("the store changed")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
