package runner

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"

	"harness/store"
)

func TestSpecKeys(t *testing.T) {
	_, jobs := tinyJobs(t, "train.blr=1e-3")
	keys, err := SpecKeys(jobs[1].JSON)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"model.arch": `"vit"`, "model.embed_dim": "16", "train.blr": "0.001", "seed": "0", "eval.linear_probe": "true",
	} {
		if keys[k] != want {
			t.Errorf("%s = %s, want %s", k, keys[k], want)
		}
	}
	if _, ok := keys["name"]; ok {
		t.Error("keys outside the spec")
	}
}

// claimRuns puts the runs of tinyJobs in the store, in experiments a and b.
func claimRuns(t *testing.T, st *store.Store) []store.Run {
	t.Helper()
	_, jobs := tinyJobs(t)
	var runs []store.Run
	for _, exp := range []string{"a", "b"} {
		for _, j := range jobs {
			rec := record(j)
			rec.Experiment = exp
			r, _, err := st.Claim(rec, false)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, r)
		}
	}
	return runs
}

func TestFindRun(t *testing.T) {
	st := openStore(t)
	runs := claimRuns(t, st)
	if r, err := FindRun(st, strconv.FormatInt(runs[1].ID, 10), ""); err != nil || r.ID != runs[1].ID {
		t.Errorf("by id: %+v, %v", r, err)
	}
	if r, err := FindRun(st, runs[3].Name, "b"); err != nil || r.ID != runs[3].ID {
		t.Errorf("by name in b: %+v, %v", r, err)
	}
	if _, err := FindRun(st, runs[3].Name, ""); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("a name in two experiments: %v", err)
	}
	if _, err := FindRun(st, "nope/seed=0", ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown name: %v", err)
	}
	if _, err := FindRun(st, strconv.FormatInt(runs[0].ID, 10), "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an id of another experiment: %v", err)
	}
}

func TestExport(t *testing.T) {
	st := openStore(t)
	runs := claimRuns(t, st)
	for i, r := range runs {
		ms := []store.Metric{{Step: 10, Key: "train/loss", Value: float64(i) + 0.5}, {Step: 20, Key: "train/loss", Value: math.Inf(1)}}
		if err := st.LogMetrics(r.ID, ms); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := Export(&b, st, store.Filter{Experiment: "b"}, FormatCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "run_id" || rows[1][1] != "b" || rows[1][2] != runs[2].Name || rows[1][5] != "2.5" || rows[2][5] != "+Inf" {
		t.Errorf("CSV:\n%v", rows)
	}
	b.Reset()
	if err := Export(&b, st, store.Filter{}, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var js []Row
	if err := json.Unmarshal(b.Bytes(), &js); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(js) != 8 || js[0].Experiment != "a" || js[0].Step != 10 || !math.IsInf(float64(js[1].Value), 1) {
		t.Errorf("JSON: %+v", js)
	}
	b.Reset()
	if err := Export(&b, st, store.Filter{Experiment: "none"}, FormatJSON); err != nil || b.String() != "[]\n" {
		t.Errorf("no runs: %q, %v", b.String(), err)
	}
}
