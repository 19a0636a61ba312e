package runner

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"harness/store"
)

// fakeLiveness is a Liveness on host "here" with a fake clock and a fake
// set of live processes.
type fakeLiveness struct {
	now   time.Time
	alive map[int]bool
}

func (f *fakeLiveness) liveness() Liveness {
	return Liveness{Host: "here", Boot: bootID(), Now: func() time.Time { return f.now },
		Alive: func(p int, start string) bool { return f.alive[p] }}
}

func TestAcquire(t *testing.T) {
	st := openStore(t)
	_, jobs := tinyJobs(t)
	rec := record(jobs[0])
	fake := &fakeLiveness{now: time.Now(), alive: map[int]bool{}}
	live := fake.liveness()

	h, _, err := acquire(st, rec, false, live, "/out", "0123456789")
	if err != nil || h == nil {
		t.Fatalf("a new run: holding %v, error %v", h, err)
	}
	if h.run.Status != store.StatusRunning || h.stale || h.run.Owner.Host != "here" || h.run.Owner.PID != os.Getpid() {
		t.Errorf("a new run: %s, stale %v, owner %+v", h.run.Status, h.stale, h.run.Owner)
	}
	id := h.run.ID
	pid := os.Getpid()

	// While its owner lives, the run is its owner's.
	fake.alive[pid] = true
	h2, run, err := acquire(st, rec, false, live, "/out", "0123456789")
	if err != nil || h2 != nil || run.Status != store.StatusRunning || run.ID != id {
		t.Fatalf("a run whose owner lives: holding %v, run %+v, error %v", h2, run, err)
	}

	// The owner dies without a word: the run is taken over, and the dead
	// owner's claim can write nothing more.
	fake.alive[pid] = false
	h2, _, err = acquire(st, rec, false, live, "/out", "0123456789")
	if err != nil || h2 == nil {
		t.Fatalf("a run whose owner died: holding %v, error %v", h2, err)
	}
	if !h2.stale || h2.run.ID != id || h2.previous != h.run.Owner || h2.run.Owner.Token == h.run.Owner.Token {
		t.Errorf("a run whose owner died: %+v, stale %v, previous %+v", h2.run, h2.stale, h2.previous)
	}
	if err := h.held.Heartbeat(); err == nil {
		t.Error("the dead owner's heartbeat was recorded")
	}

	if err := h2.held.Finish(store.StatusFailed, "step 3: the loss diverged to NaN"); err != nil {
		t.Fatal(err)
	}
	if h, run, err := acquire(st, rec, false, live, "/out", "0123456789"); err != nil || h != nil || run.Status != store.StatusFailed {
		t.Errorf("a failed run, not retried: holding %v, run %+v, error %v", h, run, err)
	}
	h, _, err = acquire(st, rec, true, live, "/out", "0123456789")
	if err != nil || h == nil || h.stale {
		t.Fatalf("a failed run, retried: holding %v, error %v", h, err)
	}
	if err := h.held.Finish(store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if h, run, err := acquire(st, rec, true, live, "/out", "0123456789"); err != nil || h != nil || run.Status != store.StatusDone {
		t.Errorf("a done run: holding %v, run %+v, error %v", h, run, err)
	}
}

// An owner on another host is judged by its heartbeat: the run is taken
// over only once the heartbeat is older than the Lease.
func TestAcquireOtherHost(t *testing.T) {
	st := openStore(t)
	_, jobs := tinyJobs(t)
	rec := record(jobs[0])
	other := &fakeLiveness{now: time.Now(), alive: map[int]bool{}}
	there := other.liveness()
	there.Host = "there"
	h, _, err := acquire(st, rec, false, there, "/out", "0123456789")
	if err != nil || h == nil {
		t.Fatal(h, err)
	}
	fake := &fakeLiveness{alive: map[int]bool{}} // no process of "there" is alive here
	live := fake.liveness()
	for _, tt := range []struct {
		age   time.Duration
		taken bool
	}{
		{0, false},
		{Lease / 2, false},
		{Lease - time.Second, false},
		{Lease + time.Second, true},
	} {
		fake.now = h.run.Heartbeat.Add(tt.age)
		got, run, err := acquire(st, rec, false, live, "/out", "0123456789")
		if err != nil || (got != nil) != tt.taken {
			t.Fatalf("heartbeat %s old: holding %v, run %+v, error %v; want taken %v", tt.age, got, run, err, tt.taken)
		}
		if got != nil && (!got.stale || got.previous.Host != "there") {
			t.Errorf("taken over: %+v", got)
		}
	}
}

// The same host name on another boot is judged as another host.
func TestLivenessGone(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	live := Liveness{Host: "here", Boot: "b2", Now: func() time.Time { return now },
		Alive: func(pid int, start string) bool { return pid == 7 }}
	fresh, old := now.Add(-time.Second), now.Add(-2*Lease)
	tests := []struct {
		name      string
		owner     store.Owner
		heartbeat time.Time
		gone      bool
	}{
		{"this host, alive, old heartbeat", store.Owner{Host: "here", PID: 7, Start: "b2/100"}, old, false},
		{"this host, dead, fresh heartbeat", store.Owner{Host: "here", PID: 8, Start: "b2/100"}, fresh, true},
		{"earlier boot, fresh heartbeat", store.Owner{Host: "here", PID: 8, Start: "b1/100"}, fresh, false},
		{"earlier boot, old heartbeat", store.Owner{Host: "here", PID: 7, Start: "b1/100"}, old, true},
		{"other host, fresh heartbeat", store.Owner{Host: "there", PID: 8, Start: "b2/100"}, fresh, false},
		{"other host, old heartbeat", store.Owner{Host: "there", PID: 7, Start: "b2/100"}, old, true},
		{"no owner (schema 1), old start", store.Owner{}, time.Time{}, true},
	}
	for _, tt := range tests {
		r := store.Run{Status: store.StatusRunning, Owner: tt.owner, Heartbeat: tt.heartbeat, StartedAt: old}
		if got := live.Gone(r); got != tt.gone {
			t.Errorf("%s: gone %v, want %v", tt.name, got, tt.gone)
		}
	}
}

// processAlive tells a live process from a dead one, a zombie and a pid
// reused by a process started at another time.
func TestProcessAlive(t *testing.T) {
	self := os.Getpid()
	start := ProcessStart(self)
	if !strings.Contains(start, "/") || strings.HasSuffix(start, "/") {
		t.Skipf("no /proc start time here: %q", start)
	}
	if !processAlive(self, start) {
		t.Error("this process is not alive")
	}
	boot, _, _ := strings.Cut(start, "/")
	if processAlive(self, boot+"/1") {
		t.Error("this process, recorded with another start time (a reused pid), is alive")
	}

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if processAlive(dead.Process.Pid, "") {
		t.Error("a process that exited and was reaped is alive")
	}

	zombie := exec.Command("sleep", "60")
	if err := zombie.Start(); err != nil {
		t.Fatal(err)
	}
	zstart := ProcessStart(zombie.Process.Pid)
	if !processAlive(zombie.Process.Pid, zstart) {
		t.Error("a sleeping child is not alive")
	}
	zombie.Process.Signal(syscall.SIGKILL)
	deadline := time.Now().Add(5 * time.Second)
	for processAlive(zombie.Process.Pid, zstart) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if processAlive(zombie.Process.Pid, zstart) {
		t.Error("a killed, unreaped child (a zombie) is alive")
	}
	zombie.Wait()
}
