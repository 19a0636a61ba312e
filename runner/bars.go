package runner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
	"unsafe"

	"harness/store"
)

// redrawEvery is how often the bars are redrawn.
const redrawEvery = 200 * time.Millisecond

// bars is the Progress of a terminal. Below the lines written so far it
// keeps a live area, redrawn in place: a bar per slot with the run's
// name, step, loss and ETA, or what it is doing (evaluating), and the
// experiment's line. A line (a run started, resumed or ended, a note) is
// written above the live area at once, in the same write that redraws it,
// so none is lost or torn; Close replaces the live area with the
// experiment's last line.
type bars struct {
	mu     sync.Mutex
	w      io.Writer
	t      *tracker
	drawn  int      // lines of the live area on the screen
	above  []string // lines to write above the live area at the next draw
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

func newBars(w io.Writer) *bars {
	b := &bars{w: w, t: newTracker(), stop: make(chan struct{}), done: make(chan struct{})}
	go b.loop()
	return b
}

// loop redraws the live area until Close.
func (b *bars) loop() {
	defer close(b.done)
	tick := time.NewTicker(redrawEvery)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
			b.mu.Lock()
			b.draw(time.Now(), false)
			b.mu.Unlock()
		}
	}
}

// draw writes the lines waiting above, then the live area in place of the
// last one drawn, in one write; with final, the experiment's last line
// instead of the live area. mu is held.
func (b *bars) draw(now time.Time, final bool) {
	if b.closed || (!final && b.drawn == 0 && len(b.above) == 0 && len(b.t.slots) == 0 && b.t.plan.Runs == 0) {
		return // nothing to draw yet
	}
	var buf bytes.Buffer
	if b.drawn > 0 {
		// to the start of the live area, and clear from there down
		fmt.Fprintf(&buf, "\r\x1b[%dA\x1b[J", b.drawn)
	} else {
		buf.WriteString("\r\x1b[J")
	}
	for _, s := range b.above {
		buf.WriteString(s)
		buf.WriteByte('\n')
	}
	b.above = b.above[:0]
	b.drawn = 0
	if final {
		if b.t.plan.Runs > 0 {
			buf.WriteString(b.t.experimentLine(now, true) + "\n")
		}
	} else {
		width := terminalWidth(b.w)
		for _, s := range b.live(now, width) {
			buf.WriteString(clip(s, width-1))
			buf.WriteByte('\n')
			b.drawn++
		}
	}
	b.w.Write(buf.Bytes())
}

// live returns the lines of the live area: a bar per slot, in the order
// of the slots, and the experiment's line.
func (b *bars) live(now time.Time, width int) []string {
	slots := make([]int, 0, len(b.t.slots))
	for slot := range b.t.slots {
		slots = append(slots, slot)
	}
	slices.Sort(slots)
	var out []string
	for _, slot := range slots {
		out = append(out, b.barLine(b.t.slots[slot], now, width))
	}
	if b.t.plan.Runs > 0 {
		out = append(out, b.t.experimentLine(now, false))
	}
	return out
}

// barLine draws a run: its name, a bar, its step and loss or what it is
// doing, and its ETA.
func (b *bars) barLine(r *runState, now time.Time, width int) string {
	label := runLabel(r.ID, r.Name)
	var state string
	switch {
	case r.evaluating:
		state = fmt.Sprintf("evaluating at step %d (%s)", r.evalStep, FormatDuration(now.Sub(r.evalStart)))
	case r.resumedAt > 0 && r.step == r.resumedAt:
		state = fmt.Sprintf("resumed at step %d", r.resumedAt)
	default:
		state = "loss " + formatLoss(r.loss)
	}
	eta := "eta -"
	if d, ok := b.t.eta(r, now); ok {
		eta = "eta " + formatETA(d)
	}
	counter := fmt.Sprintf("%d/%d", r.step, r.Steps)
	// the bar takes what the rest leaves, from 10 to 32 cells
	cells := min(32, width-1-len(label)-len(counter)-len(state)-len(eta)-8)
	if cells < 10 {
		return fmt.Sprintf("%s  %s  %s  %s", label, counter, state, eta)
	}
	return fmt.Sprintf("%s [%s] %s  %s  %s", label, bar(r.step, r.Steps, cells), counter, state, eta)
}

// bar draws the fraction step/steps in cells cells.
func bar(step, steps, cells int) string {
	full := 0
	if steps > 0 {
		full = min(cells, step*cells/steps)
	}
	return strings.Repeat("=", full) + strings.Repeat("-", cells-full)
}

// clip cuts s to at most n runes, so that no line of the live area wraps.
func clip(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// terminalWidth is the width of the terminal w is, 80 if unknown.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 80
	}
	var ws struct{ Row, Col, X, Y uint16 }
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws)))
	if errno != 0 || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}

// println writes s above the live area at once.
func (b *bars) println(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.printlnLocked(s)
}

func (b *bars) printlnLocked(s string) {
	if b.closed {
		fmt.Fprintln(b.w, s)
		return
	}
	b.above = append(b.above, s)
	b.draw(time.Now(), false)
}

func (b *bars) Note(msg string) { b.println(msg) }

func (b *bars) Planned(p Overview) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.planned(p)
}

func (b *bars) Skipped(run store.Run) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.skipped(run)
	b.printlnLocked(skippedLine(run))
}

func (b *bars) Started(slot int, s Started) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.start(slot, s, time.Now())
	b.printlnLocked(startedLine(s))
}

func (b *bars) Resumed(slot, step int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := b.t.resumed(slot, step); r != nil {
		b.printlnLocked(resumedLine(r.Started, step))
	}
}

func (b *bars) Evaluating(slot, step int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.evaluating(slot, step, time.Now())
}

func (b *bars) Evaluated(slot, step int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.evaluated(slot, time.Now())
}

func (b *bars) Logged(slot, step int, loss float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t.logged(slot, step, loss, time.Now())
}

func (b *bars) Ended(slot int, o Outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.printlnLocked(endedLine(o, b.t.ended(slot, o), time.Now()))
}

// Close stops the redrawing and replaces the live area with the
// experiment's last line; what it writes is written when it returns.
func (b *bars) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	close(b.stop)
	b.mu.Unlock()
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(time.Now(), true)
	b.closed = true
}
