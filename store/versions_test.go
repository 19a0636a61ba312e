package store

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// vrun is the configuration with the given hash and name.
func vrun(name string) VersionRun { return VersionRun{Name: name, ConfigHash: "h-" + name} }

// names lists the names of runs.
func names(rs []VersionRun) []string {
	var ns []string
	for _, r := range rs {
		ns = append(ns, r.Name)
	}
	return ns
}

func TestVersions(t *testing.T) {
	s, _ := newStore(t)
	a, b, c, d := vrun("a"), vrun("b"), vrun("c"), vrun("d")
	for _, tc := range []struct {
		text      string
		overrides []string
		runs      []VersionRun
		// want
		version, previous         int
		new                       bool
		added, removed, unchanged []string
	}{
		{"steps = 300", nil, []VersionRun{a, b}, 1, 0, true, []string{"a", "b"}, nil, nil},
		{"steps = 300", nil, []VersionRun{a, b}, 1, 0, false, []string{"a", "b"}, nil, nil},
		{"steps = 350", nil, []VersionRun{a, c}, 2, 1, true, []string{"c"}, []string{"b"}, []string{"a"}},
		{"steps = 350", []string{"train.steps=5"}, []VersionRun{d}, 3, 2, true, []string{"d"}, []string{"a", "c"}, nil},
		{"steps = 300", nil, []VersionRun{a, b}, 4, 3, true, []string{"a", "b"}, []string{"d"}, nil},
	} {
		plan, err := s.PlanVersion("x", tc.text, tc.overrides, tc.runs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PutVersion("x", "desc", tc.text, tc.overrides, tc.runs)
		if err != nil {
			t.Fatal(err)
		}
		if !equalChange(plan, got) {
			t.Errorf("%s %v: planned %+v, put %+v", tc.text, tc.overrides, plan, got)
		}
		if got.Version != tc.version || got.Previous != tc.previous || got.New != tc.new ||
			!slices.Equal(names(got.Added), tc.added) || !slices.Equal(names(got.Removed), tc.removed) ||
			!slices.Equal(names(got.Unchanged), tc.unchanged) {
			t.Errorf("%s %v: got version %d (previous %d, new %v) added %v removed %v unchanged %v, want %d (%d, %v) %v %v %v",
				tc.text, tc.overrides, got.Version, got.Previous, got.New, names(got.Added), names(got.Removed), names(got.Unchanged),
				tc.version, tc.previous, tc.new, tc.added, tc.removed, tc.unchanged)
		}
	}
	vs, err := s.Versions("x")
	if err != nil || len(vs) != 4 {
		t.Fatalf("versions %+v, %v", vs, err)
	}
	if vs[2].TOML != "steps = 350" || !slices.Equal(vs[2].Overrides, []string{"train.steps=5"}) ||
		vs[2].Hash != VersionHash("steps = 350", []string{"train.steps=5"}) || vs[2].Hash == VersionHash("steps = 350", nil) {
		t.Errorf("version 3: %+v", vs[2])
	}
	cur, err := s.CurrentVersion("x")
	if err != nil || cur.Number != 4 {
		t.Errorf("current %+v, %v", cur, err)
	}
	if _, err := s.CurrentVersion("nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("current version of an unknown experiment: %v", err)
	}
	exps, err := s.Experiments()
	if err != nil || len(exps) != 1 || exps[0].TOML != "steps = 300" {
		t.Errorf("experiments %+v, %v", exps, err)
	}
	rv, err := s.RunVersions("x")
	if err != nil || !slices.Equal(rv["h-a"], []int{1, 2, 4}) || !slices.Equal(rv["h-d"], []int{3}) {
		t.Errorf("run versions %v, %v", rv, err)
	}
}

func equalChange(a, b VersionChange) bool {
	return a.Experiment == b.Experiment && a.Version == b.Version && a.Previous == b.Previous && a.New == b.New &&
		slices.Equal(a.Added, b.Added) && slices.Equal(a.Removed, b.Removed) && slices.Equal(a.Unchanged, b.Unchanged) &&
		a.Known == b.Known
}

// claimHashes claims runs of experiment x with the given config hashes,
// named after them.
func claimHashes(t *testing.T, s *Store, hashes ...string) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, h := range hashes {
		r := Run{Experiment: "x", Name: "n-" + h, ConfigJSON: "{}", ConfigHash: h}
		ids[h] = claimNew(t, s, r).ID
	}
	return ids
}

func TestVersionKnownRuns(t *testing.T) {
	s, _ := newStore(t)
	claimHashes(t, s, "h-a")
	must(s.PutVersion("x", "", "steps = 300", nil, []VersionRun{{"a", "h-a"}, {"b", "h-b"}}))
	must(s.PutVersion("x", "", "steps = 350", nil, []VersionRun{{"c", "h-c"}}))
	c := must(s.PutVersion("x", "", "steps = 300", nil, []VersionRun{{"a", "h-a"}, {"b", "h-b"}}))
	if c.Version != 3 || len(c.Added) != 2 || c.Known != 1 {
		t.Errorf("back to the first text: %+v, want version 3, 2 runs added, 1 of them known", c)
	}
}

func TestCurrentFilter(t *testing.T) {
	s, _ := newStore(t)
	claimHashes(t, s, "h-a", "h-b", "h-c")
	other := claimNew(t, s, Run{Experiment: "y", Name: "y", ConfigJSON: "{}", ConfigHash: "h-y"})
	runNames := func(f Filter) []string {
		t.Helper()
		rs, err := s.Runs(f)
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, r := range rs {
			ns = append(ns, r.Name)
		}
		return ns
	}
	// without versions, every run is current
	if got := runNames(Filter{Current: true}); !slices.Equal(got, []string{"n-h-a", "n-h-b", "n-h-c", "y"}) {
		t.Errorf("current runs without versions: %v", got)
	}
	must(s.PutVersion("x", "", "v1", nil, []VersionRun{{"n-h-a", "h-a"}, {"n-h-b", "h-b"}}))
	must(s.PutVersion("x", "", "v2", nil, []VersionRun{{"n-h-b", "h-b"}, {"n-h-c", "h-c"}}))
	for _, tc := range []struct {
		f    Filter
		want []string
	}{
		{Filter{Current: true}, []string{"n-h-b", "n-h-c", "y"}},
		{Filter{Experiment: "x", Current: true}, []string{"n-h-b", "n-h-c"}},
		{Filter{Experiment: "x"}, []string{"n-h-a", "n-h-b", "n-h-c"}},
		{Filter{Name: "n-h-a"}, []string{"n-h-a"}},
		{Filter{Name: "n-h-a", Current: true}, nil},
	} {
		if got := runNames(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}
	if r, err := s.RunByHash("y", "h-y"); err != nil || r.ID != other.ID {
		t.Errorf("run by hash: %+v, %v", r, err)
	}
	if _, err := s.RunByHash("y", "h-x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("run by unknown hash: %v", err)
	}
}

func TestTagsAndNotes(t *testing.T) {
	s, _ := newStore(t)
	ids := claimHashes(t, s, "h-a", "h-b")
	a, b := ids["h-a"], ids["h-b"]
	for _, tc := range []struct {
		runs   []int64
		add    []Tag
		remove []string
		err    bool
		want   map[int64][]Tag
	}{
		{[]int64{a, b}, []Tag{{"best", ""}, {"lr", "0.1"}}, nil, false,
			map[int64][]Tag{a: {{"best", ""}, {"lr", "0.1"}}, b: {{"best", ""}, {"lr", "0.1"}}}},
		{[]int64{b}, []Tag{{"lr", "0.2"}}, []string{"best"}, false,
			map[int64][]Tag{a: {{"best", ""}, {"lr", "0.1"}}, b: {{"lr", "0.2"}}}},
		{[]int64{a, 999}, nil, []string{"best"}, true, // nothing changes
			map[int64][]Tag{a: {{"best", ""}, {"lr", "0.1"}}, b: {{"lr", "0.2"}}}},
		{[]int64{a}, []Tag{{"", "x"}}, nil, true,
			map[int64][]Tag{a: {{"best", ""}, {"lr", "0.1"}}, b: {{"lr", "0.2"}}}},
	} {
		err := s.SetTags(tc.runs, tc.add, tc.remove)
		if (err != nil) != tc.err {
			t.Errorf("SetTags(%v, %v, %v): %v", tc.runs, tc.add, tc.remove, err)
		}
		got, err := s.Tags()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("after SetTags(%v, %v, %v): %v, want %v", tc.runs, tc.add, tc.remove, got, tc.want)
		}
	}
	if got := must(s.Tags(b)); len(got) != 1 || len(got[b]) != 1 {
		t.Errorf("tags of run %d: %v", b, got)
	}
	for _, n := range []Note{{RunID: a, Text: "diverged at step 200"}, {RunID: a, Text: "second"}, {Experiment: "x", Text: "heads study"}} {
		if err := s.AddNote(n); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []Note{{Text: "neither"}, {RunID: a, Experiment: "x", Text: "both"}, {RunID: 999, Text: "no run"}} {
		if err := s.AddNote(bad); err == nil {
			t.Errorf("AddNote(%+v) accepted", bad)
		}
	}
	if ns := must(s.Notes(a, "")); len(ns) != 2 || ns[0].Text != "diverged at step 200" || ns[1].Text != "second" || ns[0].CreatedAt.IsZero() {
		t.Errorf("notes of run %d: %+v", a, ns)
	}
	if ns := must(s.Notes(0, "x")); len(ns) != 1 || ns[0].Text != "heads study" {
		t.Errorf("notes of x: %+v", ns)
	}
}

func TestDeleteRuns(t *testing.T) {
	s, _ := newStore(t)
	ids := claimHashes(t, s, "h-a", "h-b", "h-c")
	must(s.PutVersion("x", "", "v1", nil, []VersionRun{{"n-h-a", "h-a"}, {"n-h-b", "h-b"}, {"n-h-c", "h-c"}}))
	a, b, c := ids["h-a"], ids["h-b"], ids["h-c"]
	for _, id := range []int64{a, b, c} {
		if err := s.LogMetrics(id, []Metric{{Step: 1, Key: "k", Value: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddArtifact(id, "ckpt", fmt.Sprintf("p%d", id)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetTags([]int64{id}, []Tag{{"t", ""}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.AddNote(Note{RunID: id, Text: "n"}); err != nil {
			t.Fatal(err)
		}
	}
	refuse := errors.New("refused")
	// a refused run keeps every run
	if _, err := s.DeleteRuns([]int64{a, b}, func(r Run) error {
		if r.ID == b {
			return refuse
		}
		return nil
	}); !errors.Is(err, refuse) {
		t.Fatalf("DeleteRuns with a refusal: %v", err)
	}
	if _, err := s.DeleteRuns([]int64{a, 999}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteRuns of a missing run: %v", err)
	}
	if n := count(t, s, `SELECT count(*) FROM runs`); n != 3 {
		t.Fatalf("%d runs after refused deletes, want 3", n)
	}
	deleted, err := s.DeleteRuns([]int64{a, b}, nil)
	if err != nil || len(deleted) != 2 || deleted[0].ID != a || deleted[1].ID != b {
		t.Fatalf("DeleteRuns: %+v, %v", deleted, err)
	}
	for _, tc := range []struct {
		table string
		want  int
	}{{"runs", 1}, {"metrics", 1}, {"artifacts", 1}, {"run_tags", 1}, {"notes", 1}, {"version_runs", 1}} {
		if n := count(t, s, `SELECT count(*) FROM `+tc.table); n != tc.want {
			t.Errorf("%s: %d rows left, want %d", tc.table, n, tc.want)
		}
	}
	must(0, s.AddNote(Note{Experiment: "x", Text: "n"}))
	claimNew(t, s, Run{Experiment: "y", Name: "y", ConfigJSON: "{}", ConfigHash: "h-y"})
	deleted, err = s.DeleteExperiment("x", nil)
	if err != nil || len(deleted) != 1 || deleted[0].ID != c {
		t.Fatalf("DeleteExperiment: %+v, %v", deleted, err)
	}
	for _, tc := range []struct {
		table string
		want  int
	}{{"runs", 1}, {"metrics", 0}, {"notes", 0}, {"version_runs", 0}, {"experiment_versions", 0}, {"experiments", 0}} {
		if n := count(t, s, `SELECT count(*) FROM `+tc.table); n != tc.want {
			t.Errorf("after DeleteExperiment %s: %d rows left, want %d", tc.table, n, tc.want)
		}
	}
}

// TestMigrateToVersions opens a store of schema version 2 holding an
// experiment's file and runs: the file becomes version 1 with every run.
func TestMigrateToVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "harness.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	stmts := append([]string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`},
		migrations[0], migrations[1],
		`INSERT INTO schema_migrations VALUES (1, '2025-01-01T00:00:00.000Z'), (2, '2025-01-01T00:00:00.000Z')`,
		`INSERT INTO experiments VALUES ('x', '', 'steps = 300', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')`,
		`INSERT INTO runs (experiment, name, config_json, config_hash) VALUES ('x', 'a', '{}', 'h1'), ('x', 'a', '{}', 'h2'), ('z', 'z', '{}', 'hz')`)
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	vs := must(s.Versions("x"))
	if len(vs) != 1 || vs[0].Number != 1 || vs[0].TOML != "steps = 300" {
		t.Errorf("versions after migration: %+v", vs)
	}
	if rv := must(s.RunVersions("x")); len(rv) != 2 || !slices.Equal(rv["h2"], []int{1}) {
		t.Errorf("run versions after migration: %v", rv)
	}
	if rs := must(s.Runs(Filter{Current: true})); len(rs) != 3 {
		t.Errorf("%d current runs after migration, want 3", len(rs))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// The id of a deleted run, which names its run directory, is never given
// to a new run.
func TestDeletedIDsNotReused(t *testing.T) {
	s, _ := newStore(t)
	ids := claimHashes(t, s, "h-a", "h-b", "h-c")
	if _, err := s.DeleteRuns([]int64{ids["h-b"], ids["h-c"]}, nil); err != nil {
		t.Fatal(err)
	}
	again := claimHashes(t, s, "h-c", "h-d")
	if again["h-c"] != 4 || again["h-d"] != 5 {
		t.Errorf("new runs after deleting runs 2 and 3 got ids %v, want 4 and 5", again)
	}
	if _, err := s.DeleteRuns([]int64{ids["h-a"]}, nil); err != nil {
		t.Fatal(err)
	}
	if id := claimHashes(t, s, "h-e")["h-e"]; id != 6 {
		t.Errorf("a new run after deleting run 1 got id %d, want 6", id)
	}
	if r, err := s.RunByHash("x", "h-c"); err != nil || r.ID != 4 || r.Status != StatusRunning {
		t.Errorf("the renumbered run: %+v, %v", r, err)
	}
}
