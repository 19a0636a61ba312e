package reports

import (
	"testing"

	"harness/model"
)

// CRATE-MAE configurations pair with the MAE ones that agree on every axis
// both have; an axis only one of them has (a step-size axis restricted to
// CRATE-MAE) matches any value.
func TestPairsAxisOfOneVariant(t *testing.T) {
	axes := []*axisInfo{{key: "model.step_size", short: "step_size"}, {key: "train.mask_ratio", short: "mask_ratio"}}
	cfg := func(arch string, values map[string]string) *config {
		return &config{arch: arch, values: values}
	}
	for _, c := range []struct {
		name    string
		configs []*config
		want    int
	}{
		{"same axes", []*config{
			cfg(model.ArchCRATE, map[string]string{"train.mask_ratio": "0.5"}),
			cfg(model.ArchCRATE, map[string]string{"train.mask_ratio": "0.75"}),
			cfg(model.ArchViT, map[string]string{"train.mask_ratio": "0.5"}),
		}, 1},
		{"step size for CRATE-MAE only", []*config{
			cfg(model.ArchCRATE, map[string]string{"model.step_size": "0.1"}),
			cfg(model.ArchCRATE, map[string]string{"model.step_size": "1"}),
			cfg(model.ArchViT, map[string]string{}),
		}, 2},
		{"shared axis still has to agree", []*config{
			cfg(model.ArchCRATE, map[string]string{"model.step_size": "0.1", "train.mask_ratio": "0.5"}),
			cfg(model.ArchViT, map[string]string{"train.mask_ratio": "0.75"}),
		}, 0},
	} {
		if got := len(pairs(&experiment{axes: axes, configs: c.configs})); got != c.want {
			t.Errorf("%s: %d pairs, want %d", c.name, got, c.want)
		}
	}
}
