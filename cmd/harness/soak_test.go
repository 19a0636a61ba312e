package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"harness/runner"
)

// The soak's knobs, read from the environment.
const (
	soakEnv      = "HARNESS_SOAK"       // "1" runs the soak
	soakKillsEnv = "HARNESS_SOAK_KILLS" // kills to deliver; default soakKills
	soakSeedEnv  = "HARNESS_SOAK_SEED"  // seed of the kills' kinds, targets and moments; default 1
)

// soakKills is how many kills the soak delivers by default.
const soakKills = 30

// soakRuns is the number of runs of the soak's experiment.
const soakRuns = 4

// soakArgs are the arguments of every harness run of the soak, from a
// working directory beside the store: the tiny experiment with two seeds,
// long enough (two seconds or so on two cores) for kills to land in
// training, checkpointing often, one thread per run so that the numbers do
// not depend on how many runs share the cores.
var soakArgs = []string{"run", "tiny.toml", "--workers", "2", "--db", "../harness.db",
	"--set", "train.steps=2000", "--set", "train.checkpoint_every=50", "--set", "train.threads=1"}

// TestSoak does what issue 9's "How it is checked" asks, as a user would,
// against a freshly built harness binary, and prints a summary for the
// closing note. Only with HARNESS_SOAK=1 (see scripts/soak):
//
//   - it runs the experiment of soakArgs to completion in a fresh store,
//     the reference, then again and again in rounds of fresh stores, each
//     attempt one or two harnesses at once (two in their own working
//     directories, so with their own --out) of which one is killed at a
//     random moment (SIGKILL to its process group or to it alone, SIGTERM,
//     SIGINT, or SIGKILL to one of its workers alone), until
//     HARNESS_SOAK_KILLS kills have landed; a round ends when its runs are
//     all done, and the last is finished by two harnesses at once; then one
//     more round of two harnesses at once, not killed, in which each run
//     must start once;
//   - each round's store must have every run done, no duplicate (run_id,
//     step, key) metric rows, a clean PRAGMA integrity_check, run
//     directories whose run.json names their run, and metrics bit-equal to
//     the reference; and no two live workers may ever execute one run at
//     once (/proc is sampled throughout);
//   - it feeds a table of malformed inputs, each of which must exit 2,
//     without a Go panic, leaving the store's bytes unchanged.
//
// The kinds, targets and moments of the kills are drawn from
// HARNESS_SOAK_SEED.
func TestSoak(t *testing.T) {
	if os.Getenv(soakEnv) != "1" {
		t.Skipf("the soak runs only with %s=1 (scripts/soak): it takes minutes", soakEnv)
	}
	kills, seed := soakEnvInt(t, soakKillsEnv, soakKills), soakEnvInt(t, soakSeedEnv, 1)
	defer func(b string) { harnessBinary = b }(harnessBinary)
	harnessBinary = buildHarness(t)
	s := &soak{t: t, root: t.TempDir(), rng: rand.New(rand.NewPCG(uint64(seed), 0)), kills: map[string]int{}}
	fmt.Printf("soak: %s, seed %d, %d kills; binary %s\n", strings.Join(soakArgs, " "), seed, kills, harnessBinary)

	start := time.Now()
	s.reference()
	sampler := sampleWorkers(harnessBinary)
	s.killRounds(kills)
	s.concurrentRound()
	sampler.stop()
	bad := soakBadInputs(t, filepath.Join(s.root, "bad"))
	s.summarize(kills, sampler, bad)
	fmt.Printf("soak: took %s\n", time.Since(start).Round(time.Second))
}

// soakEnvInt reads the integer environment variable name, def if unset.
func soakEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", name, v)
	}
	return n
}

// buildHarness builds the harness binary afresh into a temporary directory.
func buildHarness(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "harness")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the harness: %v\n%s", err, out)
	}
	return bin
}

// A soak is the state of TestSoak.
type soak struct {
	t       *testing.T
	root    string
	rng     *rand.Rand
	ref     map[string]float64 // the reference run's metrics
	refTime time.Duration      // and how long it took
	rounds  []*soakRound

	kills      map[string]int // kills that landed, by kind
	missed     int            // kills that found their target gone
	unexpected []string       // harness exits that are not what the kill explains
	output     bytes.Buffer   // every harness's output, for the counts
}

// A soakRound is one fresh store with the working directories a and b of
// its harnesses beside it.
type soakRound struct {
	dir      string
	attempts int
	problems []string // found by check
}

// newRound makes a round's directories.
func (s *soak) newRound() *soakRound {
	r := &soakRound{dir: filepath.Join(s.root, fmt.Sprintf("round%02d", len(s.rounds)+1))}
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(r.dir, d), 0o755); err != nil {
			s.t.Fatal(err)
		}
		writeExperiment(s.t, filepath.Join(r.dir, d), "[0, 1]", "MAE", `{ "model.arch" = "vit" }`)
	}
	s.rounds = append(s.rounds, r)
	return r
}

// reference runs the experiment once, unbroken, in a fresh store.
func (s *soak) reference() {
	dir := filepath.Join(s.root, "reference")
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o755); err != nil {
		s.t.Fatal(err)
	}
	writeExperiment(s.t, filepath.Join(dir, "a"), "[0, 1]", "MAE", `{ "model.arch" = "vit" }`)
	start := time.Now()
	code, out, stderr := runHarness(s.t, filepath.Join(dir, "a"), soakArgs...)
	if code != 0 {
		s.t.Fatalf("the reference run: exit %d\n%s%s", code, out, stderr)
	}
	s.refTime = time.Since(start)
	s.ref = metrics(s.t, dir)
	fmt.Printf("soak: reference run in %s, %d metrics\n", s.refTime.Round(time.Millisecond), len(s.ref))
}

// A proc is a harness process of the soak.
type proc struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan struct{}
	err    error // Wait's, once exited is closed
}

// start starts a harness in the working directory d of round r.
func (s *soak) start(r *soakRound, d string) *proc {
	p := &proc{cmd: command(filepath.Join(r.dir, d), soakArgs...), exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	return p
}

// wait waits up to limit for p to exit, then kills its process group, and
// returns its wait status; hung says it had to be killed.
func (p *proc) wait(limit time.Duration) (ws syscall.WaitStatus, hung bool) {
	select {
	case <-p.exited:
	case <-time.After(limit):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
		hung = true
	}
	return p.cmd.ProcessState.Sys().(syscall.WaitStatus), hung
}

// The kinds of kill, and the wait status each leaves its harness in when
// it lands.
var killKinds = []string{"SIGKILL group", "SIGKILL harness", "SIGTERM", "SIGINT", "SIGKILL worker"}

// landed reports whether a kill of the kind landed on a harness that ended
// with ws, and if not, whether ws is a normal end of a harness all the
// same (it finished before the kill).
func landed(kind string, ws syscall.WaitStatus) (ok, normal bool) {
	switch kind {
	case "SIGKILL group", "SIGKILL harness":
		return ws.Signaled() && ws.Signal() == syscall.SIGKILL, ws.Exited() && ws.ExitStatus() <= 1
	case "SIGTERM":
		return ws.Exited() && ws.ExitStatus() == 143, ws.Exited() && ws.ExitStatus() <= 1
	case "SIGINT":
		return ws.Exited() && ws.ExitStatus() == 130, ws.Exited() && ws.ExitStatus() <= 1
	case "none":
		return false, ws.Exited() && ws.ExitStatus() <= 1
	}
	// a killed worker leaves its run interrupted: exit 1
	return ws.Exited() && ws.ExitStatus() == 1, ws.Exited() && ws.ExitStatus() == 0
}

// attempt starts one or two harnesses in round r and kills one of them at
// a random moment, as drawn, then waits for both to end. It reports
// whether the kill landed.
func (s *soak) attempt(r *soakRound) bool {
	r.attempts++
	procs := []*proc{s.start(r, "a")}
	if s.rng.IntN(2) == 0 {
		procs = append(procs, s.start(r, "b"))
	}
	victim := procs[s.rng.IntN(len(procs))]
	kind := killKinds[s.rng.IntN(len(killKinds))]
	delay := time.Duration(s.rng.Int64N(int64(s.refTime)))
	select {
	case <-victim.exited:
		kind = "none" // done first; its pid may be another process's by now
	case <-time.After(delay):
	}
	pid := victim.cmd.Process.Pid
	switch kind {
	case "SIGKILL group":
		syscall.Kill(-pid, syscall.SIGKILL)
	case "SIGKILL harness":
		syscall.Kill(pid, syscall.SIGKILL)
	case "SIGTERM":
		syscall.Kill(pid, syscall.SIGTERM)
	case "SIGINT":
		syscall.Kill(pid, syscall.SIGINT)
	case "SIGKILL worker":
		// between runs the harness has no worker for a moment
		kind = "none"
	look:
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			select {
			case <-victim.exited:
				break look
			default:
			}
			if w, ok := childOf(pid); ok {
				syscall.Kill(w, syscall.SIGKILL)
				kind = "SIGKILL worker"
				break
			}
		}
	}
	ok := false
	for _, p := range procs {
		ws, hung := p.wait(2 * time.Minute)
		s.output.Write(p.out.Bytes())
		who, normal := "the other", ws.Exited() && ws.ExitStatus() <= 1
		if p == victim {
			who = "the victim"
			ok, normal = landed(kind, ws)
		}
		if hung || !ok && !normal {
			s.unexpected = append(s.unexpected, fmt.Sprintf("%s attempt %d (%s to %s): %v, hung %v\n%s",
				filepath.Base(r.dir), r.attempts, kind, who, p.err, hung, p.out.String()))
		}
	}
	if ok && kind != "none" {
		s.kills[kind]++
	} else {
		s.missed++
	}
	return ok
}

// finish runs two harnesses at once in round r, not killed, to their end.
func (s *soak) finish(r *soakRound) {
	procs := []*proc{s.start(r, "a"), s.start(r, "b")}
	for _, p := range procs {
		ws, hung := p.wait(2 * time.Minute)
		s.output.Write(p.out.Bytes())
		if hung || ws.ExitStatus() != 0 {
			s.unexpected = append(s.unexpected, fmt.Sprintf("%s, finishing: %v, hung %v\n%s",
				filepath.Base(r.dir), p.err, hung, p.out.String()))
		}
	}
}

// killRounds delivers kills, in rounds, until n have landed (or 3n
// attempts were made), then finishes the last round.
func (s *soak) killRounds(n int) {
	r := s.newRound()
	landedKills := 0
	for attempts := 0; landedKills < n && attempts < 3*n; attempts++ {
		if s.attempt(r) {
			landedKills++
		}
		if runsDone(s.t, r.dir) == soakRuns {
			s.check(r)
			if landedKills < n {
				r = s.newRound()
			}
		}
	}
	if !r.checked() {
		s.finish(r)
		s.check(r)
	}
}

// checked says whether check has looked at the round.
func (r *soakRound) checked() bool { return r.problems != nil }

// concurrentRound runs two harnesses at once in a fresh round, not killed:
// each run must start once.
func (s *soak) concurrentRound() {
	r := s.newRound()
	s.finish(r)
	s.check(r)
	outs := []string{filepath.Join(r.dir, "a", "out"), filepath.Join(r.dir, "b", "out")}
	for id := 1; id <= soakRuns; id++ {
		if n := starts(s.t, r.dir, id, outs...); n != 1 {
			r.problems = append(r.problems, fmt.Sprintf("run %d started %d times by two harnesses at once, want 1", id, n))
		}
	}
}

// runsDone counts the runs done in the store of the round in dir, 0 if it
// has no store yet, or one without runs (killed as it was made).
func runsDone(t *testing.T, dir string) int {
	t.Helper()
	path := filepath.Join(dir, "harness.db")
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM runs WHERE status = 'done'`).Scan(&n); err != nil {
		return 0
	}
	return n
}

// check looks at the store and run directories of round r, noting its
// problems. problems is non-nil afterwards.
func (s *soak) check(r *soakRound) {
	t := s.t
	r.problems = []string{}
	note := func(format string, args ...any) { r.problems = append(r.problems, fmt.Sprintf(format, args...)) }
	db := openDB(t, r.dir)
	if n, done := count(t, db, `SELECT count(*) FROM runs`), count(t, db, `SELECT count(*) FROM runs WHERE status = 'done'`); n != soakRuns || done != soakRuns {
		note("%d runs, %d done; want %d, all done", n, done, soakRuns)
	}
	if dups := count(t, db, `SELECT count(*) FROM (SELECT run_id, step, key FROM metrics
GROUP BY run_id, step, key HAVING count(*) > 1)`); dups != 0 {
		note("%d duplicated (run_id, step, key) metric rows", dups)
	}
	var integrity string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		note("integrity_check: %q, %v", integrity, err)
	}
	for _, d := range metricDiffs(metrics(t, r.dir), s.ref) {
		note("%s, as in the unbroken reference", d)
	}
	r.problems = append(r.problems, checkRunDirs(t, db, r.dir)...)
}

// checkRunDirs checks the run directories of the round in dir: each holds
// a run.json naming the store and the run its name says, and each run's
// recorded directory is one of them.
func checkRunDirs(t *testing.T, db *sql.DB, dir string) []string {
	var problems []string
	var storeID string
	if err := db.QueryRow(`SELECT value FROM meta WHERE key = 'store_id'`).Scan(&storeID); err != nil {
		return []string{fmt.Sprintf("store id: %v", err)}
	}
	dirs, _ := filepath.Glob(filepath.Join(dir, "[ab]", "out", "tiny", "*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, runner.MarkerName))
		var m runner.Marker
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil || m.StoreID != storeID || filepath.Base(d) != fmt.Sprintf("%s-%d", storeID[:8], m.RunID) {
			problems = append(problems, fmt.Sprintf("run directory %s: marker %+v, %v", d, m, err))
		}
	}
	rows, err := db.Query(`SELECT id, run_dir FROM runs`)
	if err != nil {
		return append(problems, err.Error())
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var rd string
		if err := rows.Scan(&id, &rd); err != nil {
			return append(problems, err.Error())
		}
		if !slices.Contains(dirs, rd) {
			problems = append(problems, fmt.Sprintf("run %d's recorded directory %q is none of %v", id, rd, dirs))
		}
	}
	return problems
}

// A workerSampler looks at the live worker processes of the harness binary
// every few milliseconds, for two executing one run at once.
type workerSampler struct {
	done     chan struct{}
	wg       sync.WaitGroup
	samples  int // samples taken
	busy     int // samples that saw a worker
	overlaps []string
}

// sampleWorkers starts sampling the workers of the harness binary bin.
func sampleWorkers(bin string) *workerSampler {
	w := &workerSampler{done: make(chan struct{})}
	w.wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
			w.sample(bin)
		}
	})
	return w
}

// sample notes the runs that two live workers execute at once. A worker's
// command line ends with its run directory, whose name is the store's
// identity and the run's id, whatever the --out.
func (w *workerSampler) sample(bin string) {
	w.samples++
	byRun := map[string][]string{}
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, path := range cmdlines {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) != 3 || args[0] != bin || args[1] != "worker" {
			continue
		}
		var pid int
		fmt.Sscan(filepath.Base(filepath.Dir(path)), &pid)
		if dead(pid) {
			continue
		}
		run := filepath.Base(args[2])
		byRun[run] = append(byRun[run], fmt.Sprintf("pid %d in %s", pid, args[2]))
	}
	if len(byRun) > 0 {
		w.busy++
	}
	for run, ws := range byRun {
		if len(ws) > 1 {
			w.overlaps = append(w.overlaps, fmt.Sprintf("run %s executed at once by %s", run, strings.Join(ws, " and ")))
		}
	}
}

// stop stops the sampling.
func (w *workerSampler) stop() {
	close(w.done)
	w.wg.Wait()
}

// summarize prints the soak's summary, one line per category, and fails
// the test on what went wrong.
func (s *soak) summarize(want int, w *workerSampler, bad []badResult) {
	t := s.t
	landedKills := 0
	var kinds []string
	for _, k := range killKinds {
		landedKills += s.kills[k]
		kinds = append(kinds, fmt.Sprintf("%s %d", k, s.kills[k]))
	}
	var problems []string
	roundsOK := 0
	for _, r := range s.rounds {
		if len(r.problems) == 0 {
			roundsOK++
		}
		for _, p := range r.problems {
			problems = append(problems, filepath.Base(r.dir)+": "+p)
		}
	}
	resumed := regexp.MustCompile(`resumed from the checkpoint at step [1-9]`).FindAll(s.output.Bytes(), -1)
	takeovers := bytes.Count(s.output.Bytes(), []byte("taken over from a harness that is gone"))
	elsewhere := bytes.Count(s.output.Bytes(), []byte("continues in its directory recorded by its last claim"))
	fmt.Printf("soak: kills survived: %d of %d landed (%s; %d more found the harness done first) in %d rounds, %d of them clean; "+
		"%d resumptions from a checkpoint, %d takeovers, %d in the run directory of another harness; %d unexpected exits\n",
		landedKills, want, strings.Join(kinds, ", "), s.missed, len(s.rounds), roundsOK,
		len(resumed), takeovers, elsewhere, len(s.unexpected))
	dups, integrity, equal := 0, 0, 0
	for _, r := range s.rounds {
		if !slices.ContainsFunc(r.problems, func(p string) bool { return strings.Contains(p, "duplicated") }) {
			dups++
		}
		if !slices.ContainsFunc(r.problems, func(p string) bool { return strings.HasPrefix(p, "integrity_check") }) {
			integrity++
		}
		if !slices.ContainsFunc(r.problems, func(p string) bool { return strings.Contains(p, "unbroken reference") }) {
			equal++
		}
	}
	fmt.Printf("soak: duplicates: %d of %d stores without duplicate (run_id, step, key) rows; "+
		"%d runs executed twice at once in %d samples of the live workers (%d of them with workers); integrity_check ok in %d of %d\n",
		dups, len(s.rounds), len(w.overlaps), w.samples, w.busy, integrity, len(s.rounds))
	fmt.Printf("soak: bit-equality: %d of %d stores bit-equal to an unbroken run (%d metrics each)\n",
		equal, len(s.rounds), len(s.ref))
	var failed []string
	for _, b := range bad {
		if b.problem != "" {
			failed = append(failed, b.name+" ("+b.problem+")")
		}
	}
	fmt.Printf("soak: bad inputs refused with exit 2 and the store's bytes unchanged: %d of %d", len(bad)-len(failed), len(bad))
	if len(failed) > 0 {
		fmt.Printf("; failing: %s", strings.Join(failed, "; "))
	}
	fmt.Println()

	if landedKills < want {
		t.Errorf("%d kills landed, want %d", landedKills, want)
	}
	for _, p := range append(append(problems, w.overlaps...), s.unexpected...) {
		t.Error(p)
	}
	for _, f := range failed {
		t.Errorf("bad input %s", f)
	}
}

// A badResult is how the harness took one malformed input: problem is ""
// if it exited 2 without a panic and left the store's bytes as they were.
type badResult struct {
	name, problem string
}

// A badInput is one malformed input to harness run.
type badInput struct {
	name string
	// limit runs the harness with at most 2 GiB of address space, for
	// inputs that used to grow its memory without bound. Only those:
	// under the limit a worker that does start hangs in training.
	limit bool
	// prepare writes what the case needs into its directory dir and
	// returns the arguments after "run" (the experiment file and the
	// flags, --db and --out excepted) and the store, or "" for the one
	// every case shares.
	prepare func(t *testing.T, dir string) (args []string, db string)
}

// edited is a case whose experiment file is the tiny one with old replaced
// by new, run with the flags.
func edited(old, new string, flags ...string) func(t *testing.T, dir string) ([]string, string) {
	return func(t *testing.T, dir string) ([]string, string) {
		t.Helper()
		b, err := os.ReadFile(tinyExperiment)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%s no longer holds %q", tinyExperiment, old)
		}
		path := filepath.Join(dir, "tiny.toml")
		if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		return append([]string{path}, flags...), ""
	}
}

// named is a case whose experiment is named by the TOML string name.
func named(name string) func(t *testing.T, dir string) ([]string, string) {
	return edited(`name = "tiny"`, "name = "+name)
}

// badInputs is the soak's table of malformed inputs.
var badInputs = []badInput{
	{"unknown key", false, edited("steps = 40", "stepz = 40")},
	{"syntax error", false, edited("[train]", "[train")},
	{"wrong type", false, edited("steps = 40", `steps = "forty"`)},
	{"impossible shape", false, edited("patch_size = 4", "patch_size = 3")},
	{"--set of an unknown key", false, edited("", "", "--set", "train.nope=1")},
	{"--set of a wrong type", false, edited("", "", "--set", "train.steps=forty")},
	{"--set without =", false, edited("", "", "--set", "train.steps")},
	{"--workers -1", false, edited("", "", "--workers", "-1")},
	{`name ".."`, false, named(`".."`)},
	{`name "../../escaped"`, false, named(`"../../escaped"`)},
	{`name "."`, false, named(`"."`)},
	{`name " "`, false, named(`" "`)},
	{"name with /", false, named(`"a/b"`)},
	{"name with NUL", false, named(`"a\u0000b"`)},
	{"name with a newline", false, named(`"a\nb"`)},
	{"name of 300 bytes", false, named(`"` + strings.Repeat("x", 300) + `"`)},
	{"batch larger than the split", false, edited("batch_size = 8", "batch_size = 100")},
	{"missing dataset", false, edited(`dataset = "synthetic"`, `dataset = "cifar10"`+"\npath = \"/nonexistent/cifar\"")},
	{"missing experiment file", false, func(t *testing.T, dir string) ([]string, string) {
		return []string{filepath.Join(dir, "nope.toml")}, ""
	}},
	{"/dev/zero as the experiment file", true, func(t *testing.T, dir string) ([]string, string) {
		return []string{"/dev/zero"}, ""
	}},
	{"--out that is a file", false, func(t *testing.T, dir string) ([]string, string) {
		args, _ := edited("", "")(t, dir)
		file := filepath.Join(dir, "file")
		if err := os.WriteFile(file, []byte("a file\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return append(args, "--out", file), ""
	}},
	{"foreign SQLite database as --db", false, func(t *testing.T, dir string) ([]string, string) {
		args, _ := edited("", "")(t, dir)
		path := filepath.Join(dir, "foreign.db")
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{`CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)`,
			`INSERT INTO runs (what) VALUES ('another program''s run')`} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		return args, path
	}},
	{"non-SQLite file as --db", false, func(t *testing.T, dir string) ([]string, string) {
		args, _ := edited("", "")(t, dir)
		path := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 100), 0o644); err != nil {
			t.Fatal(err)
		}
		return args, path
	}},
	{"--db in a missing directory", false, func(t *testing.T, dir string) ([]string, string) {
		args, _ := edited("", "")(t, dir)
		return args, filepath.Join(dir, "nonexistent", "dir", "x.db")
	}},
}

// soakBadInputs runs harness run on each of badInputs in a directory of
// its own under root, against a store with a run done in it unless the
// case brings its own, under a memory limit (harness run /dev/zero used to
// grow without bound) and a time limit.
func soakBadInputs(t *testing.T, root string) []badResult {
	t.Helper()
	shared := filepath.Join(root, "harness.db")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// another experiment than the cases', so that each case would have
	// runs to execute
	args, _ := edited(`name = "tiny"`, `name = "setup"`)(t, root)
	if code, out, stderr := runHarness(t, root, "run", args[0], "--db", shared, "--out", filepath.Join(root, "out")); code != 0 {
		t.Fatalf("the bad inputs' store: exit %d\n%s%s", code, out, stderr)
	}
	var results []badResult
	for i, c := range badInputs {
		dir := filepath.Join(root, strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		args, db := c.prepare(t, dir)
		if db == "" {
			db = shared
		}
		if !slices.Contains(args, "--out") {
			args = append(args, "--out", filepath.Join(dir, "out"))
		}
		before := storeBytes(t, db)
		code, out := runLimited(t, dir, c.limit, append(append([]string{"run"}, args...), "--db", db)...)
		var problems []string
		if code != 2 {
			problems = append(problems, fmt.Sprintf("exit %d", code))
		}
		if panicked(out) {
			problems = append(problems, "a Go panic")
		}
		if storeBytes(t, db) != before {
			problems = append(problems, "store changed")
		}
		r := badResult{name: c.name, problem: strings.Join(problems, ", ")}
		if r.problem != "" {
			t.Logf("bad input %s: %s\n%.2000s", c.name, r.problem, strings.ReplaceAll(out, "\x00", `\x00`))
		}
		results = append(results, r)
	}
	return results
}

// runLimited runs the harness in dir for at most 30 s, with at most 2 GiB
// of address space if limit is set, returning its exit status (-1 if
// killed) and its output.
func runLimited(t *testing.T, dir string, limit bool, args ...string) (int, string) {
	t.Helper()
	cmd := command(dir, args...)
	if limit {
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Fatal(err)
		}
		// sh sets the limit, then becomes the harness: $0 is the binary
		cmd.Path, cmd.Args = sh, append([]string{"sh", "-c", `ulimit -v 2097152 && exec "$0" "$@"`}, cmd.Args...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(30*time.Second, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer timer.Stop()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	t.Fatal(err)
	return 0, ""
}

// panicked reports whether a Go program's output shows that it panicked or
// died of a fatal runtime error, which exit with status 2 too.
func panicked(out string) bool {
	return regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[)`).MatchString(out)
}

// storeBytes returns a digest of the store at path and its WAL, telling
// an absent file from an empty one.
func storeBytes(t *testing.T, path string) string {
	t.Helper()
	h := sha256.New()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			h.Write([]byte("absent\x00"))
		case err != nil:
			t.Fatal(err)
		default:
			fmt.Fprintf(h, "%d\x00", len(b))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
