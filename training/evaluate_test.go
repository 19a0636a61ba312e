package training

import (
	"context"
	"testing"

	"harness/model"
)

// The probes on raw pixels, the baselines of the encoder's, are measured
// once, at step 0, and are the same for both architectures: they do not
// depend on the model. Hoyer's sparsity is logged for both.
func TestPixelBaselinesAtStepZero(t *testing.T) {
	keys := []string{"eval/linear_probe_acc_pixels", "eval/knn_acc_pixels"}
	got := make(map[string]map[string]float64)
	for _, arch := range []string{model.ArchCRATE, model.ArchViT} {
		r := newRecorder()
		if err := Train(context.Background(), tinySpec(arch), t.TempDir(), r); err != nil {
			t.Fatal(err)
		}
		got[arch] = make(map[string]float64)
		for _, k := range []string{"layer/enc/0/hoyer", "layer/dec/0/hoyer"} {
			if v, ok := r.metrics[0][k]; !ok || !(v >= 0 && v <= 1) {
				t.Errorf("%s: %s = %v (logged %v) at step 0, want a value in [0, 1]", arch, k, v, ok)
			}
		}
		for step, values := range r.metrics {
			for _, k := range keys {
				v, ok := values[k]
				switch {
				case step == 0 && !ok:
					t.Errorf("%s: no %s at step 0", arch, k)
				case step != 0 && ok:
					t.Errorf("%s: %s logged again at step %d", arch, k, step)
				case ok && !(v >= 0 && v <= 1):
					t.Errorf("%s: %s = %v", arch, k, v)
				}
				if ok {
					got[arch][k] = v
				}
			}
		}
	}
	for _, k := range keys {
		if got[model.ArchCRATE][k] != got[model.ArchViT][k] {
			t.Errorf("%s: %v for CRATE-MAE, %v for MAE", k, got[model.ArchCRATE][k], got[model.ArchViT][k])
		}
	}
}
