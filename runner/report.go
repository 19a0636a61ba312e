package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"harness/store"
)

// SpecKeys flattens the spec of a run's configuration (runs.config_json)
// to dotted keys, as an experiment file names them ("model.embed_dim",
// "train.steps", "seed"), with values as JSON text: numbers as stored,
// strings quoted, arrays whole.
func SpecKeys(configJSON string) (map[string]string, error) {
	var cfg struct {
		Spec json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal([]byte(configJSON), &cfg); err != nil {
		return nil, fmt.Errorf("run configuration: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(cfg.Spec))
	dec.UseNumber()
	var spec map[string]any
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("run configuration: spec: %w", err)
	}
	flat := map[string]string{}
	if err := flatten(spec, "", flat); err != nil {
		return nil, fmt.Errorf("run configuration: %w", err)
	}
	return flat, nil
}

// flatten copies the leaves of the object v into flat under their dotted
// keys, prefixed by prefix.
func flatten(v map[string]any, prefix string, flat map[string]string) error {
	for k, x := range v {
		if sub, ok := x.(map[string]any); ok {
			if err := flatten(sub, prefix+k+".", flat); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("%s%s: %w", prefix, k, err)
		}
		flat[prefix+k] = string(b)
	}
	return nil
}

// SortedKeys returns the keys of m in order.
func SortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// FindRun finds a run by its id or its name; a name names the newest run
// of that name in experiment, or in any experiment if experiment is "" and
// only one has a run of that name.
func FindRun(st *store.Store, ref, experiment string) (store.Run, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		r, err := st.Run(id)
		if err == nil && experiment != "" && r.Experiment != experiment {
			err = fmt.Errorf("run %d belongs to experiment %s, not %s: %w", id, r.Experiment, experiment, store.ErrNotFound)
		}
		return r, err
	}
	if experiment != "" {
		return st.RunByName(experiment, ref)
	}
	runs, err := st.Runs(store.Filter{})
	if err != nil {
		return store.Run{}, err
	}
	newest := map[string]store.Run{} // by experiment
	for _, r := range runs {
		if r.Name == ref {
			newest[r.Experiment] = r // runs come in id order
		}
	}
	switch len(newest) {
	case 0:
		return store.Run{}, fmt.Errorf("run %s: %w", ref, store.ErrNotFound)
	case 1:
		for _, r := range newest {
			return r, nil
		}
	}
	return store.Run{}, fmt.Errorf("run %s: %w: the experiments %s all have a run of that name; give --experiment or the run's id",
		ref, ErrAmbiguous, strings.Join(SortedKeys(newest), ", "))
}

// ErrAmbiguous is wrapped by the error of FindRun for a name that several
// experiments use.
var ErrAmbiguous = errors.New("ambiguous")
