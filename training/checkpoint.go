package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"harness/model"
	"harness/weights"
)

// A checkpoint is one safetensors file: the weights under the released
// names, AdamW's moments under optim.m.<name> and optim.v.<name>, and in the
// metadata the completed step count and the run's spec. Masking noise and
// data order derive from (seed, step), so nothing else is needed to resume
// exactly.
const (
	checkpointFormat = "harness-checkpoint/1"
	momentPrefix     = "optim.m."
	secondPrefix     = "optim.v."
)

// saveCheckpoint writes the checkpoint atomically (temporary file, then
// rename).
func saveCheckpoint(path string, spec Spec, step int, m *model.Model, o *adamW) error {
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	f := &weights.File{Metadata: map[string]string{
		"format": checkpointFormat, "step": strconv.Itoa(step), "spec": string(specJSON),
	}}
	for _, p := range m.Params {
		f.Tensors = append(f.Tensors, weights.NewF32(p.Name, p.Shape, p.Value))
	}
	for i, p := range o.params {
		f.Tensors = append(f.Tensors,
			weights.NewF32(momentPrefix+p.Name, p.Shape, o.m[i]),
			weights.NewF32(secondPrefix+p.Name, p.Shape, o.v[i]))
	}
	if err := weights.WriteSafetensors(path, f); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	return nil
}

// loadCheckpoint restores weights and optimizer state from path and returns
// the completed step count; it returns 0 and no error when there is no
// checkpoint yet. A checkpoint of another spec is an error.
func loadCheckpoint(path string, spec Spec, m *model.Model, o *adamW) (int, error) {
	f, err := weights.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading checkpoint: %w", err)
	}
	if f.Metadata["format"] != checkpointFormat {
		return 0, fmt.Errorf("checkpoint %s: format %q, want %q", path, f.Metadata["format"], checkpointFormat)
	}
	want, err := json.Marshal(spec)
	if err != nil {
		return 0, err
	}
	if f.Metadata["spec"] != string(want) {
		return 0, fmt.Errorf("checkpoint %s belongs to another configuration", path)
	}
	step, err := strconv.Atoi(f.Metadata["step"])
	if err != nil || step < 0 {
		return 0, fmt.Errorf("checkpoint %s: bad step %q", path, f.Metadata["step"])
	}
	load := func(name string, dst []float32) error {
		t, ok := f.Get(name)
		if !ok {
			return fmt.Errorf("checkpoint %s: no tensor %s", path, name)
		}
		v, err := t.Float32()
		if err != nil || len(v) != len(dst) {
			return fmt.Errorf("checkpoint %s: tensor %s does not fit the model", path, name)
		}
		copy(dst, v)
		return nil
	}
	for _, p := range m.Params {
		if err := load(p.Name, p.Value); err != nil {
			return 0, err
		}
	}
	for i, p := range o.params {
		if err := load(momentPrefix+p.Name, o.m[i]); err != nil {
			return 0, err
		}
		if err := load(secondPrefix+p.Name, o.v[i]); err != nil {
			return 0, err
		}
	}
	o.t = step
	return step, nil
}
