package runner

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"harness/store"
)

// Progress shows what Run does. Its methods may be called from several
// goroutines; slot is the CPU slot of a run being executed.
type Progress interface {
	Note(msg string)
	// Planned says which experiment Run executes: before any other call
	// but Note.
	Planned(p Overview)
	// Skipped says a run needs no executing: done, or failed before.
	Skipped(run store.Run)
	Started(slot int, s Started)
	// Resumed says the run continues from its checkpoint at step.
	Resumed(slot, step int)
	// Evaluating says an evaluation at step begins, Evaluated that it
	// ended. Workers of an older harness send neither.
	Evaluating(slot, step int)
	Evaluated(slot, step int)
	// Logged reports the training loss at a step.
	Logged(slot, step int, loss float64)
	Ended(slot int, o Outcome)
	// Close writes what is left to write, the experiment's last line
	// among it, and returns once it is written.
	Close()
}

// An Overview is what an experiment's Run has to do.
type Overview struct {
	Experiment string
	Runs       int
	Steps      int // train.steps summed over the runs
	Evals      int // evaluations summed over the runs, at step 0 included
	Workers    int // runs at once
}

// Started describes a run a slot starts executing.
type Started struct {
	ID        int64
	Name      string
	Steps     int // train.steps
	EvalEvery int // train.eval_every
	Device    string
	Stale     bool // left running by a harness that is gone
	// Attempt counts the attempts at the run, this one included; Spent
	// is the time the earlier ones took.
	Attempt int
	Spent   time.Duration
}

// NewProgress returns a Progress writing to w: a bar per slot and a line
// for the experiment, redrawn in place, when w is a terminal; otherwise
// plain lines, one per logged step, per evaluation and per start or end of
// a run, and one for the experiment after each run's end.
func NewProgress(w io.Writer, terminal bool) Progress {
	if terminal {
		return newBars(w)
	}
	return newLines(w)
}

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// tracker keeps the state of an experiment's runs and times them, for
// the ETAs of both Progresses. Its caller serializes the calls.
//
// A run's step time is measured between its logged steps, leaving out the
// first interval after its start or resumption (the warm-up: allocating
// the graphs, filling the caches) and the evaluations in between, which
// are timed apart. The ETA of a run is its remaining steps at its step
// time plus its remaining evaluations at its mean evaluation time; the
// ETA of the experiment spreads the remaining work of the runs executing
// and of those not started (at the mean step and evaluation times of the
// runs measured so far) over the workers.
type tracker struct {
	plan    Overview
	began   time.Time
	slots   map[int]*runState
	done    int
	failed  int // failed, or found failed before
	other   int // interrupted, or not recorded
	started int // runs started, or found done or failed
	steps   int // train.steps of the runs started or skipped
	evals   int // evaluations of the runs started or skipped

	// over every run: the measured step and evaluation times
	stepTime  time.Duration
	stepCount int
	evalTime  time.Duration
	evalCount int
}

// runState is a run a slot executes.
type runState struct {
	Started
	began time.Time // when the slot started the run
	step  int       // the last step reached
	loss  float64   // the last loss logged; NaN before

	warm      bool      // past the warm-up: mark is set
	mark      time.Time // of the last logged step, once warm
	markStep  int
	markEval  time.Duration // evaluation time since mark
	stepTime  time.Duration
	stepCount int

	evaluating bool
	evalStep   int
	evalStart  time.Time
	evalTime   time.Duration
	evalCount  int

	resumedAt int // the step resumed at; 0 if none
}

func newTracker() *tracker {
	return &tracker{slots: map[int]*runState{}, began: time.Now()}
}

func (t *tracker) planned(p Overview) { t.plan = p; t.began = time.Now() }

// skipped counts a run found done or failed, as one of the mean steps
// and evaluations.
func (t *tracker) skipped(run store.Run) {
	t.started++
	if t.plan.Runs > 0 {
		t.steps += t.plan.Steps / t.plan.Runs
		t.evals += t.plan.Evals / t.plan.Runs
	}
	if run.Status == store.StatusDone {
		t.done++
	} else {
		t.failed++
	}
}

func (t *tracker) start(slot int, s Started, now time.Time) *runState {
	r := &runState{Started: s, began: now, loss: math.NaN()}
	t.slots[slot] = r
	t.started++
	t.steps += s.Steps
	t.evals += 1 + evalsAfter(0, s.Steps, s.EvalEvery)
	return r
}

func (t *tracker) resumed(slot, step int) *runState {
	r := t.slots[slot]
	if r == nil {
		return nil
	}
	r.step, r.resumedAt, r.warm = step, step, false
	return r
}

func (t *tracker) evaluating(slot, step int, now time.Time) *runState {
	r := t.slots[slot]
	if r == nil {
		return nil
	}
	r.evaluating, r.evalStep, r.evalStart = true, step, now
	return r
}

func (t *tracker) evaluated(slot int, now time.Time) *runState {
	r := t.slots[slot]
	if r == nil || !r.evaluating {
		return r
	}
	d := now.Sub(r.evalStart)
	r.evaluating = false
	r.evalTime += d
	r.evalCount++
	t.evalTime += d
	t.evalCount++
	if r.warm {
		r.markEval += d
	}
	return r
}

func (t *tracker) logged(slot, step int, loss float64, now time.Time) *runState {
	r := t.slots[slot]
	if r == nil {
		return nil
	}
	r.loss = loss
	if r.warm && step > r.markStep {
		d := now.Sub(r.mark) - r.markEval
		if d > 0 {
			r.stepTime += d
			r.stepCount += step - r.markStep
			t.stepTime += d
			t.stepCount += step - r.markStep
		}
	}
	r.step, r.warm, r.mark, r.markStep, r.markEval = step, true, now, step, 0
	return r
}

func (t *tracker) ended(slot int, o Outcome) *runState {
	r := t.slots[slot]
	delete(t.slots, slot)
	switch o.Status {
	case store.StatusDone:
		t.done++
	case store.StatusFailed:
		t.failed++
	default:
		t.other++
	}
	return r
}

// settled reports whether every run of the plan is done, failed or
// ended otherwise.
func (t *tracker) settled() bool {
	return t.plan.Runs > 0 && t.done+t.failed+t.other >= t.plan.Runs
}

// perStep is the measured time of a step of r, else of any run; 0 if
// none is measured yet.
func (t *tracker) perStep(r *runState) time.Duration {
	if r != nil && r.stepCount > 0 {
		return r.stepTime / time.Duration(r.stepCount)
	}
	if t.stepCount > 0 {
		return t.stepTime / time.Duration(t.stepCount)
	}
	return 0
}

// perEval is the measured time of an evaluation of r, else of any run.
func (t *tracker) perEval(r *runState) time.Duration {
	if r != nil && r.evalCount > 0 {
		return r.evalTime / time.Duration(r.evalCount)
	}
	if t.evalCount > 0 {
		return t.evalTime / time.Duration(t.evalCount)
	}
	return 0
}

// evalsAfter counts the evaluations of a run of steps steps after step:
// every evalEvery steps, and at the last step.
func evalsAfter(step, steps, evalEvery int) int {
	if step >= steps {
		return 0
	}
	if evalEvery <= 0 {
		return 1
	}
	n := steps/evalEvery - step/evalEvery
	if steps%evalEvery != 0 {
		n++
	}
	return n
}

// eta estimates the time r has left; false until a step time is measured.
func (t *tracker) eta(r *runState, now time.Time) (time.Duration, bool) {
	ps := t.perStep(r)
	if ps == 0 || r.stepCount == 0 {
		return 0, false
	}
	pe := t.perEval(r)
	left := ps*time.Duration(r.Steps-r.step) + pe*time.Duration(evalsAfter(r.step, r.Steps, r.EvalEvery))
	if r.evaluating {
		left += max(0, pe-now.Sub(r.evalStart))
	}
	return left, true
}

// experimentETA estimates the time the experiment has left; false until
// a step time is measured.
func (t *tracker) experimentETA(now time.Time) (time.Duration, bool) {
	ps, pe := t.perStep(nil), t.perEval(nil)
	if ps == 0 {
		return 0, false
	}
	var work, longest time.Duration
	for _, r := range t.slots {
		left, ok := t.eta(r, now)
		if !ok { // not warm yet: as a run of the mean pace
			left = ps*time.Duration(r.Steps-r.step) + pe*time.Duration(evalsAfter(r.step, r.Steps, r.EvalEvery))
		}
		work += left
		longest = max(longest, left)
	}
	if queued := t.plan.Runs - t.started; queued > 0 {
		steps, evals := max(0, t.plan.Steps-t.steps), max(0, t.plan.Evals-t.evals)
		work += ps*time.Duration(steps) + pe*time.Duration(evals)
	}
	workers := max(1, min(t.plan.Workers, t.plan.Runs-t.done-t.failed-t.other))
	return max(longest, work/time.Duration(workers)), true
}

// experimentLine says how the experiment stands: runs done of all,
// failed, executing, and its ETA; once final, how long it took.
func (t *tracker) experimentLine(now time.Time, final bool) string {
	name := t.plan.Experiment
	if name == "" {
		name = "experiment"
	}
	parts := []string{fmt.Sprintf("%d/%d runs done", t.done, t.plan.Runs)}
	if t.failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", t.failed))
	}
	if t.other > 0 {
		parts = append(parts, fmt.Sprintf("%d not done", t.other))
	}
	if final {
		return fmt.Sprintf("%s: %s; %s", name, strings.Join(parts, ", "), FormatDuration(now.Sub(t.began)))
	}
	if n := len(t.slots); n > 0 {
		parts = append(parts, fmt.Sprintf("%d running", n))
	}
	eta := "eta -"
	if d, ok := t.experimentETA(now); ok {
		eta = "eta " + formatETA(d)
	}
	return fmt.Sprintf("%s: %s; %s", name, strings.Join(parts, ", "), eta)
}

// runLabel names a run in progress lines.
func runLabel(id int64, name string) string { return fmt.Sprintf("run %d %s", id, name) }

func skippedLine(run store.Run) string {
	if run.Status == store.StatusDone {
		return runLabel(run.ID, run.Name) + ": done already"
	}
	return fmt.Sprintf("%s: %s before, not retried (--retry-failed): %s", runLabel(run.ID, run.Name), run.Status, firstLine(run.Error))
}

func startedLine(s Started) string {
	line := fmt.Sprintf("%s: started on %s", runLabel(s.ID, s.Name), s.Device)
	if s.Stale {
		line += ", taken over from a harness that is gone"
	}
	if s.Attempt > 1 {
		line += fmt.Sprintf(", attempt %d (%s before)", s.Attempt, FormatDuration(s.Spent))
	}
	return line
}

func resumedLine(s Started, step int) string {
	return fmt.Sprintf("%s: resumed from the checkpoint at step %d", runLabel(s.ID, s.Name), step)
}

// endedLine says how a run ended, and the time it took: over all its
// attempts, if r says there were others before, with this one's.
func endedLine(o Outcome, r *runState, now time.Time) string {
	label := runLabel(o.RunID, o.Job.Run.Name)
	var d string
	if r != nil {
		took := now.Sub(r.began)
		d = FormatDuration(took)
		if r.Attempt > 1 {
			d = fmt.Sprintf("%s over %d attempts (%s in this one)", FormatDuration(r.Spent+took), r.Attempt, d)
		}
	} else {
		d = FormatDuration(0) // ended before it started
	}
	switch o.Status {
	case store.StatusDone:
		return fmt.Sprintf("%s: done in %s", label, d)
	case store.StatusInterrupted:
		return fmt.Sprintf("%s: interrupted after %s", label, d)
	}
	return fmt.Sprintf("%s: %s after %s: %s", label, strings.ToUpper(o.Status), d, firstLine(o.Error))
}

// FormatDuration writes d to a tenth of a second under a minute, else to
// the second.
func FormatDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// formatETA writes an estimate to the second.
func formatETA(d time.Duration) string { return d.Round(time.Second).String() }

func formatLoss(loss float64) string {
	if math.IsNaN(loss) {
		return "-"
	}
	return fmt.Sprintf("%.6g", loss)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
