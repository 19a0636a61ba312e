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
	// Skipped says a run needs no executing: done, or failed before.
	Skipped(run store.Run)
	Started(slot int, s Started)
	// Resumed says the run continues from its checkpoint at step.
	Resumed(slot, step int)
	// Logged reports the training loss at a step.
	Logged(slot, step int, loss float64)
	Ended(slot int, o Outcome)
	// Close waits until everything shown is written.
	Close()
}

// Started describes a run a slot starts executing.
type Started struct {
	ID     int64
	Name   string
	Steps  int // train.steps
	Device string
	Stale  bool // left running by a harness that is gone
}

// NewProgress returns a Progress writing to w: a bar per slot when w is a
// terminal, otherwise plain lines, one per logged step and per start or
// end of a run.
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
	return line
}

func endedLine(o Outcome, took time.Duration) string {
	label := runLabel(o.RunID, o.Job.Run.Name)
	d := FormatDuration(took)
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

// eta estimates the time left at step from the pace since from at start.
func eta(start time.Time, from, step, steps int) time.Duration {
	if step <= from {
		return 0
	}
	per := float64(time.Since(start)) / float64(step-from)
	return time.Duration(per * float64(steps-step)).Round(time.Second)
}

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
