package training

import (
	"math"

	"harness/model"
)

// adamW is PyTorch's AdamW over a model's trainable parameters:
// p ← p - lr·wd·p (decayed parameters only), m ← β₁m + (1-β₁)g,
// v ← β₂v + (1-β₂)g², p ← p - lr·m̂/(√v̂ + ε), with bias-corrected m̂, v̂.
type adamW struct {
	beta1, beta2, eps, weightDecay float64
	t                              int // updates so far
	params                         []*model.Param
	m, v                           [][]float32
}

func newAdamW(params []*model.Param, c Config) *adamW {
	o := &adamW{beta1: c.Beta1, beta2: c.Beta2, eps: 1e-8, weightDecay: c.WeightDecay}
	for _, p := range params {
		if !p.Trainable {
			continue
		}
		o.params = append(o.params, p)
		o.m = append(o.m, make([]float32, len(p.Value)))
		o.v = append(o.v, make([]float32, len(p.Value)))
	}
	return o
}

// step applies one update with learning rate lr; grad returns a parameter's
// gradient, nil where the loss does not depend on it (PyTorch skips those).
func (o *adamW) step(lr float64, grad func(*model.Param) []float32) {
	o.t++
	bc1 := 1 - math.Pow(o.beta1, float64(o.t))
	bc2 := 1 - math.Pow(o.beta2, float64(o.t))
	stepSize := float32(lr / bc1)
	b1, b2 := float32(o.beta1), float32(o.beta2)
	invSqrtBC2 := float32(1 / math.Sqrt(bc2))
	eps := float32(o.eps)
	for i, p := range o.params {
		g := grad(p)
		if g == nil {
			continue
		}
		if p.Decay {
			keep := float32(1 - lr*o.weightDecay)
			for j := range p.Value {
				p.Value[j] *= keep
			}
		}
		m, v := o.m[i], o.v[i]
		for j, gj := range g {
			m[j] = b1*m[j] + (1-b1)*gj
			v[j] = b2*v[j] + (1-b2)*gj*gj
			p.Value[j] -= stepSize * m[j] / (float32(math.Sqrt(float64(v[j])))*invSqrtBC2 + eps)
		}
	}
}

// learningRate is MAE's schedule at update it (from 0) of steps: linear
// warm-up from 0 to lr over warmup updates, then a half-cycle cosine from lr
// down to minLR.
func learningRate(c Config, it int) float64 {
	lr := c.LR()
	if it < c.WarmupSteps {
		return lr * float64(it) / float64(c.WarmupSteps)
	}
	span := c.Steps - c.WarmupSteps
	if span <= 0 {
		return lr
	}
	progress := float64(it-c.WarmupSteps) / float64(span)
	return c.MinLR + (lr-c.MinLR)*0.5*(1+math.Cos(math.Pi*progress))
}

// clipGradNorm scales every gradient so that their global L2 norm is at
// most maxNorm, as torch.nn.utils.clip_grad_norm_ does, and returns the
// norm before clipping.
func clipGradNorm(grads [][]float32, maxNorm float64) float64 {
	var ss float64
	for _, g := range grads {
		for _, x := range g {
			ss += float64(x) * float64(x)
		}
	}
	norm := math.Sqrt(ss)
	if coef := maxNorm / (norm + 1e-6); coef < 1 {
		for _, g := range grads {
			for j := range g {
				g[j] *= float32(coef)
			}
		}
	}
	return norm
}
