package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A Version is one version of an experiment: a text of its file, with the
// overrides (--set) it was run with. Versions are numbered from 1 in the
// order they were first run.
type Version struct {
	Experiment string
	Number     int
	TOML       string
	Overrides  []string
	// Hash is the SHA-256 of the text and overrides (see VersionHash);
	// "" for a version 1 made by the migration from the file an older
	// store had recorded.
	Hash      string
	CreatedAt time.Time
}

// A VersionRun is a configuration a version expands to: a run's name and
// its config_hash, which with the experiment identifies the run.
type VersionRun struct {
	Name       string
	ConfigHash string
}

// A VersionChange says how the runs of a version differ from those of the
// version before it.
type VersionChange struct {
	Experiment string
	Version    int  // the version the text is
	Previous   int  // the version before it; 0 if none
	New        bool // the text is a new version (made by PutVersion, or to be)
	// Added, Removed and Unchanged are the runs of Version not in
	// Previous, of Previous not in Version, and of both, in the order
	// given (Removed: by name).
	Added, Removed, Unchanged []VersionRun
	// Known counts the runs of Added that the store already has, as
	// from a version before Previous.
	Known int
}

// VersionHash is the hash identifying a version: SHA-256 of the text and
// the overrides, in hex.
func VersionHash(text string, overrides []string) string {
	h := sha256.New()
	h.Write([]byte(text))
	for _, o := range overrides {
		h.Write([]byte{0})
		h.Write([]byte(o))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PlanVersion says, reading only, which version of experiment the text
// with the overrides would be and how its runs differ from the current
// version's, as PutVersion would record it.
func (s *Store) PlanVersion(experiment, text string, overrides []string, runs []VersionRun) (VersionChange, error) {
	c, err := planVersion(s.db, experiment, text, overrides, runs)
	if err != nil {
		return VersionChange{}, fmt.Errorf("store: plan a version of %s: %w", experiment, err)
	}
	return c, nil
}

// PlanNewVersion is PlanVersion for an experiment a store does not know,
// as for a store not made yet: version 1, every run added.
func PlanNewVersion(experiment string, runs []VersionRun) VersionChange {
	return VersionChange{Experiment: experiment, Version: 1, New: true, Added: slices.Clone(runs)}
}

// PutVersion records the text of an experiment's file, with the overrides
// it is run with and the runs it expands to, as a version: when text and
// overrides are those of the current version, that version, its runs
// completed with any not listed yet; otherwise a new version numbered one
// more than the current. It also records the file as PutExperiment does,
// all in one transaction, and returns how the version's runs differ from
// the version before.
func (s *Store) PutVersion(experiment, description, text string, overrides []string, runs []VersionRun) (VersionChange, error) {
	tx, err := s.db.Begin()
	if err != nil {
		return VersionChange{}, fmt.Errorf("store: put a version of %s: %w", experiment, err)
	}
	defer tx.Rollback()
	c, err := planVersion(tx, experiment, text, overrides, runs)
	if err == nil {
		err = putVersion(tx, c, description, text, overrides, runs)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return VersionChange{}, fmt.Errorf("store: put a version of %s: %w", experiment, err)
	}
	return c, nil
}

func putVersion(tx *sql.Tx, c VersionChange, description, text string, overrides []string, runs []VersionRun) error {
	now := formatTime(time.Now())
	if c.New {
		if _, err := tx.Exec(`INSERT INTO experiment_versions (experiment, version, toml_text, overrides, hash, created_at)
VALUES (?, ?, ?, ?, ?, ?)`, c.Experiment, c.Version, text, strings.Join(overrides, "\n"), VersionHash(text, overrides), now); err != nil {
			return err
		}
	}
	for _, r := range runs {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO version_runs (experiment, version, config_hash, name) VALUES (?, ?, ?, ?)`,
			c.Experiment, c.Version, r.ConfigHash, r.Name); err != nil {
			return err
		}
	}
	_, err := tx.Exec(`INSERT INTO experiments (name, description, toml_text, created_at, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
	description = excluded.description,
	toml_text = excluded.toml_text,
	updated_at = excluded.updated_at`,
		c.Experiment, description, text, now, now)
	return err
}

// planVersion does the work of PlanVersion within tx.
func planVersion(tx querier, experiment, text string, overrides []string, runs []VersionRun) (VersionChange, error) {
	c := VersionChange{Experiment: experiment}
	cur, err := currentVersion(tx, experiment)
	switch {
	case errors.Is(err, ErrNotFound):
		c.Version, c.New = 1, true
		c.Added = slices.Clone(runs)
		return c, nil
	case err != nil:
		return c, err
	}
	before := cur.Number
	if cur.TOML == text && slices.Equal(cur.Overrides, overrides) {
		c.Version = cur.Number
		before = cur.Number - 1
	} else {
		c.Version, c.New = cur.Number+1, true
	}
	c.Previous = before
	old, err := versionRuns(tx, experiment, before)
	if err != nil {
		return c, err
	}
	in := map[string]bool{}
	for _, r := range runs {
		in[r.ConfigHash] = true
		if _, ok := old[r.ConfigHash]; ok {
			c.Unchanged = append(c.Unchanged, r)
			continue
		}
		c.Added = append(c.Added, r)
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM runs WHERE experiment = ? AND config_hash = ?`,
			experiment, r.ConfigHash).Scan(&n); err != nil {
			return c, err
		}
		c.Known += n
	}
	for h, name := range old {
		if !in[h] {
			c.Removed = append(c.Removed, VersionRun{Name: name, ConfigHash: h})
		}
	}
	slices.SortFunc(c.Removed, func(a, b VersionRun) int { return strings.Compare(a.Name, b.Name) })
	return c, nil
}

// versionRuns returns the names of a version's runs by config hash; none
// for version 0.
func versionRuns(q querier, experiment string, version int) (map[string]string, error) {
	rows, err := q.Query(`SELECT config_hash, name FROM version_runs WHERE experiment = ? AND version = ?`, experiment, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var h, n string
		if err := rows.Scan(&h, &n); err != nil {
			return nil, err
		}
		m[h] = n
	}
	return m, rows.Err()
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	Query(query string, args ...any) (*sql.Rows, error)
	QueryRow(query string, args ...any) *sql.Row
}

const versionColumns = `experiment, version, toml_text, overrides, hash, created_at`

func scanVersion(row interface{ Scan(...any) error }) (Version, error) {
	var v Version
	var overrides string
	var created sql.NullString
	if err := row.Scan(&v.Experiment, &v.Number, &v.TOML, &overrides, &v.Hash, &created); err != nil {
		return Version{}, err
	}
	if overrides != "" {
		v.Overrides = strings.Split(overrides, "\n")
	}
	var err error
	v.CreatedAt, err = parseTime(created)
	return v, err
}

func currentVersion(q querier, experiment string) (Version, error) {
	v, err := scanVersion(q.QueryRow(`SELECT `+versionColumns+` FROM experiment_versions
WHERE experiment = ? ORDER BY version DESC LIMIT 1`, experiment))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return v, err
}

// CurrentVersion returns the latest version of an experiment; an error
// wrapping ErrNotFound if it has none (its runs were made before versions
// were recorded, or without its file).
func (s *Store) CurrentVersion(experiment string) (Version, error) {
	v, err := currentVersion(s.db, experiment)
	if err != nil {
		return Version{}, fmt.Errorf("store: current version of %s: %w", experiment, err)
	}
	return v, nil
}

// Versions returns the versions of an experiment, oldest first.
func (s *Store) Versions(experiment string) ([]Version, error) {
	rows, err := s.db.Query(`SELECT `+versionColumns+` FROM experiment_versions
WHERE experiment = ? ORDER BY version`, experiment)
	if err != nil {
		return nil, fmt.Errorf("store: versions of %s: %w", experiment, err)
	}
	defer rows.Close()
	var vs []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("store: versions of %s: %w", experiment, err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: versions of %s: %w", experiment, err)
	}
	return vs, nil
}

// RunVersions returns the versions each run of an experiment belongs to,
// ascending, by config hash.
func (s *Store) RunVersions(experiment string) (map[string][]int, error) {
	rows, err := s.db.Query(`SELECT config_hash, version FROM version_runs
WHERE experiment = ? ORDER BY version`, experiment)
	if err != nil {
		return nil, fmt.Errorf("store: run versions of %s: %w", experiment, err)
	}
	defer rows.Close()
	m := map[string][]int{}
	for rows.Next() {
		var h string
		var v int
		if err := rows.Scan(&h, &v); err != nil {
			return nil, fmt.Errorf("store: run versions of %s: %w", experiment, err)
		}
		m[h] = append(m[h], v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: run versions of %s: %w", experiment, err)
	}
	return m, nil
}

// RunByHash returns the run of experiment with the given config hash; an
// error wrapping ErrNotFound if the store has none.
func (s *Store) RunByHash(experiment, configHash string) (Run, error) {
	r, err := scanRun(s.db.QueryRow(`SELECT `+runColumns+` FROM runs
WHERE experiment = ? AND config_hash = ?`, experiment, configHash))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s/%s: %w", experiment, configHash, err)
	}
	return r, nil
}

// inCurrentVersion is the condition, on a row of runs, that the run
// belongs to its experiment's current version, or that the experiment has
// no versions.
const inCurrentVersion = `(NOT EXISTS (SELECT 1 FROM experiment_versions v WHERE v.experiment = runs.experiment)
 OR EXISTS (SELECT 1 FROM version_runs m WHERE m.experiment = runs.experiment AND m.config_hash = runs.config_hash
	AND m.version = (SELECT max(v.version) FROM experiment_versions v WHERE v.experiment = runs.experiment)))`
