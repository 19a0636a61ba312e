package runner

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"harness/store"
)

// runFake runs the tiny experiment's two runs, one at a time, with a fake
// worker: the shell script, which reads the run on its standard input. It
// returns the outcomes, Run's error and the store.
func runFake(t *testing.T, script string, prepare func(st *store.Store, out string)) ([]Outcome, error, *store.Store) {
	t.Helper()
	st := openStore(t)
	x, jobs := tinyJobs(t)
	out := t.TempDir()
	if prepare != nil {
		prepare(st, out)
	}
	outcomes, err := Run(context.Background(), st, x, jobs, Options{
		Out: out, Workers: 1, Worker: []string{"sh", "-c", script},
		Provenance: Provenance{Host: "test", CodeVersion: "test", Command: "test"},
		Progress:   NewProgress(io.Discard, false),
	})
	return outcomes, err, st
}

// A run fails by its own fault only; the environment's faults leave it
// interrupted, and a full disk stops the claiming of runs. Every outcome
// is the run's status in the store.
func TestExecuteFaults(t *testing.T) {
	const read = `read run; `
	end := func(json string) string { return read + `echo '` + json + `'` }
	tests := []struct {
		name   string
		script string
		want   []string // the two runs' statuses; "" not started
		errIs  error
		errMsg string // in the first run's error
	}{
		{"done", end(`{"event":"end","status":"done"}`), []string{"done", "done"}, nil, ""},
		{"diverged", end(`{"event":"end","status":"failed","error":"step 3: the loss diverged to NaN"}`),
			[]string{"failed", "failed"}, nil, "diverged"},
		{"killed by a signal", read + `echo '{"event":"metrics","step":10,"values":{"train/loss":1}}'; read ack; kill -KILL $$`,
			[]string{"interrupted", "interrupted"}, nil, "killed"},
		{"exits without a word", read + `exit 3`, []string{"failed", "failed"}, nil, "exit status 3"},
		{"breaks the protocol", read + `echo garbage`, []string{"failed", "failed"}, nil, "garbage"},
		{"I/O error", end(`{"event":"end","status":"failed","error":"read: input/output error","fault":"io"}`),
			[]string{"interrupted", "interrupted"}, nil, "input/output error"},
		{"disk full", end(`{"event":"end","status":"failed","error":"write: no space left on device","fault":"nospace"}`),
			[]string{"interrupted", ""}, ErrNoSpace, "no space left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcomes, err, st := runFake(t, tt.script, nil)
			if !errors.Is(err, tt.errIs) || (tt.errIs == nil) != (err == nil) {
				t.Errorf("Run: %v, want %v", err, tt.errIs)
			}
			for i, o := range outcomes {
				if o.Status != tt.want[i] {
					t.Errorf("run %d: %s, want %s (%s)", i+1, o.Status, tt.want[i], o.Error)
				}
				if o.RunID == 0 {
					continue
				}
				r, err := st.Run(o.RunID)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != o.Status {
					t.Errorf("run %d: outcome %s, store %s", o.RunID, o.Status, r.Status)
				}
			}
			if !strings.Contains(outcomes[0].Error, tt.errMsg) {
				t.Errorf("run 1's error %q does not say %q", outcomes[0].Error, tt.errMsg)
			}
		})
	}
}

// A run directory that belongs to another store's run is refused, naming
// it, and its checkpoint is left alone.
func TestExecuteForeignRunDir(t *testing.T) {
	var dir string
	ckpt := []byte("another store's checkpoint")
	outcomes, err, st := runFake(t, `read run; echo '{"event":"end","status":"done"}'`, func(st *store.Store, out string) {
		id, err := st.ID()
		if err != nil {
			t.Fatal(err)
		}
		dir = RunDir(out, "tiny", id, 1)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "checkpoint.safetensors"), ckpt, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Run: %v, want an error naming %s", err, dir)
	}
	if outcomes[0].Status != store.StatusInterrupted {
		t.Errorf("run 1: %+v", outcomes[0])
	}
	if r, _ := st.Run(1); r.Status != store.StatusInterrupted {
		t.Errorf("run 1 in the store: %s", r.Status)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "checkpoint.safetensors")); string(b) != string(ckpt) {
		t.Errorf("the foreign checkpoint changed: %q", b)
	}
}

func TestPrepareRunDir(t *testing.T) {
	m := Marker{StoreID: "aaaa", RunID: 1, ConfigHash: "h"}
	tests := []struct {
		name  string
		setup func(dir string)
		ok    bool
	}{
		{"new", func(string) {}, true},
		{"its own", func(dir string) { prepareRunDir(dir, m) }, true},
		{"another store's", func(dir string) { prepareRunDir(dir, Marker{StoreID: "bbbb", RunID: 1, ConfigHash: "h"}) }, false},
		{"another configuration's", func(dir string) { prepareRunDir(dir, Marker{StoreID: "aaaa", RunID: 1, ConfigHash: "g"}) }, false},
		{"files and no marker", func(dir string) { os.WriteFile(filepath.Join(dir, "checkpoint.safetensors"), nil, 0o644) }, false},
		{"a killed marker write", func(dir string) { os.WriteFile(filepath.Join(dir, ".run.json.tmp123"), nil, 0o644) }, true},
	}
	for _, tt := range tests {
		dir := filepath.Join(t.TempDir(), "run")
		os.MkdirAll(dir, 0o755)
		tt.setup(dir)
		err := prepareRunDir(dir, m)
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), dir)) {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// A claim uses the directory the run's last claim recorded, wherever it
// is, while it holds the run's marker; otherwise the run's directory under
// this harness's output directory, saying why.
func TestChooseDir(t *testing.T) {
	m := Marker{StoreID: "aaaa", RunID: 1, ConfigHash: "h"}
	tests := []struct {
		name     string
		recorded func(root string) string // sets up the recorded directory
		chosen   string                   // "own" or "recorded"
		note     string                   // in the note; "" no note
	}{
		{"none recorded", func(string) string { return "" }, "own", ""},
		{"recorded is own", func(root string) string { return filepath.Join(root, "own") }, "own", ""},
		{"recorded elsewhere", func(root string) string {
			dir := filepath.Join(root, "elsewhere")
			prepareRunDir(dir, m)
			return dir
		}, "recorded", "continues in its directory"},
		{"recorded is gone", func(root string) string { return filepath.Join(root, "gone") }, "own", "does not exist"},
		{"recorded has no marker", func(root string) string {
			dir := filepath.Join(root, "bare")
			os.MkdirAll(dir, 0o755)
			return dir
		}, "own", "has no run.json"},
		{"recorded is another run's", func(root string) string {
			dir := filepath.Join(root, "other")
			prepareRunDir(dir, Marker{StoreID: "aaaa", RunID: 2, ConfigHash: "h"})
			return dir
		}, "own", "names run 2"},
		{"recorded has a corrupt marker", func(root string) string {
			dir := filepath.Join(root, "corrupt")
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, MarkerName), []byte("{"), 0o644)
			return dir
		}, "own", "marker run.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			own := filepath.Join(root, "own")
			recorded := tt.recorded(root)
			want := own
			if tt.chosen == "recorded" {
				want = recorded
			}
			dir, note := chooseDir(own, store.Run{ID: 1, ConfigHash: "h", Dir: recorded}, m)
			if dir != want {
				t.Errorf("chose %s, want %s", dir, want)
			}
			if (tt.note == "") != (note == "") || !strings.Contains(note, tt.note) || (note != "" && !strings.Contains(note, recorded)) {
				t.Errorf("note %q, want one saying %q of %s", note, tt.note, recorded)
			}
		})
	}
}

func TestFaultOf(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("step 3: the loss diverged to NaN"), ""},
		{&os.PathError{Op: "open", Path: "/data/x", Err: os.ErrNotExist}, ""},
		{&os.PathError{Op: "write", Path: "ckpt", Err: syscall.ENOSPC}, FaultNoSpace},
		{&os.PathError{Op: "read", Path: "ckpt", Err: syscall.EIO}, FaultIO},
		{errors.Join(errHarness, errors.New("disk full")), FaultHarness},
	}
	for _, tt := range tests {
		if got := faultOf(tt.err); got != tt.want {
			t.Errorf("faultOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// An end the store cannot record (its disk is full) leaves the outcome
// what the store holds: the run still running under this process's claim,
// for the next harness to take over; Run says why.
func TestExecuteEndNotRecorded(t *testing.T) {
	dbDir := t.TempDir()
	if b, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dbDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", dbDir).Run() })
	st, err := store.Open(filepath.Join(dbDir, "harness.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	x, jobs := tinyJobs(t)
	out := t.TempDir()
	// The worker waits for the file go in its run directory ($0) before it
	// reports the run done.
	script := `read run; while [ ! -e "$0/go" ]; do sleep 0.01; done; echo '{"event":"end","status":"done"}'`
	type result struct {
		outcomes []Outcome
		err      error
	}
	done := make(chan result, 1)
	go func() {
		o, err := Run(context.Background(), st, x, jobs[:1], Options{
			Out: out, Workers: 1, Worker: []string{"sh", "-c", script},
			Provenance: Provenance{Host: "test"}, Progress: NewProgress(io.Discard, false),
		})
		done <- result{o, err}
	}()
	var dir string
	for deadline := time.Now().Add(10 * time.Second); dir == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(out, "tiny", "*-1", LogName))
		if len(m) == 1 {
			dir = filepath.Dir(m[0])
		}
	}
	if dir == "" {
		t.Fatal("the run never started")
	}
	fillDisk(t, filepath.Join(dbDir, "filler"))
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err == nil || !strings.Contains(res.err.Error(), "record the end of run 1") {
		t.Errorf("Run: %v, want the end not recorded", res.err)
	}
	o := res.outcomes[0]
	r, err := st.Run(1)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != store.StatusRunning || r.Status != o.Status {
		t.Errorf("outcome %s (%s), store %s; want both running", o.Status, o.Error, r.Status)
	}
}

// fillDisk writes path until its file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// A harness whose claim another harness took over kills its worker at its
// next heartbeat and writes nothing more for the run.
func TestExecuteLostClaim(t *testing.T) {
	heartbeatEvery = 20 * time.Millisecond
	t.Cleanup(func() { heartbeatEvery = HeartbeatEvery })
	path := filepath.Join(t.TempDir(), "harness.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	x, jobs := tinyJobs(t)
	script := `read run; echo '{"event":"metrics","step":10,"values":{"train/loss":1}}'; read ack; exec sleep 30`
	type result struct {
		outcomes []Outcome
		err      error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		o, err := Run(context.Background(), st, x, jobs[:1], Options{
			Out: t.TempDir(), Workers: 1, Worker: []string{"sh", "-c", script},
			Provenance: Provenance{Host: "test"}, Progress: NewProgress(io.Discard, false),
		})
		done <- result{o, err}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ms, _ := other.Metrics(1, ""); len(ms) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run logged nothing")
		}
	}
	c, err := other.ClaimAs(record(jobs[0]), store.ClaimOptions{Owner: store.Owner{Host: "thief", PID: 1},
		Gone: func(store.Run) bool { return true }})
	if err != nil || !c.TookOver {
		t.Fatalf("takeover: %+v, %v", c, err)
	}
	res := <-done
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run took %s: the worker was not killed", took)
	}
	if res.err != nil {
		t.Errorf("Run: %v", res.err)
	}
	r, err := other.Run(1)
	if err != nil {
		t.Fatal(err)
	}
	if o := res.outcomes[0]; o.Status != store.StatusRunning || r.Status != store.StatusRunning || r.Owner != c.Run.Owner {
		t.Errorf("outcome %s (%s); store %s under %+v, want running under the thief", o.Status, o.Error, r.Status, r.Owner)
	}
	if ms, _ := other.Metrics(1, ""); len(ms) != 1 {
		t.Errorf("%d metrics, want the 1 logged before the takeover", len(ms))
	}
}
