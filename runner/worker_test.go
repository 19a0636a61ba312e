package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"harness/store"
)

// playParent runs Work on job in dir and plays the parent: it sends the
// run, answers each event with ack(event), and returns the events.
func playParent(t *testing.T, ctx context.Context, dir string, job Job, ack func(Event) string) []Event {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var log bytes.Buffer
	errc := make(chan error, 1)
	go func() {
		err := Work(ctx, dir, inR, outW, &log)
		outW.Close()
		errc <- err
	}()
	if _, err := io.WriteString(inW, job.JSON+"\n"); err != nil {
		t.Fatal(err)
	}
	dec, enc := json.NewDecoder(outR), json.NewEncoder(inW)
	var events []Event
	for {
		var e Event
		if err := dec.Decode(&e); err != nil {
			break
		}
		events = append(events, e)
		if e.Event == EventEnd {
			break
		}
		if err := enc.Encode(Ack{Error: ack(e)}); err != nil {
			t.Fatal(err)
		}
	}
	inW.Close()
	if err := <-errc; err != nil {
		t.Fatalf("Work: %v\n%s", err, log.String())
	}
	if len(events) == 0 || events[len(events)-1].Event != EventEnd {
		t.Fatalf("no end event in %+v", events)
	}
	return events
}

func ok(Event) string { return "" }

func TestWork(t *testing.T) {
	_, jobs := tinyJobs(t)
	dir := t.TempDir()
	events := playParent(t, context.Background(), dir, jobs[0], ok)
	if e := events[0]; e.Event == EventResumed {
		t.Errorf("first event %+v of a new run", e)
	}
	var losses []int
	checkpoints := 0
	for _, e := range events {
		if _, ok := e.Values["train/loss"]; ok {
			losses = append(losses, e.Step)
		}
		if e.Event == EventArtifact && e.Kind == "checkpoint" {
			checkpoints++
		}
	}
	if len(losses) != 4 || losses[3] != 40 || checkpoints != 4 {
		t.Errorf("train/loss at %v and %d checkpoints, want 4 of each", losses, checkpoints)
	}
	if end := events[len(events)-1]; end.Status != store.StatusDone {
		t.Errorf("end %+v", end)
	}

	// again: the run resumes from its last checkpoint, at the end
	events = playParent(t, context.Background(), dir, jobs[0], ok)
	if len(events) != 2 || events[0].Event != EventResumed || events[0].Step != 40 || events[1].Status != store.StatusDone {
		t.Errorf("a finished run again: %+v", events)
	}
}

// A parent that cannot record an event ends the run, with its reason, as
// the environment's fault: the parent leaves it interrupted.
func TestWorkAckError(t *testing.T) {
	_, jobs := tinyJobs(t)
	events := playParent(t, context.Background(), t.TempDir(), jobs[0], func(e Event) string {
		if e.Event == EventArtifact && e.Kind == "checkpoint" {
			return "disk full"
		}
		return ""
	})
	end := events[len(events)-1]
	if end.Status != store.StatusFailed || end.Fault != FaultHarness || !strings.Contains(end.Error, "disk full") {
		t.Errorf("end %+v, want failed by the harness's fault, with its reason", end)
	}
}

func TestWorkInterrupted(t *testing.T) {
	_, jobs := tinyJobs(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	events := playParent(t, ctx, t.TempDir(), jobs[0], ok)
	if end := events[len(events)-1]; end.Status != store.StatusInterrupted {
		t.Errorf("end %+v, want interrupted", end)
	}
}
