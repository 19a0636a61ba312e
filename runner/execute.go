package runner

import (
	"bufio"
	"context"
	"encoding/json"
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
	slot     int
	threads  int
	progress Progress
	rewound  bool // metrics past the worker's starting point are deleted
}

// execute runs the held run in a worker process started by the command
// line worker (the run directory appended), records its events, and
// finishes the run in the store. When ctx is done the worker is sent
// SIGINT, to checkpoint and stop; when kill is closed, SIGKILL. The
// run's lock is released on return, after the run is finished.
func (e *execution) execute(ctx context.Context, worker []string, kill <-chan struct{}) (Outcome, error) {
	defer e.h.lock.Close()
	id := e.h.run.ID
	logf, err := os.OpenFile(filepath.Join(e.dir, LogName), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return e.finish(store.StatusFailed, fmt.Sprintf("open the run's log: %v", err), "")
	}
	defer logf.Close()
	fi, err := logf.Stat()
	if err != nil {
		return e.finish(store.StatusFailed, fmt.Sprintf("open the run's log: %v", err), "")
	}
	logStart := fi.Size()
	fmt.Fprintf(logf, "=== %s harness %d on %s starts run %d (%s) on %s with %d threads\n",
		time.Now().UTC().Format(time.RFC3339), os.Getpid(), e.h.run.Host, id, e.job.Run.Name, e.h.run.Device, e.threads)

	cmd := exec.Command(worker[0], append(worker[1:], e.dir)...)
	cmd.Env = append(os.Environ(),
		"GOMAXPROCS="+strconv.Itoa(e.threads),
		"OPENBLAS_NUM_THREADS="+strconv.Itoa(e.threads))
	cmd.Stderr = logf
	cmd.ExtraFiles = []*os.File{e.h.lock} // the worker holds the lock as long as it lives
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return e.finish(store.StatusFailed, fmt.Sprintf("start the worker: %v", err), "")
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return e.finish(store.StatusFailed, fmt.Sprintf("start the worker: %v", err), "")
	}
	if err := cmd.Start(); err != nil {
		return e.finish(store.StatusFailed, fmt.Sprintf("start the worker: %v", err), "")
	}
	e.progress.Started(e.slot, Started{ID: id, Name: e.job.Run.Name, Steps: e.job.Run.Spec.Train.Steps,
		Device: e.h.run.Device, Stale: e.h.stale})

	exited := make(chan struct{})
	go signalWorker(ctx, kill, cmd.Process, exited)
	end, protoErr := e.converse(stdin, stdout)
	if protoErr != nil {
		cmd.Process.Kill()
	}
	stdin.Close()
	io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	close(exited)

	if end != nil {
		switch end.Status {
		case store.StatusDone:
			return e.finish(store.StatusDone, "", "")
		case store.StatusInterrupted:
			return e.finish(store.StatusInterrupted, "", "")
		case store.StatusFailed:
			return e.finish(store.StatusFailed, end.Error, tail(logf.Name(), logStart))
		}
		protoErr = fmt.Errorf("the run ended with unknown status %q: %s", end.Status, end.Error)
	}
	switch {
	case protoErr != nil:
		return e.finish(store.StatusFailed, fmt.Sprintf("worker: %v", protoErr), tail(logf.Name(), logStart))
	case ctx.Err() != nil:
		return e.finish(store.StatusInterrupted, "", "")
	}
	how := "exit status 0"
	if waitErr != nil {
		how = waitErr.Error()
	}
	return e.finish(store.StatusFailed, fmt.Sprintf("the worker stopped (%s) before reporting how the run ended", how), tail(logf.Name(), logStart))
}

// signalWorker sends the worker SIGINT when ctx is done and SIGKILL when
// kill is closed, until the worker has exited.
func signalWorker(ctx context.Context, kill <-chan struct{}, p *os.Process, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	case <-ctx.Done():
		p.Signal(syscall.SIGINT)
	}
	select {
	case <-exited:
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
	id := e.h.run.ID
	switch ev.Event {
	case EventResumed:
		if err := e.st.DeleteMetricsAfter(id, int64(ev.Step)); err != nil {
			return err
		}
		e.rewound = true
		e.progress.Resumed(e.slot, ev.Step)
	case EventMetrics:
		if !e.rewound {
			// The worker starts afresh: what an earlier attempt that never
			// checkpointed logged is void.
			if err := e.st.DeleteMetricsAfter(id, -1); err != nil {
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
		if err := e.st.LogMetrics(id, ms); err != nil {
			return err
		}
		if loss, ok := ev.Values["train/loss"]; ok {
			e.progress.Logged(e.slot, ev.Step, float64(loss))
		}
	case EventArtifact:
		return e.st.AddArtifact(id, ev.Kind, ev.Path)
	default:
		return fmt.Errorf("unknown event %q", ev.Event)
	}
	return nil
}

// finish records how the run ended, appending the log's last lines to the
// error of a failed run.
func (e *execution) finish(status, msg, logTail string) (Outcome, error) {
	if logTail != "" {
		msg += "\n--- last lines of " + filepath.Join(e.dir, LogName) + " ---\n" + logTail
	}
	o := Outcome{Job: e.job, RunID: e.h.run.ID, Status: status, Executed: true, Error: msg}
	e.progress.Ended(e.slot, o)
	if err := e.st.Finish(e.h.run.ID, status, msg); err != nil {
		return o, err
	}
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
