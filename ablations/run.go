package ablations

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"harness/training"
)

// AxisValue is the value one ablation axis takes in a run.
type AxisValue struct {
	Key   string `json:"key"`   // dotted key, e.g. "train.mask_ratio", or a bundled axis's name
	Value any    `json:"value"` // as written in the experiment file, or its label
}

// Run is one expanded run of an experiment. Its JSON form is what the
// store keeps in runs.config_json, and what reports read back.
type Run struct {
	Experiment string        `json:"experiment"`
	Name       string        `json:"name"` // e.g. "CRATE-MAE/mask_ratio=0.5/seed=0"
	Variant    string        `json:"variant"`
	Axes       []AxisValue   `json:"axes"` // in the file's order
	Spec       training.Spec `json:"spec"` // Spec.Seed is the run's seed

	// given holds the keys that the file or an override gives a value,
	// rather than leaving them to their defaults; no part of the JSON form
	// nor of the run's identity.
	given map[string]bool
}

// JSON is the run's canonical JSON form.
func (r Run) JSON() ([]byte, error) { return json.Marshal(r) }

// Hash identifies the run within its experiment: the SHA-256 of its JSON
// form, so that re-running an experiment finds the runs already done and
// any change of configuration makes a new run.
func (r Run) Hash() (string, error) {
	b, err := r.JSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
