package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A Tag labels a run: a key with an optional value.
type Tag struct {
	Key   string
	Value string // "" for a bare key
}

func (t Tag) String() string {
	if t.Value == "" {
		return t.Key
	}
	return t.Key + "=" + t.Value
}

// A Note is free text on a run or an experiment.
type Note struct {
	RunID      int64  // 0 for a note on an experiment
	Experiment string // "" for a note on a run
	Text       string
	CreatedAt  time.Time
}

// Tags returns the tags of the given runs, by run id, each run's sorted by
// key; with no ids, those of every run.
func (s *Store) Tags(runIDs ...int64) (map[int64][]Tag, error) {
	rows, err := s.db.Query(`SELECT run_id, key, value FROM run_tags ORDER BY run_id, key`)
	if err != nil {
		return nil, fmt.Errorf("store: tags: %w", err)
	}
	defer rows.Close()
	want := map[int64]bool{}
	for _, id := range runIDs {
		want[id] = true
	}
	m := map[int64][]Tag{}
	for rows.Next() {
		var id int64
		var t Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("store: tags: %w", err)
		}
		if len(want) == 0 || want[id] {
			m[id] = append(m[id], t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: tags: %w", err)
	}
	return m, nil
}

// SetTags adds the tags add to the given runs, replacing the value of a
// key a run has, and removes the keys remove, all in one transaction. It
// fails, changing nothing, if a run does not exist (ErrNotFound) or a key
// is empty.
func (s *Store) SetTags(runIDs []int64, add []Tag, remove []string) error {
	for _, t := range add {
		if t.Key == "" {
			return fmt.Errorf("store: tag %q: empty key", t.String())
		}
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("store: set tags: %w", err)
	}
	defer tx.Rollback()
	for _, id := range runIDs {
		if err := runExists(tx, id); err != nil {
			return fmt.Errorf("store: set tags of run %d: %w", id, err)
		}
		for _, k := range remove {
			if _, err := tx.Exec(`DELETE FROM run_tags WHERE run_id = ? AND key = ?`, id, k); err != nil {
				return fmt.Errorf("store: remove tag %s of run %d: %w", k, id, err)
			}
		}
		for _, t := range add {
			if _, err := tx.Exec(`INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)
ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, id, t.Key, t.Value); err != nil {
				return fmt.Errorf("store: tag run %d %s: %w", id, t, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: set tags: %w", err)
	}
	return nil
}

func runExists(tx *sql.Tx, id int64) error {
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM runs WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// AddNote records a note on a run (n.RunID) or an experiment
// (n.Experiment), one of the two, stamped now.
func (s *Store) AddNote(n Note) error {
	if (n.RunID == 0) == (n.Experiment == "") {
		return errors.New("store: add a note: give a run or an experiment, not both or neither")
	}
	var run any
	var exp any
	if n.RunID != 0 {
		run = n.RunID
	} else {
		exp = n.Experiment
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("store: add a note: %w", err)
	}
	defer tx.Rollback()
	if n.RunID != 0 {
		if err := runExists(tx, n.RunID); err != nil {
			return fmt.Errorf("store: add a note to run %d: %w", n.RunID, err)
		}
	}
	if _, err := tx.Exec(`INSERT INTO notes (run_id, experiment, text, created_at) VALUES (?, ?, ?, ?)`,
		run, exp, n.Text, formatTime(time.Now())); err != nil {
		return fmt.Errorf("store: add a note: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: add a note: %w", err)
	}
	return nil
}

// Notes returns the notes on a run (runID > 0) or on an experiment, oldest
// first.
func (s *Store) Notes(runID int64, experiment string) ([]Note, error) {
	q, arg := `SELECT coalesce(run_id, 0), coalesce(experiment, ''), text, created_at FROM notes WHERE run_id = ? ORDER BY id`, any(runID)
	if runID == 0 {
		q, arg = `SELECT coalesce(run_id, 0), coalesce(experiment, ''), text, created_at FROM notes WHERE experiment = ? ORDER BY id`, experiment
	}
	rows, err := s.db.Query(q, arg)
	if err != nil {
		return nil, fmt.Errorf("store: notes: %w", err)
	}
	defer rows.Close()
	var ns []Note
	for rows.Next() {
		var n Note
		var created sql.NullString
		if err := rows.Scan(&n.RunID, &n.Experiment, &n.Text, &created); err != nil {
			return nil, fmt.Errorf("store: notes: %w", err)
		}
		if n.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: notes: %w", err)
		}
		ns = append(ns, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: notes: %w", err)
	}
	return ns, nil
}

// DeleteRuns deletes the given runs with their metrics, artifacts, tags,
// notes and version memberships, in one IMMEDIATE transaction. Each run is
// read within it and passed to check first; if check refuses one, or one
// does not exist (ErrNotFound), nothing is deleted. It returns the runs
// deleted, as they were.
func (s *Store) DeleteRuns(runIDs []int64, check func(Run) error) ([]Run, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("store: delete runs: %w", err)
	}
	defer tx.Rollback()
	deleted, err := deleteRuns(tx, runIDs, check)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: delete runs: %w", err)
	}
	return deleted, nil
}

func deleteRuns(tx *sql.Tx, runIDs []int64, check func(Run) error) ([]Run, error) {
	var deleted []Run
	for _, id := range runIDs {
		r, err := scanRun(tx.QueryRow(`SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		if err == nil && check != nil {
			err = check(r)
		}
		if err != nil {
			return nil, fmt.Errorf("store: delete run %d: %w", id, err)
		}
		for _, q := range []string{
			`DELETE FROM version_runs WHERE experiment = ? AND config_hash = ?`,
			`DELETE FROM runs WHERE experiment = ? AND config_hash = ?`,
		} {
			if _, err := tx.Exec(q, r.Experiment, r.ConfigHash); err != nil {
				return nil, fmt.Errorf("store: delete run %d: %w", id, err)
			}
		}
		deleted = append(deleted, r)
	}
	return deleted, nil
}

// DeleteExperiment deletes an experiment whole: its runs as DeleteRuns
// does (check as there), its versions, notes and recorded file. It returns
// the runs deleted.
func (s *Store) DeleteExperiment(name string, check func(Run) error) ([]Run, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("store: delete experiment %s: %w", name, err)
	}
	defer tx.Rollback()
	rows, err := tx.Query(`SELECT id FROM runs WHERE experiment = ? ORDER BY id`, name)
	if err != nil {
		return nil, fmt.Errorf("store: delete experiment %s: %w", name, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: delete experiment %s: %w", name, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	deleted, err := deleteRuns(tx, ids, check)
	if err != nil {
		return nil, err
	}
	for _, q := range []string{
		`DELETE FROM version_runs WHERE experiment = ?`,
		`DELETE FROM experiment_versions WHERE experiment = ?`,
		`DELETE FROM notes WHERE experiment = ?`,
		`DELETE FROM experiments WHERE name = ?`,
	} {
		if _, err := tx.Exec(q, name); err != nil {
			return nil, fmt.Errorf("store: delete experiment %s: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: delete experiment %s: %w", name, err)
	}
	return deleted, nil
}
