package training

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"harness/model"
	"harness/weights"
)

// stoppedRun trains spec until it is cancelled after step 14, leaving in
// dir the checkpoint of step 14 and the previous one, of step 8, and
// returns what a run never stopped logs, with that run's directory.
func stoppedRun(t *testing.T, spec Spec, dir string) (whole *recorder, wholeDir string) {
	t.Helper()
	whole, wholeDir = newRecorder(), t.TempDir()
	if err := Train(context.Background(), spec, wholeDir, whole); err != nil {
		t.Fatal(err)
	}
	trainStoppedAt(t, spec, dir, 14)
	return whole, wholeDir
}

// trainStoppedAt trains spec in dir, cancelled once the metrics of step are
// logged, and returns what the run logged.
func trainStoppedAt(t *testing.T, spec Spec, dir string, step int) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRecorder()
	r.onMetrics = func(s int) {
		if s == step {
			cancel()
		}
	}
	if err := Train(ctx, spec, dir, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped run returned %v", err)
	}
	return r
}

// flipBit flips one bit in the middle of a checkpoint's tensor data.
func flipBit(b []byte) {
	data := 8 + int(binary.LittleEndian.Uint64(b))
	b[data+(len(b)-data)/2] ^= 0x10
}

// A checkpoint damaged in any way is detected, set aside and warned about
// by name; the run resumes from the previous one, or from step 0, and ends
// exactly as a run never stopped.
func TestCorruptCheckpointFallsBack(t *testing.T) {
	spec := tinySpec(model.ArchCRATE)
	src := t.TempDir()
	whole, wholeDir := stoppedRun(t, spec, src)
	last, err := os.ReadFile(filepath.Join(src, CheckpointName))
	if err != nil {
		t.Fatal(err)
	}
	prev, err := os.ReadFile(filepath.Join(src, PrevCheckpointName))
	if err != nil {
		t.Fatal(err)
	}
	withoutChecksum := func(format string) []byte {
		f, _, err := weights.DecodeChecksummed(last)
		if err != nil {
			t.Fatal(err)
		}
		f.Metadata["format"] = format
		b, err := weights.EncodeSafetensors(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	headerBroken := bytes.Clone(last)
	headerBroken[8] = 'x' // the header's opening brace
	lastFlipped, prevFlipped := bytes.Clone(last), bytes.Clone(prev)
	flipBit(lastFlipped)
	flipBit(prevFlipped)

	for _, c := range []struct {
		name       string
		last, prev []byte // nil: no such file
		resumed    int
		warnings   []string // each a substring of one warning, in order
	}{
		{"sound", last, prev, 14, nil},
		{"flipped bit", lastFlipped, prev, 8, []string{CheckpointName + " is corrupt: safetensors: checksum mismatch", "previous checkpoint"}},
		{"broken header", headerBroken, prev, 8, []string{CheckpointName + " is corrupt: safetensors: header is not a JSON object", "previous checkpoint"}},
		{"truncated", last[:len(last)/2], prev, 8, []string{CheckpointName + " is corrupt: safetensors: tensor", "previous checkpoint"}},
		{"empty", []byte{}, prev, 8, []string{CheckpointName + " is corrupt: safetensors: truncated", "previous checkpoint"}},
		{"no checksum", withoutChecksum(checkpointFormat), prev, 8, []string{CheckpointName + " is corrupt: no " + weights.ChecksumTensor, "previous checkpoint"}},
		{"killed between renames", nil, prev, 8, []string{"previous checkpoint"}},
		{"both corrupt", lastFlipped, prevFlipped, 0, []string{CheckpointName + " is corrupt", PrevCheckpointName + " is corrupt", "starts over from step 0"}},
		{"earlier version's", withoutChecksum(legacyFormat), prev, 14, []string{"has no checksum (format " + legacyFormat}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range map[string][]byte{CheckpointName: c.last, PrevCheckpointName: c.prev} {
				if b != nil {
					if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			r := newRecorder()
			if err := Train(context.Background(), spec, dir, r); err != nil {
				t.Fatal(err)
			}
			if want := resumedAt(c.resumed); !slices.Equal(r.resumed, want) {
				t.Fatalf("resumed at %v, want %v", r.resumed, want)
			}
			checkWarnings(t, r.warnings, c.warnings)
			checkContinues(t, whole, r, c.resumed)
			checkSameFile(t, filepath.Join(wholeDir, CheckpointName), filepath.Join(dir, CheckpointName))
			if c.warnings != nil && strings.Contains(c.warnings[0], "is corrupt") {
				if _, err := os.Stat(filepath.Join(dir, CheckpointName+CorruptSuffix)); err != nil {
					t.Errorf("the corrupt checkpoint was not set aside: %v", err)
				}
			}
		})
	}
}

// resumedAt is what a Sink hears of resuming at step: nothing at step 0.
func resumedAt(step int) []int {
	if step == 0 {
		return nil
	}
	return []int{step}
}

// checkWarnings checks that each of want is part of one warning, in order,
// and that there are no others.
func checkWarnings(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("warnings %q, want %d: %q", got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("warning %q, want one saying %q", got[i], want[i])
		}
	}
}

// checkContinues checks that r logged, after step from (from step 0 on
// when from is 0), exactly what the run never stopped logged.
func checkContinues(t *testing.T, whole, r *recorder, from int) {
	t.Helper()
	for step, values := range whole.metrics {
		if from > 0 && step <= from {
			continue
		}
		if !equalMetrics(map[int]map[string]float64{step: r.metrics[step]}, map[int]map[string]float64{step: values}) {
			t.Errorf("step %d: resumed %v, never stopped %v", step, r.metrics[step], values)
		}
	}
}

// checkSameFile checks that two files hold the same bytes.
func checkSameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s differs from %s", got, want)
	}
}

// A writer SIGKILLed while writing a checkpoint leaves its temporary file;
// the run's next start removes it and says so.
func TestTrainRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".checkpoint.safetensors.tmp-999999999-00000000-1")
	if err := os.WriteFile(stale, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	spec := tinySpec(model.ArchViT)
	spec.Train.Steps, spec.Train.WarmupSteps = 2, 1
	r := newRecorder()
	if err := Train(context.Background(), spec, dir, r); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	checkWarnings(t, r.warnings, []string{"removed the temporary files of writers that are gone: " + filepath.Base(stale)})
}

// Stopped right after a scheduled checkpoint, a run writes no second one of
// that step, which would rotate out the one before.
func TestStopAfterCheckpointKeepsTheOneBefore(t *testing.T) {
	spec := tinySpec(model.ArchViT)
	dir := t.TempDir()
	trainStoppedAt(t, spec, dir, 16)
	for name, want := range map[string]string{CheckpointName: "16", PrevCheckpointName: "8"} {
		if got := readTensors(t, filepath.Join(dir, name)).Metadata["step"]; got != want {
			t.Errorf("%s is of step %s, want %s", name, got, want)
		}
	}
}
