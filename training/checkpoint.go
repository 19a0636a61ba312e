package training

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"harness/internal/atomicfile"
	"harness/model"
	"harness/weights"
)

// A checkpoint is one safetensors file: the weights under the released
// names, AdamW's moments under optim.m.<name> and optim.v.<name>, in the
// metadata the completed step count and the run's spec, and last the
// SHA-256 of all of it (weights.ChecksumTensor), checked on load. Masking
// noise and data order derive from (seed, step), so nothing else is needed
// to resume exactly.
//
// A run's directory keeps the last two: CheckpointName and, before it,
// PrevCheckpointName. A new checkpoint is written whole and synced before
// the last one becomes the previous one, so one of them is always whole;
// a corrupt one (it does not decode, or its checksum does not match) is
// set aside with CorruptSuffix, and the run resumes from the other one, or
// else from step 0.
const (
	CheckpointName     = "checkpoint.safetensors"
	PrevCheckpointName = "checkpoint.prev.safetensors"
	CorruptSuffix      = ".corrupt"

	checkpointFormat = "harness-checkpoint/2"
	momentPrefix     = "optim.m."
	secondPrefix     = "optim.v."
)

// legacyFormat is the format of checkpoints written before they had a
// checksum. They still load, unverified, with a warning, so that a run
// interrupted under the previous version does not lose its steps; they
// were written whole (temporary file, rename) all the same. No flipped bit
// makes a checkpoint of the current format pass for one: the two format
// strings differ in two bits, and a checkpoint without a checksum must say
// legacyFormat.
const legacyFormat = "harness-checkpoint/1"

// saveCheckpoint writes the checkpoint of step into dir, keeping the last
// one as the previous one.
func saveCheckpoint(dir string, spec Spec, step int, m *model.Model, o *adamW) error {
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
	path := filepath.Join(dir, CheckpointName)
	err = atomicfile.WriteKeepingPrevious(path, filepath.Join(dir, PrevCheckpointName),
		func(w io.Writer) error { return weights.EncodeChecksummed(w, f) })
	if err != nil {
		return fmt.Errorf("writing checkpoint %s: %w", path, err)
	}
	return nil
}

// resume restores the newest sound checkpoint in dir, the last or else the
// previous one, and returns its step: 0 when there is none. A corrupt
// checkpoint is set aside and warned about, naming the file and what is
// wrong with it; when no sound one is left, training starts over from step
// 0, with a warning. Any other problem, such as a checkpoint of another
// configuration, is an error.
func resume(dir string, spec Spec, m *model.Model, o *adamW, warn func(string)) (int, error) {
	corrupt := false
	for _, name := range []string{CheckpointName, PrevCheckpointName} {
		path := filepath.Join(dir, name)
		step, err := loadCheckpoint(path, spec, m, o, warn)
		var c *corruptError
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case errors.As(err, &c):
			corrupt = true
			warn(setAside(c))
		case err != nil:
			return 0, err
		default:
			if name != CheckpointName {
				warn(fmt.Sprintf("resuming from the previous checkpoint %s, of step %d", path, step))
			}
			return step, nil
		}
	}
	if corrupt {
		warn(fmt.Sprintf("no sound checkpoint left in %s: training starts over from step 0", dir))
	}
	return 0, nil
}

// corruptError says a checkpoint cannot be trusted: it does not decode (a
// broken header, a truncated file) or its checksum does not match.
type corruptError struct {
	path string
	err  error
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("checkpoint %s is corrupt: %v", e.path, e.err)
}

func (e *corruptError) Unwrap() error { return e.err }

// setAside renames the corrupt checkpoint with CorruptSuffix, out of the
// way of the next ones but kept for a look, and returns the warning to
// give.
func setAside(c *corruptError) string {
	if err := os.Rename(c.path, c.path+CorruptSuffix); err != nil {
		return fmt.Sprintf("%v; setting it aside failed: %v", c, err)
	}
	return fmt.Sprintf("%v; set aside as %s", c, filepath.Base(c.path+CorruptSuffix))
}

// loadCheckpoint restores weights and optimizer state from path and returns
// the completed step count. A missing file is an error wrapping
// fs.ErrNotExist, a corrupt one a *corruptError; a checkpoint of another
// spec is an error too. Nothing is restored from a corrupt file.
func loadCheckpoint(path string, spec Spec, m *model.Model, o *adamW, warn func(string)) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading checkpoint: %w", err)
	}
	f, checksummed, err := weights.DecodeChecksummed(b)
	switch {
	case err != nil:
		return 0, &corruptError{path, err}
	case !checksummed && f.Metadata["format"] != legacyFormat:
		return 0, &corruptError{path, fmt.Errorf("no %s tensor", weights.ChecksumTensor)}
	case !checksummed:
		warn(fmt.Sprintf("checkpoint %s has no checksum (format %s, an earlier version's): loaded unverified", path, legacyFormat))
	case f.Metadata["format"] != checkpointFormat:
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
