// Package training pretrains a masked autoencoder with the MAE recipe of
// the released CRATE-MAE code (AdamW, warm-up then half-cycle cosine),
// checkpoints and resumes it exactly, evaluates it, and reports every metric
// through a callback.
package training

import (
	"harness/data"
	"harness/evaluation"
	"harness/model"
)

// Spec is everything one run needs: the tables of an experiment file after
// its variant, ablation values and seed are applied.
type Spec struct {
	Model model.Config      `toml:"model" json:"model"`
	Data  data.Config       `toml:"data" json:"data"`
	Train Config            `toml:"train" json:"train"`
	Eval  evaluation.Config `toml:"eval" json:"eval"`
	// Seed derives initialisation, data order and masking noise.
	Seed uint64 `toml:"-" json:"seed"`
}

// DefaultSpec returns the defaults of every table, with the default model
// preset.
func DefaultSpec() Spec {
	return Spec{
		Model: model.Presets[model.DefaultPreset],
		Data:  data.DefaultConfig(),
		Train: DefaultConfig(),
		Eval:  evaluation.DefaultConfig(),
	}
}

// Validate checks every table and the shapes they make together, naming
// the key at fault.
func (s Spec) Validate() error {
	if err := s.Model.Validate(); err != nil {
		return err
	}
	if _, err := s.Model.Kept(s.Train.MaskRatio); err != nil {
		return err
	}
	if err := s.Data.Validate(); err != nil {
		return err
	}
	if err := s.Train.Validate(); err != nil {
		return err
	}
	if err := s.Eval.Validate(); err != nil {
		return err
	}
	return nil
}
