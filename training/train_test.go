package training

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"harness/model"
)

// recorder is a Sink that keeps everything.
type recorder struct {
	resumed   []int
	warnings  []string
	metrics   map[int]map[string]float64
	artifacts []string
	onMetrics func(step int)
}

func newRecorder() *recorder { return &recorder{metrics: map[int]map[string]float64{}} }

func (r *recorder) Warn(msg string) { r.warnings = append(r.warnings, msg) }

func (r *recorder) Resumed(step int) error { r.resumed = append(r.resumed, step); return nil }

func (r *recorder) Metrics(step int, values map[string]float64) error {
	if r.metrics[step] == nil {
		r.metrics[step] = map[string]float64{}
	}
	maps.Copy(r.metrics[step], values)
	if r.onMetrics != nil {
		r.onMetrics(step)
	}
	return nil
}

func (r *recorder) Artifact(kind, path string) error {
	r.artifacts = append(r.artifacts, kind+":"+filepath.Base(path))
	return nil
}

// tinySpec is a run of a few seconds on synthetic images.
func tinySpec(arch string) Spec {
	s := DefaultSpec()
	s.Model = model.Config{
		Arch: arch, ImgSize: 8, PatchSize: 4, InChans: 1, EmbedDim: 16, Depth: 1, NumHeads: 2,
		DecoderEmbedDim: 16, DecoderDepth: 1, DecoderNumHeads: 2, MLPRatio: 4, StepSize: 0.1, Lambd: 0.5,
		Masking: model.MaskingReleased,
	}
	s.Data.Dataset, s.Data.TrainSize, s.Data.TestSize = "synthetic", 64, 32
	s.Train.Steps, s.Train.BatchSize, s.Train.WarmupSteps = 24, 8, 4
	s.Train.CheckpointEvery, s.Train.EvalEvery, s.Train.LogEvery = 8, 12, 2
	s.Eval.Images, s.Eval.ProbeTrain, s.Eval.ProbeTest, s.Eval.ReconSamples = 16, 32, 16, 2
	s.Seed = 3
	return s
}

func TestSameSeedSameCurve(t *testing.T) {
	for _, arch := range []string{model.ArchCRATE, model.ArchViT} {
		spec := tinySpec(arch)
		a, b := newRecorder(), newRecorder()
		if err := Train(context.Background(), spec, t.TempDir(), a); err != nil {
			t.Fatal(err)
		}
		if err := Train(context.Background(), spec, t.TempDir(), b); err != nil {
			t.Fatal(err)
		}
		if !equalMetrics(a.metrics, b.metrics) {
			t.Errorf("%s: two runs of one seed differ:\n%v\n%v", arch, a.metrics, b.metrics)
		}
		for _, key := range []string{"train/loss", "train/lr", "eval/recon_loss", "eval/linear_probe_acc",
			"eval/linear_probe_acc_mean", "eval/knn_acc", "layer/enc/0/coding_rate", "layer/dec/0/sparsity"} {
			if _, ok := a.metrics[spec.Train.Steps][key]; !ok {
				t.Errorf("%s: no %s at the last step", arch, key)
			}
		}
		spec.Seed++
		c := newRecorder()
		if err := Train(context.Background(), spec, t.TempDir(), c); err != nil {
			t.Fatal(err)
		}
		if equalMetrics(a.metrics, c.metrics) {
			t.Errorf("%s: another seed gave the same curve", arch)
		}
	}
}

func equalMetrics(a, b map[int]map[string]float64) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]float64) bool { return maps.Equal(x, y) })
}

// A run stopped at step 13 (a checkpoint is written on cancellation) and
// resumed must log exactly what a run never stopped logs.
func TestResumeEqualsNeverStopping(t *testing.T) {
	spec := tinySpec(model.ArchCRATE)
	whole := newRecorder()
	if err := Train(context.Background(), spec, t.TempDir(), whole); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	first := trainStoppedAt(t, spec, dir, 14)
	if _, err := os.Stat(filepath.Join(dir, CheckpointName)); err != nil {
		t.Fatal(err)
	}
	second := newRecorder()
	if err := Train(context.Background(), spec, dir, second); err != nil {
		t.Fatal(err)
	}
	if len(second.resumed) != 1 || second.resumed[0] != 14 {
		t.Fatalf("resumed at %v, want step 14", second.resumed)
	}
	for step, values := range whole.metrics {
		got := second.metrics[step]
		if step <= 14 {
			got = first.metrics[step]
		}
		if !maps.Equal(got, values) {
			t.Errorf("step %d: resumed %v, never stopped %v", step, got, values)
		}
	}
	// a checkpoint of another configuration is refused, not resumed
	spec.Train.BLR *= 2
	if err := Train(context.Background(), spec, dir, newRecorder()); err == nil {
		t.Error("resumed a checkpoint of another configuration")
	}
}

func TestDivergenceFailsWithStep(t *testing.T) {
	spec := tinySpec(model.ArchViT)
	spec.Train.BLR, spec.Train.WarmupSteps = 1e9, 0
	err := Train(context.Background(), spec, t.TempDir(), newRecorder())
	if err == nil || !containsAll(err.Error(), "step", "diverged") {
		t.Fatalf("error %v, want one naming the step at which the loss diverged", err)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
