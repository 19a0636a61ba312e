package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"harness/ablations"
	"harness/store"
)

// pollInterval is how often a run that another process executes is
// checked on.
const pollInterval = 500 * time.Millisecond

// Options says how Run executes an experiment's runs.
type Options struct {
	// Out is the root of the run directories (see RunDir), which hold a
	// run's marker, checkpoint, artifacts and log.
	Out string
	// Workers is the number of CPU slots, runs executed at once; 0 means
	// DefaultWorkers.
	Workers int
	// RetryFailed executes again the runs that failed before.
	RetryFailed bool
	// Worker is the command line that starts a worker process (see Serve);
	// the run directory is appended to it.
	Worker     []string
	Provenance Provenance
	// Liveness judges the owners of runs left running; zero means
	// NewLiveness(Provenance.Host).
	Liveness Liveness
	Progress Progress
	// Kill, when closed, kills the workers outright, as when a harness
	// already stopping is interrupted again.
	Kill <-chan struct{}
}

// An Outcome is how one run of an experiment stands after Run.
type Outcome struct {
	Job   *Job
	RunID int64 // 0 if the run was never claimed
	// Status is the run's status in the store: done, failed or
	// interrupted; running when another process still executes it as Run
	// stops; "" when Run stopped before reaching the run.
	Status   string
	Executed bool   // executed, or resumed, by this Run
	Error    string // of a failed run
}

// Run executes the jobs of experiment x that the store does not have done:
// new runs, runs interrupted (or left running by a harness that is gone,
// see the package documentation), and with Options.RetryFailed runs that
// failed. It waits for runs that another process is executing. It
// records the experiment's file in the store first.
//
// When ctx is done, Run starts no more runs, sends SIGINT to the workers,
// which checkpoint and stop, records their runs interrupted and returns.
// When a run stops on a full disk, Run claims no more runs, lets those
// executing end, and returns an error wrapping ErrNoSpace. The error is
// about the store, the disk or the run directories; a run's failure is in
// its Outcome.
func Run(ctx context.Context, st *store.Store, x *ablations.Experiment, jobs []Job, opt Options) ([]Outcome, error) {
	if err := st.PutExperiment(x.Name, x.Description, x.Text); err != nil {
		return nil, err
	}
	out, err := filepath.Abs(opt.Out)
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	storeID, err := st.ID()
	if err != nil {
		return nil, err
	}
	if opt.Liveness.Now == nil {
		opt.Liveness = NewLiveness(opt.Provenance.Host)
	}
	cores := runtime.NumCPU()
	workers := opt.Workers
	if workers <= 0 {
		workers = DefaultWorkers(jobs, cores)
	}
	workers = min(workers, len(jobs))
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	claiming, halt := context.WithCancel(ctx)
	defer halt()
	s := &scheduler{
		st: st, x: x, jobs: jobs, opt: opt, cores: cores, workers: workers,
		out: out, storeID: storeID,
		stop:     stop,
		halt:     halt,
		outcomes: make([]Outcome, len(jobs)),
		queue:    make(chan int, len(jobs)),
		left:     len(jobs),
	}
	for i := range jobs {
		s.outcomes[i].Job = &jobs[i]
		s.queue <- i
	}
	opt.Progress.Note(fmt.Sprintf("%s: %d runs, %d at once on the CPU; run directories in %s",
		x.Name, len(jobs), workers, experimentDir(out, x.Name)))
	opt.Progress.Planned(overview(x.Name, jobs, workers))
	var wg sync.WaitGroup
	for slot := range workers {
		wg.Go(func() { s.serve(ctx, claiming, slot) })
	}
	wg.Wait()
	return s.outcomes, s.err
}

// overview is what the jobs of experiment name have to do, for the
// Progress.
func overview(name string, jobs []Job, workers int) Overview {
	o := Overview{Experiment: name, Runs: len(jobs), Workers: workers}
	for _, j := range jobs {
		c := j.Run.Spec.Train
		o.Steps += c.Steps
		o.Evals += 1 + evalsAfter(0, c.Steps, c.EvalEvery)
	}
	return o
}

// scheduler hands the jobs of Run to the slots.
type scheduler struct {
	st      *store.Store
	x       *ablations.Experiment
	jobs    []Job
	opt     Options
	cores   int
	workers int
	out     string // the root of the run directories
	storeID string
	stop    context.CancelCauseFunc // stops the workers and the slots
	halt    context.CancelFunc      // stops the claiming of runs

	mu       sync.Mutex
	outcomes []Outcome
	queue    chan int // indexes of jobs to try
	left     int      // jobs not settled; the queue closes at 0
	waiting  []bool   // jobs reported as waiting for another process
	err      error
}

// serve is one slot: it takes jobs from the queue until none is left or
// claiming is done (which ctx being done implies).
func (s *scheduler) serve(ctx, claiming context.Context, slot int) {
	for {
		var i int
		var ok bool
		select {
		case <-claiming.Done():
			return
		case i, ok = <-s.queue:
		}
		if !ok || claiming.Err() != nil {
			return
		}
		settled, err := s.try(ctx, slot, i)
		switch {
		case err != nil:
			s.fail(fmt.Errorf("run %s: %w", s.jobs[i].Run.Name, err))
			return
		case settled:
			s.settle()
		default: // another process executes the run: look again later
			time.AfterFunc(pollInterval, func() { s.queue <- i })
		}
	}
}

// try acquires job i and executes it in slot, and reports whether the job
// is settled: executed, or found done or failed.
func (s *scheduler) try(ctx context.Context, slot, i int) (bool, error) {
	j := &s.jobs[i]
	threads := workerThreads(j, s.cores, s.workers)
	p := s.opt.Provenance
	rec := store.Run{
		Experiment: s.x.Name, Name: j.Run.Name, ConfigJSON: j.JSON, ConfigHash: j.Hash,
		Seed: int64(j.Run.Spec.Seed), Device: fmt.Sprintf("cpu (%d threads)", threads),
		ParamsTotal: j.Params.Total, ParamsTrainable: j.Params.Trainable,
		Host: p.Host, CodeVersion: p.CodeVersion, Command: p.Command,
	}
	h, run, err := acquire(s.st, rec, s.opt.RetryFailed, s.opt.Liveness, s.out, s.storeID)
	if err != nil {
		return false, err
	}
	if h == nil {
		s.setOutcome(i, Outcome{Job: j, RunID: run.ID, Status: run.Status, Error: run.Error})
		if run.Status == store.StatusRunning {
			s.noteWaiting(i, run)
			return false, nil
		}
		s.opt.Progress.Skipped(run)
		return true, nil
	}
	e := &execution{st: s.st, job: j, h: h, dir: h.run.Dir, marker: markerOf(s.storeID, h.run),
		slot: slot, threads: threads, progress: s.opt.Progress, provenance: p}
	o, err := e.execute(ctx, s.opt.Worker, s.opt.Kill)
	s.setOutcome(i, o)
	if err == nil && e.noSpace {
		s.haltOn(fmt.Errorf("run %d (%s) stopped: %w under %s; no more runs are started, free space and run again",
			h.run.ID, j.Run.Name, ErrNoSpace, e.dir))
	}
	return true, err
}

// ErrNoSpace is wrapped by the error of a Run stopped by a full disk.
var ErrNoSpace = errors.New("the disk is full")

func (s *scheduler) setOutcome(i int, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[i] = o
}

// noteWaiting says, once per job, that another process executes it.
func (s *scheduler) noteWaiting(i int, run store.Run) {
	s.mu.Lock()
	if s.waiting == nil {
		s.waiting = make([]bool, len(s.jobs))
	}
	first := !s.waiting[i]
	s.waiting[i] = true
	s.mu.Unlock()
	if first {
		s.opt.Progress.Note(fmt.Sprintf("run %d (%s) is running in another process (pid %d on %s: %s); waiting for it",
			run.ID, run.Name, run.Owner.PID, run.Owner.Host, run.Command))
	}
}

// settle counts a job settled, closing the queue after the last.
func (s *scheduler) settle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.left--
	if s.left == 0 {
		close(s.queue)
	}
}

// haltOn stops the claiming of runs on err, which Run returns; runs
// executing go on to their end.
func (s *scheduler) haltOn(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.halt()
}

// fail stops Run on an error of the store or the run directories.
func (s *scheduler) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.stop(err)
}
