package runner

import (
	"path/filepath"
	"strconv"
	"testing"

	"harness/store"
)

func TestAcquire(t *testing.T) {
	st := openStore(t)
	_, jobs := tinyJobs(t)
	rec := record(jobs[0])
	out := t.TempDir()
	dirOf := func(id int64) string { return filepath.Join(out, strconv.FormatInt(id, 10)) }

	h, _, err := acquire(st, rec, false, dirOf)
	if err != nil || h == nil {
		t.Fatalf("a new run: holding %v, error %v", h, err)
	}
	if h.run.Status != store.StatusRunning || h.stale {
		t.Errorf("a new run: %s, stale %v", h.run.Status, h.stale)
	}
	id := h.run.ID

	// While the lock is held, the run is another process's.
	h2, run, err := acquire(st, rec, false, dirOf)
	if err != nil || h2 != nil || run.Status != store.StatusRunning || run.ID != id {
		t.Fatalf("a run held elsewhere: holding %v, run %+v, error %v", h2, run, err)
	}

	// The holder dies without a word: the run is stale.
	h.lock.Close()
	h, _, err = acquire(st, rec, false, dirOf)
	if err != nil || h == nil {
		t.Fatalf("a stale run: holding %v, error %v", h, err)
	}
	if !h.stale || h.run.ID != id || h.run.Status != store.StatusRunning {
		t.Errorf("a stale run: %+v, stale %v", h.run, h.stale)
	}

	if err := st.Finish(id, store.StatusFailed, "step 3: the loss diverged to NaN"); err != nil {
		t.Fatal(err)
	}
	h.lock.Close()
	if h, run, err := acquire(st, rec, false, dirOf); err != nil || h != nil || run.Status != store.StatusFailed {
		t.Errorf("a failed run, not retried: holding %v, run %+v, error %v", h, run, err)
	}
	h, _, err = acquire(st, rec, true, dirOf)
	if err != nil || h == nil || h.stale {
		t.Fatalf("a failed run, retried: holding %v, error %v", h, err)
	}
	if err := st.Finish(id, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	h.lock.Close()
	if h, run, err := acquire(st, rec, true, dirOf); err != nil || h != nil || run.Status != store.StatusDone {
		t.Errorf("a done run: holding %v, run %+v, error %v", h, run, err)
	}
}

// A run this process claims while another process, finding it stale,
// holds its lock, is left to that process.
func TestAcquireLeavesTakenOverRun(t *testing.T) {
	st := openStore(t)
	_, jobs := tinyJobs(t)
	rec := record(jobs[0])
	out := t.TempDir()
	dirOf := func(id int64) string { return filepath.Join(out, strconv.FormatInt(id, 10)) }
	// the run will get id 1; another process holds its lock
	other, err := tryLock(dirOf(1))
	if err != nil || other == nil {
		t.Fatalf("lock: %v", err)
	}
	defer other.Close()
	h, run, err := acquire(st, rec, false, dirOf)
	if err != nil || h != nil || run.ID != 1 || run.Status != store.StatusRunning {
		t.Errorf("holding %v, run %+v, error %v", h, run, err)
	}
}
