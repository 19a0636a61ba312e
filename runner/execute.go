package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"harness/store"
)

// LogName is the name in a run directory of the log its workers' standard
// error goes to.
const LogName = "log.txt"

// tailLines is how many of its log's last lines a failed run's error
// keeps.
const tailLines = 20

// execution is the parent's side of one worker process executing a run.
type execution struct {
	st       *store.Store
	job      *Job
	h        *holding
	dir      string
	marker   Marker
	slot     int
	threads  int
	progress Progress
	// provenance is the harness's, which a worker's code is compared with.
	provenance Provenance
	log        io.Writer // the run's log, once open
	rewound    bool      // metrics past the worker's starting point are deleted
	// noSpace is set when the run stopped on a full disk.
	noSpace bool
}

// execute runs the held run in a worker process started by the command
// line worker (the run directory appended), records its events, and
// finishes the run in the store. When ctx is done the worker is sent
// SIGINT, to checkpoint and stop; when kill is closed, SIGKILL. While the
// worker lives, the run's heartbeat is refreshed every HeartbeatEvery; if
// the claim is found lost (another harness took the run over), the worker
// is killed and nothing more is written for the run.
//
// A run fails only by its own fault: the error training returns, or a
// worker that breaks the protocol or exits without a word. A fault of the
// environment (a worker killed by a signal, a full disk, an I/O error, a
// store that cannot record) leaves it interrupted, to be resumed. The
// Outcome's status is always the run's status in the store.
func (e *execution) execute(ctx context.Context, worker []string, kill <-chan struct{}) (Outcome, error) {
	id := e.h.run.ID
	if err := prepareRunDir(e.dir, e.marker); err != nil {
		o, ferr := e.finishEnv(err, "")
		return o, errors.Join(err, ferr)
	}
	logf, err := os.OpenFile(filepath.Join(e.dir, LogName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return e.finishEnv(fmt.Errorf("open the run's log: %w", err), "")
	}
	defer logf.Close()
	e.log = logf
	fi, err := logf.Stat()
	if err != nil {
		return e.finishEnv(fmt.Errorf("open the run's log: %w", err), "")
	}
	logStart := fi.Size()
	fmt.Fprintf(logf, "=== %s harness %d on %s starts run %d (%s) on %s with %d threads\n",
		time.Now().UTC().Format(time.RFC3339), os.Getpid(), e.h.run.Host, id, e.job.Run.Name, e.h.run.Device, e.threads)
	if e.h.dirNote != "" {
		fmt.Fprintf(logf, "=== %s\n", e.h.dirNote)
		e.progress.Note(fmt.Sprintf("run %d (%s): %s", id, e.job.Run.Name, e.h.dirNote))
	}

	cmd := exec.Command(worker[0], append(worker[1:], e.dir)...)
	cmd.Env = append(os.Environ(),
		"GOMAXPROCS="+strconv.Itoa(e.threads),
		"OPENBLAS_NUM_THREADS="+strconv.Itoa(e.threads),
		ProtocolEnv+"="+strconv.Itoa(Protocol))
	cmd.Stderr = logf
	// The worker dies with the harness, whose claim it executes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return e.finishEnv(fmt.Errorf("start the worker: %w", err), "")
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return e.finishEnv(fmt.Errorf("start the worker: %w", err), "")
	}
	if err := cmd.Start(); err != nil {
		return e.finishEnv(fmt.Errorf("start the worker: %w", err), "")
	}
	e.progress.Started(e.slot, Started{ID: id, Name: e.job.Run.Name, Steps: e.job.Run.Spec.Train.Steps,
		EvalEvery: e.job.Run.Spec.Train.EvalEvery, Device: e.h.run.Device, Stale: e.h.stale,
		Attempt: e.h.run.Attempts, Spent: e.h.run.Spent})

	exited := make(chan struct{})
	lost := make(chan struct{})
	go e.heartbeat(lost, exited)
	go signalWorker(ctx, kill, lost, cmd.Process, exited)
	end, protoErr := e.converse(stdin, stdout)
	if protoErr != nil {
		cmd.Process.Kill()
	}
	stdin.Close()
	io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	close(exited)

	select {
	case <-lost:
		return e.lost()
	default:
	}
	logTail := func() string { return tail(logf.Name(), logStart) }
	if end != nil {
		switch end.Status {
		case store.StatusDone, store.StatusInterrupted:
			return e.finish(end.Status, "", "")
		case store.StatusFailed:
			if end.Fault == "" {
				return e.finish(store.StatusFailed, end.Error, logTail())
			}
			e.noSpace = end.Fault == FaultNoSpace
			return e.finish(store.StatusInterrupted, fmt.Sprintf("stopped by the environment (%s): %s", end.Fault, end.Error), logTail())
		}
		protoErr = fmt.Errorf("the run ended with unknown status %q: %s", end.Status, end.Error)
	}
	switch {
	case protoErr != nil:
		return e.finish(store.StatusFailed, fmt.Sprintf("worker: %v", protoErr), logTail())
	case ctx.Err() != nil:
		return e.finish(store.StatusInterrupted, "", "")
	}
	if sig, ok := signalOf(waitErr); ok {
		return e.finish(store.StatusInterrupted, fmt.Sprintf("the worker was killed by signal %d (%v)", int(sig), sig), logTail())
	}
	how := "exit status 0"
	if waitErr != nil {
		how = waitErr.Error()
	}
	return e.finish(store.StatusFailed, fmt.Sprintf("the worker stopped (%s) before reporting how the run ended", how), logTail())
}

// signalOf returns the signal that killed the process whose Wait returned
// err, if one did.
func signalOf(err error) (syscall.Signal, bool) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

// heartbeatEvery is HeartbeatEvery, shortened by tests.
var heartbeatEvery = HeartbeatEvery

// heartbeat refreshes the run's heartbeat every HeartbeatEvery until
// exited is closed. It closes lost if the store says the claim is lost.
// Other errors (a busy or full store) are retried at the next beat: the
// owner is judged by its process on this host, and the Lease is many beats
// long.
func (e *execution) heartbeat(lost chan<- struct{}, exited <-chan struct{}) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-exited:
			return
		case <-t.C:
		}
		if err := e.h.held.Heartbeat(); errors.Is(err, store.ErrNotOwner) {
			close(lost)
			return
		}
	}
}

// signalWorker sends the worker SIGINT when ctx is done and SIGKILL when
// kill or lost is closed, until the worker has exited.
func signalWorker(ctx context.Context, kill, lost <-chan struct{}, p *os.Process, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	case <-lost:
		p.Kill()
		return
	case <-ctx.Done():
		p.Signal(syscall.SIGINT)
	}
	select {
	case <-exited:
	case <-lost:
		p.Kill()
	case <-kill:
		p.Kill()
	}
}

// converse sends the worker its run, then records each event the worker
// sends and acknowledges it, until the worker's last event, which it
// returns; nil if the worker ended without one. The error says how the
// worker broke the protocol.
func (e *execution) converse(stdin io.Writer, stdout io.Reader) (*Event, error) {
	if _, err := io.WriteString(stdin, e.job.JSON+"\n"); err != nil {
		return nil, nil // the worker is gone; its exit says why
	}
	r := bufio.NewReader(stdout)
	acks := json.NewEncoder(stdin)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			return nil, nil
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("event %q: %w", strings.TrimSpace(string(line)), err)
		}
		if ev.Event == EventEnd {
			return &ev, nil
		}
		var ack Ack
		if err := e.record(ev); err != nil {
			ack.Error = err.Error()
		}
		if err := acks.Encode(ack); err != nil {
			return nil, nil
		}
	}
}

// record writes an event of the worker to the store.
func (e *execution) record(ev Event) error {
	id, held := e.h.run.ID, e.h.held
	switch ev.Event {
	case EventResumed:
		if err := held.DeleteMetricsAfter(int64(ev.Step)); err != nil {
			return err
		}
		e.rewound = true
		e.progress.Resumed(e.slot, ev.Step)
	case EventMetrics:
		if !e.rewound {
			// The worker starts afresh: what an earlier attempt that never
			// checkpointed logged is void.
			if err := held.DeleteMetricsAfter(-1); err != nil {
				return err
			}
			e.rewound = true
		}
		ms := make([]store.Metric, 0, len(ev.Values))
		for k, v := range ev.Values {
			if math.IsNaN(float64(v)) {
				e.progress.Note(fmt.Sprintf("run %d (%s): %s is NaN at step %d; the store keeps no NaN", id, e.job.Run.Name, k, ev.Step))
				continue
			}
			ms = append(ms, store.Metric{Step: int64(ev.Step), Key: k, Value: float64(v)})
		}
		if err := held.LogMetrics(ms); err != nil {
			return err
		}
		if loss, ok := ev.Values["train/loss"]; ok {
			e.progress.Logged(e.slot, ev.Step, float64(loss))
		}
	case EventArtifact:
		return held.AddArtifact(ev.Kind, ev.Path)
	case EventWorker:
		return e.worker(ev)
	case EventEvaluating:
		e.progress.Evaluating(e.slot, ev.Step)
	case EventEvaluated:
		e.progress.Evaluated(e.slot, ev.Step)
	default:
		return fmt.Errorf("unknown event %q", ev.Event)
	}
	return nil
}

// worker compares the code a worker says it runs with this process's, and
// warns, on the screen and in the run's log, when the two differ: the
// harness binary was replaced since this process started (workers execute
// the binary on disk), and the run trains with code other than the one
// the store records for it.
func (e *execution) worker(ev Event) error {
	p := e.provenance
	differs := ev.Build != p.Build
	if ev.Build == "" || p.Build == "" {
		differs = ev.Version != p.CodeVersion
	}
	if !differs {
		return nil
	}
	v := ev.Version
	if v == p.CodeVersion {
		v += ", another build than its harness's"
	}
	msg := fmt.Sprintf("run %d (%s): warning: its worker runs another build of the harness (code version %s, build %s) than this harness (code version %s, build %s): the binary was replaced since the harness started; the run is recorded with code version %q",
		e.h.run.ID, e.job.Run.Name, ev.Version, ev.Build, p.CodeVersion, p.Build, v)
	if e.log != nil {
		fmt.Fprintln(e.log, msg)
	}
	e.progress.Note(msg)
	return e.h.held.SetCodeVersion(v)
}

// finish records how the run ended, appending the log's last lines to the
// error of a failed or interrupted run. If the store cannot record it, the
// outcome is the run as the store still has it, and the error says why.
func (e *execution) finish(status, msg, logTail string) (Outcome, error) {
	if logTail != "" {
		msg += "\n--- last lines of " + filepath.Join(e.dir, LogName) + " ---\n" + logTail
	}
	o := Outcome{Job: e.job, RunID: e.h.run.ID, Status: status, Executed: true, Error: msg}
	err := e.h.held.Finish(status, msg)
	if errors.Is(err, store.ErrNotOwner) {
		return e.lost()
	}
	if err != nil {
		// The run is still running under this process's claim, which ends
		// with the process: the next harness takes it over.
		o.Status = store.StatusRunning
		o.Error = fmt.Sprintf("could not record that the run ended %s: %v", status, err)
		e.progress.Ended(e.slot, o)
		return o, fmt.Errorf("record the end of run %d: %w", e.h.run.ID, err)
	}
	e.progress.Ended(e.slot, o)
	return o, nil
}

// finishEnv ends a run that the environment stopped before it started
// (the run directory, the log, the worker's process): interrupted, with
// err as its error. A full disk stops the scheduling of new runs.
func (e *execution) finishEnv(err error, logTail string) (Outcome, error) {
	e.noSpace = errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
	return e.finish(store.StatusInterrupted, err.Error(), logTail)
}

// lost is the outcome of a run whose claim another harness took over: the
// run as the store has it, with nothing written by this process.
func (e *execution) lost() (Outcome, error) {
	o := Outcome{Job: e.job, RunID: e.h.run.ID, Executed: true, Status: store.StatusRunning,
		Error: "taken over by another harness"}
	if r, err := e.st.Run(e.h.run.ID); err == nil {
		o.Status = r.Status
	}
	e.progress.Note(fmt.Sprintf("run %d (%s): its claim was lost, the run taken over by another harness; this harness no longer writes it",
		e.h.run.ID, e.job.Run.Name))
	return o, nil
}

// tail returns the last lines of the file at path from offset on.
func tail(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > tailLines {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
