package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"harness/ablations"
	"harness/store"
	"harness/training"
)

// Serve executes one run as a worker process, in dir, speaking the
// protocol on standard input and output (see the package documentation).
// The protocol keeps a copy of standard output for itself and points
// standard output at standard error, so that nothing else the process
// prints can break the stream of events. Serve returns an error only when
// it could not tell the parent how the run ended.
func Serve(ctx context.Context, dir string) error {
	fd, err := syscall.Dup(1)
	if err != nil {
		return fmt.Errorf("worker: duplicate standard output: %w", err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Dup3(2, 1, 0); err != nil {
		return fmt.Errorf("worker: point standard output at standard error: %w", err)
	}
	events := os.NewFile(uintptr(fd), "events")
	defer events.Close()
	return Work(ctx, dir, os.Stdin, events, os.Stderr)
}

// Work reads a run (ablations.Run as JSON) from in, trains it in dir with
// training.Train and sends its events to out, waiting for an Ack from in
// after each but the last. It writes what happens to log. When ctx is
// cancelled, training checkpoints and the run ends interrupted. Work
// returns an error only when it could not report the run's end.
func Work(ctx context.Context, dir string, in io.Reader, out, log io.Writer) error {
	dec := json.NewDecoder(in)
	var run ablations.Run
	if err := dec.Decode(&run); err != nil {
		return fmt.Errorf("worker: read the run: %w", err)
	}
	fmt.Fprintf(log, "worker %d: run %s in %s, GOMAXPROCS=%d OPENBLAS_NUM_THREADS=%s\n",
		os.Getpid(), run.Name, dir, runtime.GOMAXPROCS(0), os.Getenv("OPENBLAS_NUM_THREADS"))
	s := &sink{enc: json.NewEncoder(out), acks: dec, log: log}
	var err error
	if p, _ := strconv.Atoi(os.Getenv(ProtocolEnv)); p >= 2 {
		// the parent speaks protocol 2: say which code this worker runs
		s.evals = true
		err = s.send(Event{Event: EventWorker, Version: CodeVersion(), Build: BuildID()})
	}
	if err == nil {
		err = training.Train(ctx, run.Spec, dir, s)
	}
	end := Event{Event: EventEnd, Status: store.StatusDone}
	switch {
	case err == nil:
		fmt.Fprintf(log, "worker %d: run %s done\n", os.Getpid(), run.Name)
	case ctx.Err() != nil:
		end.Status, end.Error = store.StatusInterrupted, err.Error()
		fmt.Fprintf(log, "worker %d: run %s interrupted: %v\n", os.Getpid(), run.Name, err)
	default:
		end.Status, end.Error, end.Fault = store.StatusFailed, err.Error(), faultOf(err)
		fmt.Fprintf(log, "worker %d: run %s failed: %v\n", os.Getpid(), run.Name, err)
	}
	if err := s.enc.Encode(end); err != nil {
		return fmt.Errorf("worker: report the end of run %s: %w", run.Name, err)
	}
	return nil
}

// errHarness is wrapped by the errors of a sink whose events the harness
// could not record.
var errHarness = errors.New("the harness could not record the run")

// faultOf says whose fault a training error is: one of the Fault constants
// for the environment's (a full disk, an I/O error, a harness that could
// not record), "" for the run's own.
func faultOf(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return FaultNoSpace
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.EROFS):
		return FaultIO
	case errors.Is(err, errHarness):
		return FaultHarness
	}
	return ""
}

// sink is the training.Sink of a worker: it sends each event to the parent
// and returns once the parent has recorded it.
type sink struct {
	enc   *json.Encoder
	acks  *json.Decoder
	log   io.Writer
	evals bool // send EventEvaluating and EventEvaluated (protocol 2)
}

func (s *sink) Evaluating(step int) error {
	if !s.evals {
		return nil
	}
	return s.send(Event{Event: EventEvaluating, Step: step})
}

func (s *sink) Evaluated(step int) error {
	if !s.evals {
		return nil
	}
	return s.send(Event{Event: EventEvaluated, Step: step})
}

func (s *sink) Resumed(step int) error {
	fmt.Fprintf(s.log, "worker %d: resuming from the checkpoint at step %d\n", os.Getpid(), step)
	return s.send(Event{Event: EventResumed, Step: step})
}

func (s *sink) Metrics(step int, values map[string]float64) error {
	vs := make(map[string]Float, len(values))
	for k, v := range values {
		vs[k] = Float(v)
	}
	return s.send(Event{Event: EventMetrics, Step: step, Values: vs})
}

func (s *sink) Artifact(kind, path string) error {
	return s.send(Event{Event: EventArtifact, Kind: kind, Path: path})
}

// send writes e and waits for its acknowledgement.
func (s *sink) send(e Event) error {
	if err := s.enc.Encode(e); err != nil {
		return fmt.Errorf("send the %s event: %w: %w", e.Event, errHarness, err)
	}
	var ack Ack
	if err := s.acks.Decode(&ack); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("the harness is gone")
		}
		return fmt.Errorf("await the acknowledgement of the %s event: %w: %w", e.Event, errHarness, err)
	}
	if ack.Error != "" {
		return fmt.Errorf("%w: the %s event: %s", errHarness, e.Event, ack.Error)
	}
	return nil
}
