package runner

import (
	"fmt"
	"io"
	"sync"
	"time"

	"harness/store"
)

// lines is the Progress of a log: one line per event, and the experiment's
// line after each run's end.
type lines struct {
	mu sync.Mutex
	w  io.Writer
	t  *tracker
}

func newLines(w io.Writer) *lines { return &lines{w: w, t: newTracker()} }

func (l *lines) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

func (l *lines) Note(msg string) { l.println(msg) }

func (l *lines) Planned(p Overview) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.planned(p)
}

func (l *lines) Skipped(run store.Run) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.skipped(run)
	fmt.Fprintln(l.w, skippedLine(run))
}

func (l *lines) Started(slot int, s Started) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.start(slot, s, time.Now())
	fmt.Fprintln(l.w, startedLine(s))
}

func (l *lines) Resumed(slot, step int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.t.resumed(slot, step); r != nil {
		fmt.Fprintln(l.w, resumedLine(r.Started, step))
	}
}

func (l *lines) Evaluating(slot, step int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.t.evaluating(slot, step, time.Now()); r != nil {
		fmt.Fprintf(l.w, "%s: evaluating at step %d\n", runLabel(r.ID, r.Name), step)
	}
}

func (l *lines) Evaluated(slot, step int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.evaluated(slot, time.Now())
}

func (l *lines) Logged(slot, step int, loss float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	r := l.t.logged(slot, step, loss, now)
	if r == nil {
		return
	}
	eta := "-"
	if d, ok := l.t.eta(r, now); ok {
		eta = formatETA(d)
	}
	fmt.Fprintf(l.w, "%s: step %d/%d loss %s eta %s\n", runLabel(r.ID, r.Name), step, r.Steps, formatLoss(loss), eta)
}

func (l *lines) Ended(slot int, o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	fmt.Fprintln(l.w, endedLine(o, l.t.ended(slot, o), now))
	fmt.Fprintln(l.w, l.t.experimentLine(now, l.t.settled()))
}

func (l *lines) Close() {}
