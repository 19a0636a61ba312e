package training

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"harness/model"
	"harness/weights"
)

// A run's numbers do not depend on how many threads compute them: its
// metrics and final weights and moments are the same bits on 1, 2, 3 and 8
// threads, so a run resumed under another --workers continues its curve.
func TestThreadsDoNotChangeResults(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, arch := range []string{model.ArchCRATE, model.ArchViT} {
		spec := tinySpec(arch)
		// large enough that matrix products are split (model/blas.go)
		spec.Model.ImgSize, spec.Model.EmbedDim, spec.Model.DecoderEmbedDim = 16, 64, 64
		spec.Train.BatchSize, spec.Train.Steps, spec.Train.WarmupSteps = 32, 3, 1
		spec.Train.EvalEvery, spec.Train.LogEvery = 0, 1
		var want *recorder
		var wantTensors *weights.File
		for _, threads := range []int{1, 2, 3, 8} {
			spec.Train.Threads = threads
			dir := t.TempDir()
			r := newRecorder()
			if err := Train(context.Background(), spec, dir, r); err != nil {
				t.Fatal(err)
			}
			tensors := readTensors(t, filepath.Join(dir, CheckpointName))
			if want == nil {
				want, wantTensors = r, tensors
				continue
			}
			if !equalMetrics(r.metrics, want.metrics) {
				t.Errorf("%s: on %d threads the metrics are\n%v\non 1 thread\n%v", arch, threads, r.metrics, want.metrics)
			}
			for i, x := range tensors.Tensors {
				if !bytes.Equal(x.Data, wantTensors.Tensors[i].Data) {
					t.Errorf("%s: on %d threads %s differs from 1 thread's", arch, threads, x.Name)
				}
			}
		}
	}
}

// readTensors reads a checkpoint's tensors.
func readTensors(t *testing.T, path string) *weights.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, _, err := weights.DecodeChecksummed(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
