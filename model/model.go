// Package model holds CRATE-MAE, the white-box masked autoencoder of Pai et
// al. (ICLR 2024), and the MAE it is compared against, on gorgonia, with the
// numerics and parameter names of the released CRATE code.
//
// A Model is a configuration and its parameters. A Graph is a compiled
// forward pass (and, for training, backward pass) of a Model for one batch
// size and mask ratio; several graphs share one Model's parameter values.
// An Executor runs a Graph on a Device: gorgonia's tape machine on the CPU,
// or a walker that computes each node through the Device interface (see
// device.go for what a device must implement).
package model

import (
	"fmt"
	"math/rand/v2"
)

// Model is a masked autoencoder: its configuration and parameters.
type Model struct {
	Config Config
	Params []*Param // in the released state_dict order
	byName map[string]*Param
}

// New builds the model c describes, initialised as the released code does,
// from the given seed.
func New(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: c, Params: newParams(c), byName: map[string]*Param{}}
	rng := rand.New(rand.NewPCG(seed, 0x6372617465)) // "crate"
	for _, p := range m.Params {
		p.Value = make([]float32, p.NumElements())
		p.init(p.Value, rng)
		m.byName[p.Name] = p
	}
	return m, nil
}

// Param returns the parameter of the given released name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// Counts returns the model's parameter counts.
func (m *Model) Counts() Counts {
	n, _ := CountParams(m.Config)
	return n
}

// SetParam copies values into the named parameter, checking its shape.
func (m *Model) SetParam(name string, shape []int, values []float32) error {
	p := m.byName[name]
	if p == nil {
		return fmt.Errorf("unknown parameter %q for this %s model", name, m.Config.Arch)
	}
	if !sameShape(p.Shape, shape) || len(values) != len(p.Value) {
		return fmt.Errorf("parameter %s: shape %v, want %v", name, shape, p.Shape)
	}
	copy(p.Value, values)
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
