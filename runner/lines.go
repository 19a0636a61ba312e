package runner

import (
	"fmt"
	"io"
	"sync"
	"time"

	"harness/store"
)

// lines is the Progress of a log: one line per event.
type lines struct {
	mu    sync.Mutex
	w     io.Writer
	slots map[int]*lineSlot
}

// lineSlot is the run a slot executes.
type lineSlot struct {
	Started
	began time.Time // when the slot started the run
	start time.Time // when training started or resumed, at step from
	from  int
}

func newLines(w io.Writer) *lines { return &lines{w: w, slots: map[int]*lineSlot{}} }

func (l *lines) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

func (l *lines) Note(msg string)       { l.println(msg) }
func (l *lines) Skipped(run store.Run) { l.println(skippedLine(run)) }

func (l *lines) Started(slot int, s Started) {
	l.mu.Lock()
	now := time.Now()
	l.slots[slot] = &lineSlot{Started: s, began: now, start: now}
	l.mu.Unlock()
	l.println(startedLine(s))
}

func (l *lines) Resumed(slot, step int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slots[slot]
	s.from, s.start = step, time.Now()
	fmt.Fprintf(l.w, "%s: resumed from the checkpoint at step %d\n", runLabel(s.ID, s.Name), step)
}

func (l *lines) Logged(slot, step int, loss float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slots[slot]
	fmt.Fprintf(l.w, "%s: step %d/%d loss %s eta %s\n", runLabel(s.ID, s.Name), step, s.Steps,
		formatLoss(loss), eta(s.start, s.from, step, s.Steps))
}

func (l *lines) Ended(slot int, o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var took time.Duration
	if s := l.slots[slot]; s != nil {
		took = time.Since(s.began)
	}
	delete(l.slots, slot)
	fmt.Fprintln(l.w, endedLine(o, took))
}

func (l *lines) Close() {}
