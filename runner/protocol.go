package runner

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// ProtocolEnv is the variable of its environment in which the parent
// tells a worker the newest protocol it speaks; unset, protocol 1. A
// worker sends the events of a later protocol only to a parent that
// speaks it, so that a harness binary replaced during an experiment (its
// workers are the new binary) still understands them.
const ProtocolEnv = "HARNESS_PROTOCOL"

// Protocol is the newest protocol this code speaks. Protocol 2 adds
// EventWorker, first, and EventEvaluating and EventEvaluated.
const Protocol = 2

// Event kinds, the values of Event.Event.
const (
	EventResumed  = "resumed"  // Step: the run continues from the checkpoint after this step
	EventMetrics  = "metrics"  // Step, Values: figures at a step
	EventArtifact = "artifact" // Kind, Path: a file the run wrote
	// Since protocol 2, sent only to a parent that set ProtocolEnv:
	EventWorker     = "worker"     // Version, Build: the worker's code, its first event
	EventEvaluating = "evaluating" // Step: an evaluation at this step begins
	EventEvaluated  = "evaluated"  // Step: the evaluation at this step ended
	EventEnd        = "end"        // Status, Error: the last event of a worker
)

// An Event is one line a worker writes to the parent.
type Event struct {
	Event  string           `json:"event"`
	Step   int              `json:"step"`
	Values map[string]Float `json:"values,omitempty"`
	Kind   string           `json:"kind,omitempty"`
	Path   string           `json:"path,omitempty"`
	// Status ends a run: store.StatusDone, StatusFailed or
	// StatusInterrupted.
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
	// Fault, on a failed end, says the failure is the environment's, not
	// the run's: one of the Fault constants; "" for the run's own fault.
	Fault string `json:"fault,omitempty"`
	// Version and Build, of EventWorker, are the worker's code version
	// (see Provenance) and the build ID of its binary.
	Version string `json:"version,omitempty"`
	Build   string `json:"build,omitempty"`
}

// Faults of the environment, the values of Event.Fault. A run that fails
// by one of them is interrupted, not failed, and resumes at the next
// harness run.
const (
	FaultNoSpace = "nospace" // the disk (or quota) is full
	FaultIO      = "io"      // an I/O error, or a read-only file system
	FaultHarness = "harness" // the harness could not record an event, or is gone
)

// An Ack is the parent's answer to every event but the last: empty once the
// event is recorded, or the reason it could not be.
type Ack struct {
	Error string `json:"error,omitempty"`
}

// Float is a float64 whose JSON form also holds the values JSON numbers
// cannot: the strings "NaN", "+Inf" and "-Inf". Finite values are written
// in the shortest form that reads back to the same bits.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = Float(math.NaN())
		return nil
	case `"+Inf"`:
		*f = Float(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = Float(math.Inf(-1))
		return nil
	}
	x, err := strconv.ParseFloat(string(bytes.TrimSpace(b)), 64)
	if err != nil {
		return fmt.Errorf("runner: %s is not a number", b)
	}
	*f = Float(x)
	return nil
}
