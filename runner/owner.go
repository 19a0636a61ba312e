package runner

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"harness/store"
)

// Lease is how long a run's owner on another host may go without a
// heartbeat before its run is taken over. An owner on this host is judged
// by its process instead, however old its heartbeat.
const Lease = 60 * time.Second

// HeartbeatEvery is how often the owner of a run refreshes the run's
// heartbeat in the store while it executes the run.
const HeartbeatEvery = 5 * time.Second

// bootIDPath holds the host's boot id, which changes at each boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// A Liveness tells whether the owner of a run is gone (see Gone).
type Liveness struct {
	Host string // this host's name, as Provenance.Host
	Boot string // this host's boot id; "" if unknown
	Now  func() time.Time
	// Alive reports whether the process pid of this host is still the
	// one whose start ProcessStart gave as start.
	Alive func(pid int, start string) bool
}

// NewLiveness returns the Liveness of this process: its host, boot, the
// wall clock and its processes.
func NewLiveness(host string) Liveness {
	return Liveness{Host: host, Boot: bootID(), Now: time.Now, Alive: processAlive}
}

// Gone reports whether the owner of run r, marked running, is provably
// gone. An owner on this host (same host name, same boot) is gone when its
// process is: no process has its pid, or the one that has it is a zombie
// or started at another time. An owner on another host, or of an earlier
// boot of this one, is gone when its heartbeat (or, without one, the run's
// start) is older than Lease.
func (l Liveness) Gone(r store.Run) bool {
	o := r.Owner
	if o.Host == l.Host && o.PID > 0 && bootOf(o.Start) == l.Boot {
		return !l.Alive(o.PID, o.Start)
	}
	last := r.Heartbeat
	if last.IsZero() {
		last = r.StartedAt
	}
	return l.Now().Sub(last) > Lease
}

// Self is the owner that this process claims runs as.
func (l Liveness) Self() store.Owner {
	return store.Owner{Host: l.Host, PID: os.Getpid(), Start: ProcessStart(os.Getpid())}
}

// ProcessStart identifies the process pid of this host across pid reuse:
// the boot id and the process's start time in clock ticks since boot
// (field 22 of /proc/<pid>/stat), as "<boot>/<ticks>". Either part is
// empty where it cannot be read.
func ProcessStart(pid int) string {
	ticks, _, _ := procStat(pid)
	return bootID() + "/" + ticks
}

// bootOf is the boot id part of a ProcessStart.
func bootOf(start string) string {
	boot, _, _ := strings.Cut(start, "/")
	return boot
}

// processAlive reports whether the process pid is alive and is the one
// that ProcessStart described as start: kill(pid, 0) does not fail with
// ESRCH, /proc does not show it a zombie, and its start time, where both
// are known, is the recorded one.
func processAlive(pid int, start string) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	ticks, state, err := procStat(pid)
	if err != nil {
		return true // no /proc: kill's answer is all there is
	}
	if state == "Z" {
		return false
	}
	_, want, _ := strings.Cut(start, "/")
	return want == "" || ticks == want
}

// procStat reads the start time (in clock ticks since boot) and state of
// the process pid from /proc/<pid>/stat.
func procStat(pid int) (ticks, state string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", "", err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", "", fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(s[i+1:]) // fields 3 on
	if len(fields) < 20 {
		return "", "", fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	return fields[19], fields[0], nil
}

// bootID reads the host's boot id, "" if it cannot.
func bootID() string {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
