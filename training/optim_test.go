package training

import (
	"math"
	"testing"

	"harness/model"
)

// The expected values are PyTorch's (torch 1.13), from:
//
//	w = torch.nn.Parameter(torch.tensor([[0.5, -1.0], [2.0, 0.25]]))
//	b = torch.nn.Parameter(torch.tensor([0.1, -0.2]))
//	opt = torch.optim.AdamW([{"params": [w], "weight_decay": 0.05},
//	                         {"params": [b], "weight_decay": 0.0}], lr=1e-2, betas=(0.9, 0.95))
//	then three steps with the gradients and learning rates below.
func TestAdamWMatchesPyTorch(t *testing.T) {
	w := &model.Param{Name: "w", Shape: []int{2, 2}, Value: []float32{0.5, -1, 2, 0.25}, Trainable: true, Decay: true}
	b := &model.Param{Name: "b", Shape: []int{2}, Value: []float32{0.1, -0.2}, Trainable: true}
	fixed := &model.Param{Name: "pos", Shape: []int{1}, Value: []float32{3}}
	c := DefaultConfig()
	o := newAdamW([]*model.Param{w, b, fixed}, c)
	steps := []struct {
		gw, gb []float32
		lr     float64
	}{
		{[]float32{0.3, -0.1, 0.05, 0.7}, []float32{1, -0.5}, 1e-2},
		{[]float32{-0.2, 0.4, 0.1, -0.3}, []float32{0.2, 0.3}, 5e-3},
		{[]float32{0, 0.01, -1.5, 0.2}, []float32{-0.7, 0.05}, 2e-3},
	}
	for _, s := range steps {
		o.step(s.lr, func(p *model.Param) []float32 {
			switch p {
			case w:
				return s.gw
			case b:
				return s.gb
			}
			t.Fatalf("step asked for the gradient of %s, which is not trainable", p.Name)
			return nil
		})
	}
	want := map[*model.Param][]float64{
		w: {0.488625109, -0.992817819, 1.98464942, 0.237341955},
		b: {0.0856351331, -0.188847601},
	}
	for p, vs := range want {
		for i, v := range vs {
			if math.Abs(float64(p.Value[i])-v) > 2e-7 {
				t.Errorf("%s[%d] = %.9g, PyTorch %.9g", p.Name, i, p.Value[i], v)
			}
		}
	}
	if fixed.Value[0] != 3 {
		t.Error("AdamW changed a fixed parameter")
	}
}

func TestLearningRateSchedule(t *testing.T) {
	c := DefaultConfig()
	c.Steps, c.WarmupSteps, c.BLR, c.BatchSize, c.MinLR = 110, 10, 2.56e-4, 100, 1e-5
	peak := c.LR() // 1e-4
	tests := []struct {
		it   int
		want float64
	}{
		{0, 0}, {5, peak / 2}, {10, peak}, {60, c.MinLR + (peak-c.MinLR)/2}, {110, c.MinLR},
	}
	for _, tt := range tests {
		if got := learningRate(c, tt.it); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("lr at %d = %g, want %g", tt.it, got, tt.want)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	g := [][]float32{{3, 0}, {4}}
	if n := clipGradNorm(g, 10); n != 5 || g[0][0] != 3 {
		t.Errorf("norm %v, grads %v: nothing to clip", n, g)
	}
	clipGradNorm(g, 1)
	if math.Abs(float64(g[0][0])-0.6) > 1e-6 || math.Abs(float64(g[1][0])-0.8) > 1e-6 {
		t.Errorf("clipped to %v, want [0.6 0] [0.8]", g)
	}
}
