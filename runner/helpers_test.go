package runner

import (
	"path/filepath"
	"testing"

	"harness/ablations"
	"harness/store"
)

// tinyTOML is an experiment of two small runs on synthetic data that train
// in a fraction of a second.
const tinyTOML = `
[experiment]
name = "tiny"

[model]
img_size = 8
patch_size = 4
in_chans = 1
embed_dim = 16
depth = 1
num_heads = 2
decoder_embed_dim = 16
decoder_depth = 1
decoder_num_heads = 2

[data]
dataset = "synthetic"
train_size = 64
test_size = 32

[train]
steps = 40
batch_size = 8
warmup_steps = 5
checkpoint_every = 10

[eval]
images = 16
probe_train = 32
probe_test = 16
recon_samples = 2

[[variant]]
name = "CRATE-MAE"
set = { "model.arch" = "crate" }

[[variant]]
name = "MAE"
set = { "model.arch" = "vit" }
`

// tinyJobs plans the runs of tinyTOML with the overrides.
func tinyJobs(t *testing.T, overrides ...string) (*ablations.Experiment, []Job) {
	t.Helper()
	x, runs, err := ablations.Parse([]byte(tinyTOML), "tiny.toml", overrides)
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
