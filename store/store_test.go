package store

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// newStore opens a store in a fresh temporary directory and returns it with
// its path.
func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "harness.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// testRun returns the i'th run of experiment "ablation".
func testRun(i int) Run {
	return Run{
		Experiment:      "ablation",
		Name:            fmt.Sprintf("crate-mae-s%d", i),
		ConfigJSON:      fmt.Sprintf(`{"model":"crate-mae","seed":%d}`, i),
		ConfigHash:      fmt.Sprintf("hash%d", i),
		Seed:            int64(i),
		Device:          "cuda:0",
		ParamsTotal:     1000,
		ParamsTrainable: 900,
		Host:            "node1",
		CodeVersion:     "abc123",
		Command:         "harness run ablation.toml",
	}
}

// claimNew claims a new run and fails the test unless it is claimed.
func claimNew(t *testing.T, s *Store, r Run) Run {
	t.Helper()
	got, claimed, err := s.Claim(r, false)
	if err != nil {
		t.Fatal(err)
	}
	if !claimed {
		t.Fatalf("Claim(%s) of a new run: not claimed", r.Name)
	}
	return got
}

// setStatus sets a run's status directly, as another process might have.
func setStatus(t *testing.T, s *Store, id int64, status string) {
	t.Helper()
	if _, err := s.db.Exec(`UPDATE runs SET status = ? WHERE id = ?`, status, id); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenTwice(t *testing.T) {
	s, path := newStore(t)
	r := claimNew(t, s, testRun(1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if n := count(t, s, `SELECT count(*) FROM schema_migrations`); n != len(migrations) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(migrations))
		}
		got, err := s.Run(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != r {
			t.Errorf("after reopen Run(%d) = %+v, want %+v", r.ID, got, r)
		}
		var mode string
		if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	tests := []struct {
		name string
		open func(string) (*Store, error)
	}{
		{"Open", Open},
		{"OpenReadOnly", OpenReadOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, path := newStore(t)
			newer := len(migrations) + 1
			if _, err := s.db.Exec(`INSERT INTO schema_migrations VALUES (?, '2030-01-01T00:00:00.000Z')`, newer); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s2, err := tt.open(path)
			if err == nil {
				s2.Close()
				t.Fatalf("%s of a store with schema version %d succeeded", tt.name, newer)
			}
			for _, v := range []int{newer, len(migrations)} {
				if !strings.Contains(err.Error(), "version "+strconv.Itoa(v)) {
					t.Errorf("error %q does not name version %d", err, v)
				}
			}
		})
	}
}

func TestOpenReadOnly(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing.db")
		s, err := OpenReadOnly(path)
		if err == nil {
			s.Close()
			t.Fatal("OpenReadOnly of a missing file succeeded")
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenReadOnly created %s", path)
		}
	})
	t.Run("not a store", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := OpenReadOnly(path)
		if err == nil {
			s.Close()
			t.Fatal("OpenReadOnly of an empty file succeeded")
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
			t.Errorf("OpenReadOnly changed the empty file: %v, %v", fi, err)
		}
	})
	for _, writerOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("existing/writerOpen=%v", writerOpen), func(t *testing.T) {
			s, path := newStore(t)
			r := claimNew(t, s, testRun(1))
			if err := s.LogMetrics(r.ID, []Metric{{Step: 1, Key: "loss", Value: 0.5}}); err != nil {
				t.Fatal(err)
			}
			if !writerOpen {
				s.Close() // the writer is gone: no -wal or -shm file is left
			}
			ro, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			runs, err := ro.Runs(Filter{})
			if err != nil || len(runs) != 1 || runs[0] != r {
				t.Errorf("Runs = %+v, %v; want [%+v]", runs, err, r)
			}
			if writerOpen {
				if err := s.LogMetrics(r.ID, []Metric{{Step: 2, Key: "loss", Value: 0.4}}); err != nil {
					t.Fatal(err)
				}
			}
			want := 1
			if writerOpen {
				want = 2
			}
			if ms, err := ro.Metrics(r.ID, ""); err != nil || len(ms) != want {
				t.Errorf("Metrics = %v, %v; want %d metrics", ms, err, want)
			}
			if err := ro.PutExperiment("x", "", ""); err == nil {
				t.Error("PutExperiment on a read-only store succeeded")
			}
		})
	}
}

func TestClaim(t *testing.T) {
	tests := []struct {
		before      string // status before the claim; "" for no run
		retryFailed bool
		wantClaimed bool
		wantStatus  string
	}{
		{"", false, true, StatusRunning},
		{StatusPending, false, true, StatusRunning},
		{StatusInterrupted, false, true, StatusRunning},
		{StatusRunning, false, false, StatusRunning},
		{StatusRunning, true, false, StatusRunning},
		{StatusDone, false, false, StatusDone},
		{StatusDone, true, false, StatusDone},
		{StatusFailed, false, false, StatusFailed},
		{StatusFailed, true, true, StatusRunning},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/retry=%v", tt.before, tt.retryFailed), func(t *testing.T) {
			s, _ := newStore(t)
			r := testRun(1)
			if tt.before != "" {
				first := claimNew(t, s, r)
				if err := s.Finish(first.ID, StatusFailed, "diverged"); err != nil {
					t.Fatal(err)
				}
				setStatus(t, s, first.ID, tt.before)
			}
			r.Device, r.Host = "cuda:1", "node2"
			start := time.Now().Add(-time.Second)
			got, claimed, err := s.Claim(r, tt.retryFailed)
			if err != nil {
				t.Fatal(err)
			}
			if claimed != tt.wantClaimed || got.Status != tt.wantStatus {
				t.Fatalf("Claim = (status %s, claimed %v), want (%s, %v)",
					got.Status, claimed, tt.wantStatus, tt.wantClaimed)
			}
			if stored, err := s.Run(got.ID); err != nil || stored != got {
				t.Errorf("stored run = %+v, %v; Claim returned %+v", stored, err, got)
			}
			if n := count(t, s, `SELECT count(*) FROM runs`); n != 1 {
				t.Errorf("%d runs stored, want 1", n)
			}
			if !claimed {
				if got.Device != "cuda:0" {
					t.Errorf("unclaimed run's device changed to %s", got.Device)
				}
				return
			}
			if got.Device != "cuda:1" || got.Host != "node2" || got.Error != "" ||
				!got.FinishedAt.IsZero() || got.StartedAt.Before(start) {
				t.Errorf("claimed run = %+v, want device cuda:1, host node2, started now, no error or finish", got)
			}
		})
	}
}

func TestClaimConcurrentHandles(t *testing.T) {
	const handles, runs = 4, 20
	path := filepath.Join(t.TempDir(), "harness.db")
	stores := make([]*Store, handles)
	errs := make([]error, handles)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	wins := make([][]int, handles)
	for h, s := range stores {
		wg.Go(func() {
			for i := range runs {
				_, claimed, err := s.Claim(testRun(i), false)
				if err != nil {
					errs[h] = err
					return
				}
				if claimed {
					wins[h] = append(wins[h], i)
				}
			}
		})
	}
	wg.Wait()
	checkOneWinnerEach(t, errors.Join(errs...), slices.Concat(wins...), runs)
}

// checkOneWinnerEach checks that each of runs runs was claimed exactly once.
func checkOneWinnerEach(t *testing.T, err error, wins []int, runs int) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(wins)
	want := make([]int, runs)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(wins, want) {
		t.Errorf("claimed runs = %v, want each of 0..%d once", wins, runs-1)
	}
}

// Environment variables of the claiming helper process.
const (
	helperPathEnv  = "STORE_TEST_CLAIM_DB"
	helperStartEnv = "STORE_TEST_CLAIM_START"
	helperRuns     = 10
)

// TestClaimHelperProcess is not a test: run by TestClaimProcesses with
// helperPathEnv set, it claims the test runs and prints those it won.
func TestClaimHelperProcess(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	if path == "" {
		return
	}
	start, err := strconv.ParseInt(os.Getenv(helperStartEnv), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(0, start)))
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range helperRuns {
		_, claimed, err := s.Claim(testRun(i), false)
		if err != nil {
			t.Fatal(err)
		}
		if claimed {
			fmt.Printf("claimed %d\n", i)
		}
	}
}

func TestClaimProcesses(t *testing.T) {
	const procs = 4
	path := filepath.Join(t.TempDir(), "harness.db")
	start := strconv.FormatInt(time.Now().Add(300*time.Millisecond).UnixNano(), 10)
	cmds := make([]*exec.Cmd, procs)
	outs := make([]strings.Builder, procs)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestClaimHelperProcess$")
		cmd.Env = append(os.Environ(), helperPathEnv+"="+path, helperStartEnv+"="+start)
		cmd.Stdout = &outs[i]
		cmd.Stderr = &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	var wins []int
	var errs []error
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("helper %d: %v\n%s", i, err, outs[i].String()))
			continue
		}
		for line := range strings.Lines(outs[i].String()) {
			if n, ok := strings.CutPrefix(strings.TrimSpace(line), "claimed "); ok {
				run, err := strconv.Atoi(n)
				if err != nil {
					t.Fatalf("helper %d: bad line %q", i, line)
				}
				wins = append(wins, run)
			}
		}
	}
	checkOneWinnerEach(t, errors.Join(errs...), wins, helperRuns)
}

func TestFinishAndMarkInterrupted(t *testing.T) {
	s, _ := newStore(t)
	running := claimNew(t, s, testRun(1))
	done := claimNew(t, s, testRun(2))
	if err := s.Finish(done.ID, StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkInterrupted(running.ID, done.ID); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{running.ID: StatusInterrupted, done.ID: StatusDone} {
		r, err := s.Run(id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want || r.FinishedAt.IsZero() {
			t.Errorf("run %d: status %s, finished %v; want %s, finished", id, r.Status, r.FinishedAt, want)
		}
	}

	tests := []struct {
		id       int64
		status   string
		wantErr  bool
		notFound bool
	}{
		{running.ID, StatusRunning, true, false},
		{running.ID, "bogus", true, false},
		{999, StatusDone, true, true},
		{running.ID, StatusFailed, false, false},
	}
	for _, tt := range tests {
		err := s.Finish(tt.id, tt.status, "boom")
		if (err != nil) != tt.wantErr || errors.Is(err, ErrNotFound) != tt.notFound {
			t.Errorf("Finish(%d, %q) = %v, want error %v, not found %v", tt.id, tt.status, err, tt.wantErr, tt.notFound)
		}
	}
	if r, _ := s.Run(running.ID); r.Status != StatusFailed || r.Error != "boom" {
		t.Errorf("after Finish: status %s, error %q; want failed, boom", r.Status, r.Error)
	}
}

func TestRunLookups(t *testing.T) {
	s, _ := newStore(t)
	r1 := claimNew(t, s, testRun(1))
	r2 := claimNew(t, s, testRun(2))
	changed := testRun(1) // same name, edited configuration
	changed.ConfigHash = "hash1-edited"
	r3 := claimNew(t, s, changed)
	other := testRun(4)
	other.Experiment = "baseline"
	r4 := claimNew(t, s, other)
	if err := s.Finish(r2.ID, StatusDone, ""); err != nil {
		t.Fatal(err)
	}

	filters := []struct {
		f    Filter
		want []int64
	}{
		{Filter{}, []int64{r1.ID, r2.ID, r3.ID, r4.ID}},
		{Filter{Experiment: "ablation"}, []int64{r1.ID, r2.ID, r3.ID}},
		{Filter{Status: StatusRunning}, []int64{r1.ID, r3.ID, r4.ID}},
		{Filter{Experiment: "ablation", Status: StatusDone}, []int64{r2.ID}},
		{Filter{Experiment: "none"}, nil},
	}
	for _, tt := range filters {
		runs, err := s.Runs(tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("Runs(%+v) = ids %v, want %v", tt.f, ids, tt.want)
		}
	}

	if r, err := s.RunByName("ablation", r1.Name); err != nil || r.ID != r3.ID {
		t.Errorf("RunByName(ablation, %s) = run %d, %v; want the newest, %d", r1.Name, r.ID, err, r3.ID)
	}
	if _, err := s.RunByName("ablation", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RunByName of a missing run: %v, want ErrNotFound", err)
	}
	if _, err := s.Run(999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Run(999): %v, want ErrNotFound", err)
	}
}

func TestLogMetricsUpsert(t *testing.T) {
	s, _ := newStore(t)
	r := claimNew(t, s, testRun(1))
	wall := time.Date(2025, 1, 31, 9, 30, 0, 123456000, time.UTC)
	first := []Metric{
		{Step: 1, Key: "loss", Value: 1.0, WallTime: wall},
		{Step: 1, Key: "lr", Value: 1e-3, WallTime: wall},
		{Step: 2, Key: "loss", Value: 0.8, WallTime: wall},
		{Step: 3, Key: "grad_norm", Value: math.Inf(1), WallTime: wall},
	}
	if err := s.LogMetrics(r.ID, first); err != nil {
		t.Fatal(err)
	}
	// A resumed run logs steps 2 and 3 again.
	later := wall.Add(time.Hour)
	again := []Metric{
		{Step: 2, Key: "loss", Value: 0.7, WallTime: later},
		{Step: 3, Key: "loss", Value: 0.6, WallTime: later},
	}
	if err := s.LogMetrics(r.ID, again); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM metrics WHERE run_id = ?`, r.ID); n != 5 {
		t.Errorf("%d metric rows, want 5", n)
	}

	tests := []struct {
		key  string
		want []Metric
	}{
		{"loss", []Metric{first[0], again[0], again[1]}},
		{"", []Metric{first[0], first[1], again[0], first[3], again[1]}},
		{"none", nil},
	}
	for _, tt := range tests {
		got, err := s.Metrics(r.ID, tt.key)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Metrics(%q) =\n%v\nwant\n%v", tt.key, got, tt.want)
		}
	}

	last, err := s.LastMetrics(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Metric{"loss": again[1], "lr": first[1], "grad_norm": first[3]}
	if len(last) != len(want) {
		t.Errorf("LastMetrics = %v, want %v", last, want)
	}
	for k, m := range want {
		if last[k] != m {
			t.Errorf("LastMetrics[%s] = %v, want %v", k, last[k], m)
		}
	}
}

func TestLogMetricsNaN(t *testing.T) {
	s, _ := newStore(t)
	r := claimNew(t, s, testRun(1))
	err := s.LogMetrics(r.ID, []Metric{
		{Step: 7, Key: "loss", Value: 0.5},
		{Step: 7, Key: "recon_loss", Value: math.NaN()},
	})
	if err == nil || !strings.Contains(err.Error(), "recon_loss") || !strings.Contains(err.Error(), "step 7") {
		t.Errorf("LogMetrics with NaN: %v, want an error naming recon_loss and step 7", err)
	}
	if n := count(t, s, `SELECT count(*) FROM metrics`); n != 0 {
		t.Errorf("%d metrics stored after a refused batch, want 0", n)
	}
}

func TestDeleteMetricsAfter(t *testing.T) {
	s, _ := newStore(t)
	r1 := claimNew(t, s, testRun(1))
	r2 := claimNew(t, s, testRun(2))
	var ms []Metric
	for step := range int64(10) {
		ms = append(ms, Metric{Step: step, Key: "loss", Value: float64(step)})
	}
	for _, id := range []int64{r1.ID, r2.ID} {
		if err := s.LogMetrics(id, ms); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteMetricsAfter(r1.ID, 4); err != nil {
		t.Fatal(err)
	}
	for id, wantMax := range map[int64]int64{r1.ID: 4, r2.ID: 9} {
		got, err := s.Metrics(id, "loss")
		if err != nil {
			t.Fatal(err)
		}
		if n := int64(len(got)); n != wantMax+1 || got[n-1].Step != wantMax {
			t.Errorf("run %d after DeleteMetricsAfter: %d metrics, want steps 0..%d", id, n, wantMax)
		}
	}
}

func TestExperimentsAndArtifacts(t *testing.T) {
	s, _ := newStore(t)
	if err := s.PutExperiment("ablation", "depth", "depth = [4, 8]"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutExperiment("ablation", "depth sweep", "depth = [4, 8, 12]"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutExperiment("baseline", "", ""); err != nil {
		t.Fatal(err)
	}
	exps, err := s.Experiments()
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 2 || exps[0].Name != "ablation" || exps[1].Name != "baseline" {
		t.Fatalf("Experiments = %+v, want ablation and baseline", exps)
	}
	if e := exps[0]; e.Description != "depth sweep" || e.TOML != "depth = [4, 8, 12]" ||
		e.CreatedAt.IsZero() || e.UpdatedAt.Before(e.CreatedAt) {
		t.Errorf("updated experiment = %+v", e)
	}

	r := claimNew(t, s, testRun(1))
	adds := []Artifact{
		{Kind: "checkpoint", Path: "out/r1/step100.ckpt"},
		{Kind: "recon_grid", Path: "out/r1/recon.png"},
		{Kind: "checkpoint", Path: "out/r1/step100.ckpt"}, // again: no effect
		{Kind: "checkpoint", Path: "out/r1/step200.ckpt"},
	}
	for _, a := range adds {
		if err := s.AddArtifact(r.ID, a.Kind, a.Path); err != nil {
			t.Fatal(err)
		}
	}
	arts, err := s.Artifacts(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, a := range arts {
		if a.CreatedAt.IsZero() {
			t.Errorf("artifact %s has no creation time", a.Path)
		}
		paths = append(paths, a.Kind+":"+a.Path)
	}
	want := []string{"checkpoint:out/r1/step100.ckpt", "recon_grid:out/r1/recon.png", "checkpoint:out/r1/step200.ckpt"}
	if !slices.Equal(paths, want) {
		t.Errorf("Artifacts = %v, want %v", paths, want)
	}
	if err := s.AddArtifact(999, "checkpoint", "x"); err == nil {
		t.Error("AddArtifact to a missing run succeeded")
	}
}

// TestFailedTransaction checks that a write failing midway leaves the data
// as it was.
func TestFailedTransaction(t *testing.T) {
	s, path := newStore(t)
	r := claimNew(t, s, testRun(1))
	prior := []Metric{{Step: 1, Key: "loss", Value: 1, WallTime: time.Unix(1700000000, 0).UTC()}}
	if err := s.LogMetrics(r.ID, prior); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		fail func() error
	}{
		{"metric with empty key", func() error {
			return s.LogMetrics(r.ID, []Metric{
				{Step: 1, Key: "loss", Value: 99},
				{Step: 2, Key: "loss", Value: 98},
				{Step: 2, Key: "", Value: 97},
			})
		}},
		{"metrics of a missing run", func() error {
			return s.LogMetrics(999, []Metric{{Step: 1, Key: "loss", Value: 1}})
		}},
		{"bad migration", func() error {
			defer func(m []string) { migrations = m }(migrations)
			migrations = append(slices.Clip(migrations),
				`CREATE TABLE extra (x); DELETE FROM metrics; SELECT * FROM no_such_table`)
			s2, err := Open(path)
			if err == nil {
				s2.Close()
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fail(); err == nil {
				t.Fatal("succeeded, want an error")
			}
			got, err := s.Metrics(r.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, prior) {
				t.Errorf("metrics = %v, want %v", got, prior)
			}
			if n := count(t, s, `SELECT count(*) FROM sqlite_master WHERE name = 'extra'`); n != 0 {
				t.Error("table of the failed migration exists")
			}
			if n := count(t, s, `SELECT max(version) FROM schema_migrations`); n != len(migrations) {
				t.Errorf("schema version %d, want %d", n, len(migrations))
			}
		})
	}
}

// TestSQLiteCLI checks that the public schema reads as documented in the
// sqlite3 command-line tool while the store is open.
func TestSQLiteCLI(t *testing.T) {
	cli, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 command-line tool not installed")
	}
	s, path := newStore(t)
	r := claimNew(t, s, testRun(1))
	if err := s.LogMetrics(r.ID, []Metric{{Step: 5, Key: "loss", Value: 0.25,
		WallTime: time.Date(2025, 1, 31, 9, 30, 0, 0, time.UTC)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddArtifact(r.ID, "checkpoint", "ck.pt"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutExperiment("ablation", "d", "x = 1"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		query, want string
	}{
		{`select id, status from runs`, "1|running"},
		{`select experiment, name, config_hash, seed, device, params_total, params_trainable,
			host, code_version, command, error, finished_at is null from runs`,
			"ablation|crate-mae-s1|hash1|1|cuda:0|1000|900|node1|abc123|harness run ablation.toml||1"},
		{`select julianday(started_at) > julianday('2020-01-01') from runs`, "1"},
		{`select run_id, step, key, value, datetime(wall_time, 'unixepoch') from metrics`,
			"1|5|loss|0.25|2025-01-31 09:30:00"},
		{`select run_id, kind, path, created_at like '____-__-__T__:__:__.___Z' from artifacts`,
			"1|checkpoint|ck.pt|1"},
		{`select name, description, toml_text, created_at = updated_at from experiments`, "ablation|d|x = 1|1"},
		{`select max(version) from schema_migrations`, strconv.Itoa(len(migrations))},
		{`select length(value), value glob '*[^0-9a-f]*' from meta where key = 'store_id'`, "32|0"},
		{`select run_dir from runs`, ""},
	}
	for _, tt := range tests {
		out, err := exec.Command(cli, path, tt.query).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %q: %v\n%s", tt.query, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tt.want {
			t.Errorf("sqlite3 %q = %q, want %q", tt.query, got, tt.want)
		}
	}
}

// A run running under an owner is taken over only when Gone says the owner
// is gone, and then under a new token: the old claim can write nothing
// more.
func TestClaimAsTakeover(t *testing.T) {
	owner := func(pid int) Owner { return Owner{Host: "node1", PID: pid, Start: "boot:1"} }
	tests := []struct {
		name      string
		gone      func(Run) bool
		takenOver bool
	}{
		{"no liveness check", nil, false},
		{"owner alive", func(Run) bool { return false }, false},
		{"owner gone", func(Run) bool { return true }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStore(t)
			first, err := s.ClaimAs(testRun(1), ClaimOptions{Owner: owner(10)})
			if err != nil || !first.Claimed || first.TookOver {
				t.Fatalf("first claim: %+v, %v", first, err)
			}
			if first.Run.Owner.PID != 10 || len(first.Run.Owner.Token) != 32 || first.Run.Heartbeat.IsZero() {
				t.Errorf("first claim's owner %+v, heartbeat %v", first.Run.Owner, first.Run.Heartbeat)
			}
			old := s.Held(first.Run.ID, first.Run.Owner.Token)
			if err := old.LogMetrics([]Metric{{Step: 1, Key: "loss", Value: 1}}); err != nil {
				t.Fatal(err)
			}
			var seen Run
			opt := ClaimOptions{Owner: owner(20)}
			if tt.gone != nil {
				opt.Gone = func(r Run) bool { seen = r; return tt.gone(r) }
			}
			second, err := s.ClaimAs(testRun(1), opt)
			if tt.gone != nil && seen.Owner != first.Run.Owner {
				t.Errorf("Gone saw owner %+v, want %+v", seen.Owner, first.Run.Owner)
			}
			if err != nil || second.Claimed != tt.takenOver || second.TookOver != tt.takenOver {
				t.Fatalf("second claim: %+v, %v", second, err)
			}
			if !tt.takenOver {
				if second.Run.Owner != first.Run.Owner {
					t.Errorf("an unclaimed run changed owner: %+v", second.Run.Owner)
				}
				if err := old.Heartbeat(); err != nil {
					t.Errorf("the owner's heartbeat: %v", err)
				}
				return
			}
			if second.Previous != first.Run.Owner || second.Run.Owner.PID != 20 || second.Run.Owner.Token == first.Run.Owner.Token {
				t.Errorf("takeover: previous %+v, owner %+v", second.Previous, second.Run.Owner)
			}
			writes := map[string]func() error{
				"heartbeat":   old.Heartbeat,
				"log metrics": func() error { return old.LogMetrics([]Metric{{Step: 2, Key: "loss", Value: 2}}) },
				"delete":      func() error { return old.DeleteMetricsAfter(-1) },
				"artifact":    func() error { return old.AddArtifact("checkpoint", "x") },
				"finish":      func() error { return old.Finish(StatusFailed, "lost") },
			}
			for name, write := range writes {
				if err := write(); !errors.Is(err, ErrNotOwner) {
					t.Errorf("%s by the claim taken over: %v, want ErrNotOwner", name, err)
				}
			}
			if n := count(t, s, `SELECT count(*) FROM metrics`); n != 1 {
				t.Errorf("%d metrics after the old claim's writes, want 1", n)
			}
			if n := count(t, s, `SELECT count(*) FROM artifacts`); n != 0 {
				t.Errorf("%d artifacts after the old claim's writes, want 0", n)
			}
			now := s.Held(second.Run.ID, second.Run.Owner.Token)
			if err := now.LogMetrics([]Metric{{Step: 2, Key: "loss", Value: 2}}); err != nil {
				t.Fatal(err)
			}
			if err := now.Finish(StatusDone, ""); err != nil {
				t.Fatal(err)
			}
			if err := now.Heartbeat(); !errors.Is(err, ErrNotOwner) {
				t.Errorf("heartbeat of a finished run: %v, want ErrNotOwner", err)
			}
			if r, _ := s.Run(second.Run.ID); r.Status != StatusDone {
				t.Errorf("status %s, want done", r.Status)
			}
		})
	}
}

// A heartbeat moves heartbeat_at on, so that a liveness check with a lease
// (here on a fake clock) sees a live owner until the heartbeats stop.
func TestHeartbeatLease(t *testing.T) {
	s, _ := newStore(t)
	const lease = time.Minute
	var now time.Time
	gone := func(r Run) bool { return now.Sub(r.Heartbeat) > lease }
	first, err := s.ClaimAs(testRun(1), ClaimOptions{Owner: Owner{Host: "a", PID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	now = first.Run.Heartbeat.Add(lease / 2)
	if c, err := s.ClaimAs(testRun(1), ClaimOptions{Owner: Owner{Host: "b", PID: 1}, Gone: gone}); err != nil || c.Claimed {
		t.Fatalf("within the lease: %+v, %v", c, err)
	}
	time.Sleep(5 * time.Millisecond)
	if err := s.Held(first.Run.ID, first.Run.Owner.Token).Heartbeat(); err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(first.Run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Heartbeat.After(first.Run.Heartbeat) {
		t.Errorf("heartbeat %v, not after the claim's %v", r.Heartbeat, first.Run.Heartbeat)
	}
	now = first.Run.Heartbeat.Add(lease + time.Millisecond)
	if c, err := s.ClaimAs(testRun(1), ClaimOptions{Owner: Owner{Host: "b", PID: 1}, Gone: gone}); err != nil || c.Claimed {
		t.Fatalf("past the claim's lease but within the heartbeat's: %+v, %v", c, err)
	}
	now = r.Heartbeat.Add(lease + time.Millisecond)
	c, err := s.ClaimAs(testRun(1), ClaimOptions{Owner: Owner{Host: "b", PID: 1}, Gone: gone})
	if err != nil || !c.Claimed || !c.TookOver || c.Run.Owner.Host != "b" {
		t.Fatalf("past the lease: %+v, %v", c, err)
	}
}

// Each store has an identity of its own, kept across openings; a store of
// schema version 1 gets one when migrated.
func TestStoreID(t *testing.T) {
	a, pathA := newStore(t)
	b, _ := newStore(t)
	idA, err := a.ID()
	if err != nil {
		t.Fatal(err)
	}
	idB, err := b.ID()
	if err != nil {
		t.Fatal(err)
	}
	if len(idA) != 32 || idA == idB {
		t.Errorf("identities %q and %q", idA, idB)
	}
	a.Close()
	again, err := Open(pathA)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if id, err := again.ID(); err != nil || id != idA {
		t.Errorf("reopened: %q, %v; want %q", id, err, idA)
	}

	// a version 1 store with a run in it
	old, err := Open(filepath.Join(t.TempDir(), "v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// (dropping what versions after 2 added first)
	for _, q := range []string{`DROP TRIGGER runs_deleted_id`, `DROP TRIGGER runs_fresh_id`, `DROP TABLE notes`, `DROP TABLE run_tags`, `DROP TABLE version_runs`, `DROP TABLE experiment_versions`,
		`DROP TABLE meta`, `DELETE FROM schema_migrations WHERE version > 1`} {
		if _, err := old.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"owner_host", "owner_pid", "owner_start", "owner_token", "heartbeat_at", "run_dir", "attempts", "spent_seconds"} {
		if _, err := old.db.Exec(`ALTER TABLE runs DROP COLUMN ` + c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := old.db.Exec(`INSERT INTO runs (experiment, name, config_json, config_hash, status) VALUES ('x', 'r', '{}', 'h', 'running')`); err != nil {
		t.Fatal(err)
	}
	if err := old.migrate(); err != nil {
		t.Fatal(err)
	}
	if id, err := old.ID(); err != nil || len(id) != 32 {
		t.Errorf("migrated store's identity %q, %v", id, err)
	}
	if r, err := old.Run(1); err != nil || r.Status != StatusRunning || r.Owner != (Owner{}) || !r.Heartbeat.IsZero() {
		t.Errorf("migrated run %+v, %v", r, err)
	}
}

// A run's attempts are counted, and the time of those that ended summed:
// to their finish, or to the last heartbeat of an owner taken over.
func TestAttemptsAndSpent(t *testing.T) {
	s, _ := newStore(t)
	owner := Owner{Host: "node1", PID: 10, Start: "boot:1"}
	c, err := s.ClaimAs(testRun(1), ClaimOptions{Owner: owner})
	if err != nil || c.Run.Attempts != 1 || c.Run.Spent != 0 {
		t.Fatalf("first claim: %+v, %v", c.Run, err)
	}
	id := c.Run.ID
	ago := func(col string, d time.Duration) {
		t.Helper()
		if _, err := s.db.Exec(`UPDATE runs SET `+col+` = ? WHERE id = ?`, formatTime(time.Now().Add(-d)), id); err != nil {
			t.Fatal(err)
		}
	}
	near := func(got, want time.Duration) bool { return got > want-time.Second && got < want+time.Second }
	ago("started_at", 10*time.Minute)
	if err := s.Held(id, c.Run.Owner.Token).Finish(StatusInterrupted, ""); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Run(id)
	if r.Attempts != 1 || !near(r.Spent, 10*time.Minute) {
		t.Errorf("after an attempt of 10 min: %d attempts, %v", r.Attempts, r.Spent)
	}
	c, err = s.ClaimAs(testRun(1), ClaimOptions{Owner: owner})
	if err != nil || c.Run.Attempts != 2 || !near(c.Run.Spent, 10*time.Minute) {
		t.Fatalf("second claim: %d attempts, %v, %v", c.Run.Attempts, c.Run.Spent, err)
	}
	// the second attempt's owner dies 5 min in, its last heartbeat 1 min
	// before: the third claim counts 4 min for it
	ago("started_at", 5*time.Minute)
	ago("heartbeat_at", time.Minute)
	c, err = s.ClaimAs(testRun(1), ClaimOptions{Owner: Owner{Host: "node1", PID: 20}, Gone: func(Run) bool { return true }})
	if err != nil || !c.TookOver || c.Run.Attempts != 3 || !near(c.Run.Spent, 14*time.Minute) {
		t.Fatalf("takeover: %d attempts, %v, %v", c.Run.Attempts, c.Run.Spent, err)
	}
	ago("started_at", 2*time.Minute)
	if err := s.MarkInterrupted(id); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Run(id); r.Attempts != 3 || !near(r.Spent, 16*time.Minute) {
		t.Errorf("marked interrupted: %d attempts, %v", r.Attempts, r.Spent)
	}
	// finishing a run no longer running adds nothing
	if err := s.Finish(id, StatusFailed, "x"); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Run(id); !near(r.Spent, 16*time.Minute) {
		t.Errorf("finished again: %v", r.Spent)
	}
}

// A claim records the directory opt.Dir gives, which is called with the
// directory the run's last claim recorded; a claim without Dir keeps it.
func TestClaimRecordsDir(t *testing.T) {
	s, _ := newStore(t)
	var seen []string
	dir := func(d string) func(Run) string {
		return func(r Run) string { seen = append(seen, r.Dir); return d }
	}
	steps := []struct {
		name string
		opt  ClaimOptions
		want string // the recorded directory after the claim
	}{
		{"first claim", ClaimOptions{Owner: Owner{Host: "a", PID: 1}, Dir: dir("/a/out/x/1")}, "/a/out/x/1"},
		{"claim elsewhere", ClaimOptions{Owner: Owner{Host: "b", PID: 2}, Dir: dir("/b/out/x/1")}, "/b/out/x/1"},
		{"claim without Dir", ClaimOptions{Owner: Owner{Host: "c", PID: 3}}, "/b/out/x/1"},
	}
	for _, st := range steps {
		c, err := s.ClaimAs(testRun(1), st.opt)
		if err != nil || !c.Claimed || c.Run.Dir != st.want {
			t.Fatalf("%s: %+v, %v; want claimed in %s", st.name, c, err, st.want)
		}
		if r, err := s.Run(c.Run.ID); err != nil || r.Dir != st.want {
			t.Fatalf("%s: stored directory %q, %v; want %s", st.name, r.Dir, err, st.want)
		}
		if err := s.Held(c.Run.ID, c.Run.Owner.Token).Finish(StatusInterrupted, ""); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"", "/a/out/x/1"}; !slices.Equal(seen, want) {
		t.Errorf("Dir saw the recorded directories %q, want %q", seen, want)
	}
}
