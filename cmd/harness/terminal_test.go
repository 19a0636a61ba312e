package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTerminalProgress runs the tiny experiment with two workers on a
// terminal, a tmux pane, and checks that the pane ends with every run's
// done line and the experiment's line, five times over: the lines written
// as the last runs end are not lost (before the harness drew its own bars,
// 3 of 5 tries here kept them all).
func TestTerminalProgress(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	if testing.Short() {
		t.Skip("runs the harness five times")
	}
	exp, err := filepath.Abs(tinyExperiment)
	if err != nil {
		t.Fatal(err)
	}
	socket := fmt.Sprintf("harness-test-%d-%d", os.Getpid(), time.Now().UnixNano()) // a server of its own
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", socket}, args...)...).CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { tmux("kill-server") })
	const tries = 5
	for i := range tries {
		dir := t.TempDir()
		session := fmt.Sprintf("try%d", i)
		line := fmt.Sprintf("cd %s && env %s=1 %s run %s --workers 2 --db harness.db --out out; echo EXIT=$?; sleep 60",
			shellQuote(dir), asHarness, shellQuote(os.Args[0]), shellQuote(exp))
		if out, err := tmux("new-session", "-d", "-s", session, "-x", "150", "-y", "50", line); err != nil {
			t.Fatalf("tmux new-session: %v: %s", err, out)
		}
		var pane string
		for deadline := time.Now().Add(2 * time.Minute); ; {
			time.Sleep(200 * time.Millisecond)
			pane, err = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", session)
			if err != nil {
				t.Fatalf("tmux capture-pane: %v: %s", err, pane)
			}
			if strings.Contains(pane, "EXIT=") || time.Now().After(deadline) {
				break
			}
		}
		// the session is left to the server's end: killing the last one
		// ends the server, which a new session might then race
		for _, want := range []string{
			`(?m)^run \d CRATE-MAE/seed=0: done in \d`,
			`(?m)^run \d MAE/seed=0: done in \d`,
			`(?m)^tiny: 2/2 runs done; \d`,
			`(?m)^tiny: 2 runs: 2 executed now, 2 done$`,
			`(?m)^EXIT=0$`,
		} {
			if !regexp.MustCompile(want).MatchString(pane) {
				t.Errorf("try %d: the pane lacks %s:\n%s", i+1, want, pane)
			}
		}
		// a test binary has no VCS stamp, as a binary of go run or of
		// go build -buildvcs=false: the revision is read from git
		if i == 0 {
			db := openDB(t, dir)
			rows, err := db.Query(`SELECT code_version FROM runs`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var v string
				rows.Scan(&v)
				if !regexp.MustCompile(`^[0-9a-f]{12}( \(dirty\))?$`).MatchString(v) {
					t.Errorf("code version %q, want a git revision", v)
				}
			}
			rows.Close()
		}
		// the live area is gone: no bar and no ETA is left on the screen
		if strings.Contains(pane, "eta") || strings.Contains(pane, "[==") {
			t.Errorf("try %d: the pane keeps the bars:\n%s", i+1, pane)
		}
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
