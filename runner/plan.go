package runner

import (
	"fmt"

	"harness/ablations"
	"harness/model"
)

// A Job is an expanded run ready to schedule: its configuration, the hash
// that identifies it in the store, and its parameter counts.
type Job struct {
	Run    ablations.Run
	JSON   string // Run.JSON(), as runs.config_json keeps it
	Hash   string // Run.Hash()
	Params model.Counts
}

// Plan prepares the runs of an experiment for scheduling.
func Plan(runs []ablations.Run) ([]Job, error) {
	jobs := make([]Job, len(runs))
	for i, r := range runs {
		b, err := r.JSON()
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		h, err := r.Hash()
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		n, err := r.Params()
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.Name, err)
		}
		jobs[i] = Job{Run: r, JSON: string(b), Hash: h, Params: n}
	}
	return jobs, nil
}
