package training

import (
	"context"
	"testing"

	"harness/model"
)

// A short pretraining on an MNIST subset must lower the held-out
// reconstruction loss well below its value at initialisation and make the
// encoder's features better for a linear probe than at initialisation.
func TestPretrainingOnMNISTLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two small models")
	}
	for _, arch := range []string{model.ArchCRATE, model.ArchViT} {
		s := DefaultSpec()
		s.Model = model.Config{
			Arch: arch, ImgSize: 28, PatchSize: 7, InChans: 1, EmbedDim: 32, Depth: 2, NumHeads: 4,
			DecoderEmbedDim: 32, DecoderDepth: 1, DecoderNumHeads: 4, MLPRatio: 4, StepSize: 0.1, Lambd: 0.5,
			Masking: model.MaskingReleased,
		}
		s.Data.TrainSize, s.Data.TestSize = 4096, 512
		s.Train.Steps, s.Train.BatchSize, s.Train.WarmupSteps, s.Train.BLR = 300, 32, 20, 1e-2
		s.Train.CheckpointEvery, s.Train.LogEvery = 0, 50
		s.Eval.Images, s.Eval.ProbeTrain, s.Eval.ProbeTest, s.Eval.ReconSamples = 256, 1024, 512, 0
		s.Eval.KNN, s.Eval.Layerwise = false, false
		r := newRecorder()
		if err := Train(context.Background(), s, t.TempDir(), r); err != nil {
			t.Fatal(err)
		}
		before, after := r.metrics[0], r.metrics[s.Train.Steps]
		t.Logf("%s: recon loss %.4f -> %.4f, linear probe %.3f -> %.3f", arch,
			before["eval/recon_loss"], after["eval/recon_loss"], before["eval/linear_probe_acc"], after["eval/linear_probe_acc"])
		if !(after["eval/recon_loss"] < 0.7*before["eval/recon_loss"]) {
			t.Errorf("%s: recon loss %.4f -> %.4f, want a fall of 30%% or more", arch, before["eval/recon_loss"], after["eval/recon_loss"])
		}
		if !(after["eval/linear_probe_acc"] > before["eval/linear_probe_acc"]) {
			t.Errorf("%s: linear probe %.3f -> %.3f, want better after pretraining", arch, before["eval/linear_probe_acc"], after["eval/linear_probe_acc"])
		}
	}
}
