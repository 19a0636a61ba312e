package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"harness/ablations"
	"harness/store"
)

// The ETAs leave out the warm-up (the first interval logged) and the
// evaluations, which they count apart at their own measured time.
func TestTrackerETA(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	tr := newTracker()
	tr.planned(Overview{Experiment: "x", Runs: 2, Steps: 200, Evals: 6, Workers: 1})
	tr.start(0, Started{ID: 1, Name: "a", Steps: 100, EvalEvery: 50}, t0)
	tr.evaluating(0, 0, t0)
	tr.evaluated(0, at(5))
	r := tr.logged(0, 10, 1, at(15)) // the warm-up: 10 steps in 10 s, not counted
	if _, ok := tr.eta(r, at(15)); ok {
		t.Errorf("an ETA before any step time is measured")
	}
	tr.logged(0, 20, 1, at(16)) // 0.1 s a step
	if d, _ := tr.eta(r, at(16)); d != 18*time.Second {
		t.Errorf("ETA at step 20: %v, want 18s (80 steps at 0.1s, evaluations at 50 and 100 at 5s)", d)
	}
	tr.logged(0, 50, 1, at(19))
	tr.evaluating(0, 50, at(19))
	if d, _ := tr.eta(r, at(21)); d != 13*time.Second {
		t.Errorf("ETA evaluating at step 50: %v, want 13s (3s left of this evaluation, 50 steps, the evaluation at 100)", d)
	}
	tr.evaluated(0, at(24))
	tr.logged(0, 60, 1, at(25)) // 10 steps in 1 s once the evaluation is left out
	if d, _ := tr.eta(r, at(25)); d != 9*time.Second {
		t.Errorf("ETA at step 60: %v, want 9s", d)
	}
	// the experiment: this run's 9s and the other's 100 steps and 3
	// evaluations, 25s, on one worker
	if d, ok := tr.experimentETA(at(25)); !ok || d != 34*time.Second {
		t.Errorf("experiment ETA: %v %v, want 34s", d, ok)
	}
	if got := tr.experimentLine(at(25), false); got != "x: 0/2 runs done, 1 running; eta 34s" {
		t.Errorf("experiment line %q", got)
	}
	tr.ended(0, Outcome{Status: store.StatusFailed})
	if got := tr.experimentLine(at(26), false); got != "x: 0/2 runs done, 1 failed; eta 25s" {
		t.Errorf("experiment line %q", got)
	}
}

func TestEvalsAfter(t *testing.T) {
	for _, tt := range []struct{ step, steps, every, want int }{
		{0, 100, 0, 1}, {100, 100, 0, 0}, {0, 100, 50, 2}, {50, 100, 50, 1}, {0, 90, 40, 3}, {80, 90, 40, 1},
	} {
		if got := evalsAfter(tt.step, tt.steps, tt.every); got != tt.want {
			t.Errorf("evalsAfter(%d, %d, %d) = %d, want %d", tt.step, tt.steps, tt.every, got, tt.want)
		}
	}
}

// The bars show an evaluation and a resumption while they last, and Close
// leaves every line written and the experiment's last line, no bar.
func TestBars(t *testing.T) {
	var buf bytes.Buffer
	b := newBars(&buf)
	b.Planned(Overview{Experiment: "x", Runs: 1, Steps: 100, Evals: 2, Workers: 1})
	b.Started(0, Started{ID: 7, Name: "a", Steps: 100, Device: "cpu"})
	b.Evaluating(0, 0)
	live := func() string {
		b.mu.Lock()
		defer b.mu.Unlock()
		return strings.Join(b.live(time.Now(), 100), "\n")
	}
	if s := live(); !regexp.MustCompile(`run 7 a \[-+\] 0/100  evaluating at step 0 \(`).MatchString(s) {
		t.Errorf("live area while evaluating:\n%s", s)
	}
	b.Evaluated(0, 0)
	b.Resumed(0, 40)
	if s := live(); !strings.Contains(s, "40/100  resumed at step 40") || !strings.Contains(s, "x: 0/1 runs done, 1 running; eta -") {
		t.Errorf("live area after resuming:\n%s", s)
	}
	b.Logged(0, 50, 0.5)
	b.Ended(0, Outcome{Job: &Job{Run: ablations.Run{Name: "a"}}, RunID: 7, Status: store.StatusDone})
	b.Close()
	screen := terminal(buf.String())
	want := "run 7 a: started on cpu\nrun 7 a: resumed from the checkpoint at step 40\nrun 7 a: done in "
	if !strings.HasPrefix(screen, want) || !regexp.MustCompile(`\nx: 1/1 runs done; [0-9.]+m?s\n$`).MatchString(screen) {
		t.Errorf("screen:\n%q", screen)
	}
}

// terminal returns what a terminal shows of s, written by bars: lines,
// and the cursor moved up to the start of a line, clearing it and those
// below.
func terminal(s string) string {
	var lines []string
	up := regexp.MustCompile(`^\r\x1b\[(\d+)A\x1b\[J`)
	for s != "" {
		if m := up.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			lines = lines[:len(lines)-n]
			s = s[len(m[0]):]
			continue
		}
		if strings.HasPrefix(s, "\r\x1b[J") {
			s = s[len("\r\x1b[J"):]
			continue
		}
		line, rest, _ := strings.Cut(s, "\n")
		lines = append(lines, line)
		s = rest
	}
	return strings.Join(lines, "\n") + "\n"
}

// Without a terminal, evaluations and resumptions are lines, and so is the
// experiment after each run's end.
func TestLines(t *testing.T) {
	var buf bytes.Buffer
	l := newLines(&buf)
	l.Planned(Overview{Experiment: "x", Runs: 1, Steps: 100, Evals: 2, Workers: 1})
	l.Started(0, Started{ID: 7, Name: "a", Steps: 100, Device: "cpu", Attempt: 2, Spent: 70 * time.Second})
	l.Resumed(0, 40)
	l.Evaluating(0, 40)
	l.Evaluated(0, 40)
	l.Logged(0, 50, 0.5)
	l.Ended(0, Outcome{Job: &Job{Run: ablations.Run{Name: "a"}}, RunID: 7, Status: store.StatusDone})
	l.Close()
	want := `^run 7 a: started on cpu, attempt 2 \(1m10s before\)
run 7 a: resumed from the checkpoint at step 40
run 7 a: evaluating at step 40
run 7 a: step 50/100 loss 0.5 eta -
run 7 a: done in 1m10s over 2 attempts \([0-9.]+m?s in this one\)
x: 1/1 runs done; [0-9.]+m?s
$`
	if !regexp.MustCompile(want).MatchString(buf.String()) {
		t.Errorf("lines:\n%s", buf.String())
	}
}

// A worker told that its parent speaks protocol 2 says first which code it
// runs, and brackets every evaluation.
func TestWorkProtocol2(t *testing.T) {
	t.Setenv(ProtocolEnv, "2")
	_, jobs := tinyJobs(t)
	events := playParent(t, context.Background(), t.TempDir(), jobs[0], ok)
	if e := events[0]; e.Event != EventWorker || e.Version != CodeVersion() || e.Build == "" || e.Build != BuildID() {
		t.Errorf("first event %+v, want the worker's code version %q and build %q", e, CodeVersion(), BuildID())
	}
	var evals []string
	for _, e := range events {
		switch {
		case e.Event == EventEvaluating, e.Event == EventEvaluated:
			evals = append(evals, fmt.Sprintf("%s %d", e.Event, e.Step))
		case e.Event == EventMetrics && len(evals) > 0 && strings.HasPrefix(evals[len(evals)-1], EventEvaluating):
			if _, ok := e.Values["eval/recon_loss"]; ok {
				evals = append(evals, "metrics")
			}
		}
	}
	want := "evaluating 0,metrics,evaluated 0,evaluating 40,metrics,evaluated 40"
	if got := strings.Join(evals, ","); got != want {
		t.Errorf("evaluations %s, want %s", got, want)
	}
}

// The harness tells its workers the protocol it speaks, and warns when a
// worker runs another build than its own, recording the worker's code
// version for the run.
func TestWorkerOfAnotherBuild(t *testing.T) {
	st := openStore(t)
	x, jobs := tinyJobs(t)
	var buf bytes.Buffer
	script := `[ "$` + ProtocolEnv + `" = 2 ] || exit 5; read run; ` +
		`echo '{"event":"worker","version":"0123456789ab (dirty)","build":"theirs"}'; read ack; ` +
		`echo '{"event":"end","status":"done"}'`
	outcomes, err := Run(context.Background(), st, x, jobs[:1], Options{
		Out: t.TempDir(), Workers: 1, Worker: []string{"sh", "-c", script},
		Provenance: Provenance{Host: "test", CodeVersion: "fedcba987654", Command: "test", Build: "ours"},
		Progress:   NewProgress(&buf, false),
	})
	if err != nil || outcomes[0].Status != store.StatusDone {
		t.Fatalf("Run: %v, %+v", err, outcomes)
	}
	if !strings.Contains(buf.String(), "warning: its worker runs another build of the harness (code version 0123456789ab (dirty), build theirs) than this harness (code version fedcba987654, build ours)") {
		t.Errorf("no warning in:\n%s", buf.String())
	}
	r, err := st.Run(outcomes[0].RunID)
	if err != nil || r.CodeVersion != "0123456789ab (dirty)" {
		t.Errorf("the run's code version: %q, %v", r.CodeVersion, err)
	}
}

// Without the VCS stamp of go build (go test has none), the code version
// is read from git at run time.
func TestCodeVersionFromGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git work tree")
	}
	status, err := exec.Command("git", "status", "--porcelain").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := string(head[:12])
	if len(bytes.TrimSpace(status)) > 0 {
		want += " (dirty)"
	}
	if got := codeVersion(); got != want {
		t.Errorf("code version %q, want %q", got, want)
	}
	// not a work tree of this module: no version from it
	if v, ok := gitVersion(os.TempDir()); ok {
		t.Errorf("a version from %s: %q", os.TempDir(), v)
	}
}

func TestBuildID(t *testing.T) {
	id := BuildID()
	if id == "" {
		t.Fatal("no build ID")
	}
	if out, err := exec.Command("go", "tool", "buildid", os.Args[0]).Output(); err == nil {
		if want := strings.TrimSpace(string(out)); id != want {
			t.Errorf("build ID %q, go tool buildid says %q", id, want)
		}
	}
}
