package runner

import (
	"path/filepath"
	"testing"

	"harness/ablations"
	"harness/store"
)

// tinyJobs plans the runs of testdata/tiny.toml, an experiment of two
// small runs on synthetic data that train in a fraction of a second, with
// the overrides.
func tinyJobs(t *testing.T, overrides ...string) (*ablations.Experiment, []Job) {
	t.Helper()
	x, runs, err := ablations.Load("testdata/tiny.toml", overrides)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := Plan(runs)
	if err != nil {
		t.Fatal(err)
	}
	return x, jobs
}

// record is what Run claims job j as.
func record(j Job) store.Run {
	return store.Run{Experiment: j.Run.Experiment, Name: j.Run.Name, ConfigJSON: j.JSON, ConfigHash: j.Hash,
		Device: "cpu (1 threads)", Host: "test", Command: "test"}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "harness.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
