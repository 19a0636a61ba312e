// Package store records experiments, runs, metrics and artifacts of the
// harness in an SQLite database.
//
// The schema is a public contract: researchers query the file directly
// with the sqlite3 command-line tool. Its tables are
//
//	experiments(name, description, toml_text, created_at, updated_at)
//	runs(id, experiment, name, config_json, config_hash, status, seed, device,
//	     params_total, params_trainable, started_at, finished_at, error,
//	     host, code_version, command,
//	     owner_host, owner_pid, owner_start, owner_token, heartbeat_at,
//	     run_dir, attempts, spent_seconds)
//	metrics(run_id, step, key, value, wall_time)
//	artifacts(run_id, kind, path, created_at)
//	experiment_versions(experiment, version, toml_text, overrides, hash, created_at)
//	version_runs(experiment, version, config_hash, name)
//	run_tags(run_id, key, value)
//	notes(id, run_id, experiment, text, created_at)
//	meta(key, value)
//	schema_migrations(version, applied_at)
//
// A run is identified by (experiment, config_hash), where config_hash is
// the hash of its fully expanded configuration, seed included, so running
// an experiment again finds the runs already done. host, code_version and
// command record where, from which code and by which command line the run
// was last started. runs.experiment names an experiment but is not a
// foreign key: experiments holds the experiment file's text when it was
// recorded with PutExperiment.
//
// Every distinct text of an experiment's file, with the overrides it was
// run with (one per line), is a version of the experiment, numbered from 1
// (see [Store.PutVersion]); experiments.toml_text is the latest one's.
// version_runs lists the configurations each version expands to by
// config_hash: membership is recorded per configuration rather than per
// run id, so it exists before the runs are first claimed, and a run whose
// configuration is in two versions belongs to both. The current version
// of an experiment is its latest; an experiment without versions (its
// runs made by older code, or without its file) has all its runs current.
// run_tags holds tags of runs (a key, and a value or the empty string), notes
// notes on a run (run_id) or an experiment (experiment), one of the two.
//
// A run marked running belongs to the process that claimed it, its owner:
// owner_host, owner_pid and owner_start (the host's boot id and the
// process's start time, which tell a pid reused by another process) name
// the process, and owner_token, drawn at each claim, the claim itself. The
// owner refreshes heartbeat_at while it executes the run. Every write a
// [Held] run makes checks the token, so a process that lost its claim
// cannot write to the run. The owner columns of a run no longer running
// name its last owner. run_dir is the absolute path of the directory that
// the run's last claim keeps its checkpoint, artifacts and log in (empty if
// none was recorded).
//
// attempts counts the claims that executed a run, and spent_seconds is the
// time the attempts that ended took: from started_at to finished_at, or to
// the last heartbeat of an owner found gone when the run is taken over.
//
// meta holds the store's identity, store_id: random hex drawn when the
// schema is created (see [Store.ID]); and max_deleted_run_id, the highest
// id of a deleted run, which triggers keep and no new run is given, as a
// run's id names its directory.
//
// Timestamps (started_at, finished_at, created_at, updated_at, applied_at,
// heartbeat_at)
// are ISO-8601 UTC text with millisecond precision, such as
// 2025-01-31T09:30:00.000Z, which SQLite's date functions understand.
// metrics.wall_time is REAL Unix seconds (microsecond precision); read it
// with datetime(wall_time, 'unixepoch').
//
// Several processes may open the same file. The database runs in WAL mode
// with a busy timeout of 10 s, and every write is either a single statement
// or an IMMEDIATE transaction, which takes the write lock before reading, so
// writers wait for each other rather than fail. Claim relies on this to
// hand each run to exactly one process.
package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Run statuses, the values of runs.status.
const (
	StatusPending     = "pending"
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
)

// ErrNotFound is wrapped by the errors returned for a run that does not
// exist.
var ErrNotFound = errors.New("not found")

// ErrNotOwner is wrapped by the errors of a [Held] run's writes when the
// run is no longer running under the holder's claim: another process took
// it over, or it was finished.
var ErrNotOwner = errors.New("the run is no longer owned by this claim")

// busyTimeout is how long a statement waits for another connection's lock
// before failing, in milliseconds.
const busyTimeout = 10000

// timeLayout is the layout of stored timestamps, always in UTC.
const timeLayout = "2006-01-02T15:04:05.000Z"

// A Store is an open experiment-tracking database. Its methods may be
// called from several goroutines.
type Store struct {
	db   *sql.DB
	path string
}

// A Run is one training run: one expanded configuration of an experiment.
type Run struct {
	ID              int64
	Experiment      string
	Name            string
	ConfigJSON      string
	ConfigHash      string
	Status          string
	Seed            int64
	Device          string
	ParamsTotal     int64
	ParamsTrainable int64
	StartedAt       time.Time // zero if never started
	FinishedAt      time.Time // zero if not finished
	Error           string
	Host            string
	CodeVersion     string
	Command         string
	Owner           Owner     // the claim that runs it, or last ran it
	Heartbeat       time.Time // the owner's last sign of life; zero if none
	// Dir is the directory the run's last claim recorded for its
	// checkpoint, artifacts and log; "" if none.
	Dir      string
	Attempts int // claims that executed the run, the current one included
	// Spent is the time the run's attempts that ended took, the current
	// one left out while the run is running.
	Spent time.Duration
}

// An Owner is the process that claimed a run, and the claim.
type Owner struct {
	Host string // the host's name
	PID  int
	// Start tells this process from another that reuses its pid later,
	// such as the host's boot id and the process's start time.
	Start string
	// Token is drawn at random by each claim.
	Token string
}

// A Metric is the value of a named quantity at a training step.
type Metric struct {
	Step     int64
	Key      string
	Value    float64
	WallTime time.Time
}

// An Artifact is a file produced by a run, such as a checkpoint or a grid
// of reconstructions.
type Artifact struct {
	Kind      string
	Path      string
	CreatedAt time.Time
}

// An Experiment is a recorded experiment file.
type Experiment struct {
	Name        string
	Description string
	TOML        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// A Filter selects runs. Empty fields match every run.
type Filter struct {
	Experiment string
	Status     string
	Name       string
	// Current selects only the runs of their experiment's current version
	// (all runs of an experiment that has no versions).
	Current bool
}

// Open opens the store at path for reading and writing, creating the file
// if it does not exist, putting it in WAL mode and applying any pending
// schema migrations. It fails if the file's schema is newer than this code
// knows. Before it changes anything it checks that the file is a harness
// store, an empty file or an SQLite database without tables, and that
// the directory of a new file exists: the database of another program
// or a file that is no SQLite database is refused (ErrNotStore) with its
// bytes as they were.
func Open(path string) (*Store, error) {
	if err := examine(path, true); err != nil {
		return nil, err
	}
	dsn, err := dataSource(path, fmt.Sprintf(
		"_busy_timeout=%d&_synchronous=NORMAL&_foreign_keys=on&_txlock=immediate",
		busyTimeout))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One connection: writes in this process queue in database/sql
	// instead of contending for SQLite's lock.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	if err := s.setWAL(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// setWAL puts the file in WAL mode, which then persists in the file. When
// another process holds a lock, SQLite fails the switch at once instead of
// waiting out the busy timeout, as when several processes open a new file
// together; setWAL retries until the busy timeout has passed.
func (s *Store) setWAL() error {
	deadline := time.Now().Add(busyTimeout * time.Millisecond)
	for {
		var mode string
		err := s.db.QueryRow(`PRAGMA journal_mode = WAL`).Scan(&mode)
		var serr sqlite3.Error
		if errors.As(err, &serr) && serr.Code == sqlite3.ErrBusy && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err == nil && mode != "wal" {
			err = fmt.Errorf("journal mode is %s", mode)
		}
		if err != nil {
			return fmt.Errorf("store: set WAL mode on %s: %w", s.path, err)
		}
		return nil
	}
}

// OpenReadOnly opens the existing store at path for reading, as reports
// do. It neither creates the file nor migrates it, and fails unless the
// file is a harness store (ErrNotStore) of the schema version this code
// knows. It reads a store on read-only media too (see openReadOnly).
func OpenReadOnly(path string) (*Store, error) {
	if err := examine(path, false); err != nil {
		return nil, err
	}
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path}
	if err := s.checkVersion(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// dataSource returns the driver's data source name for the file at path
// with the given query parameters.
func dataSource(path, params string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params}
	return u.String(), nil
}

// Close closes the store.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// migrate applies the pending migrations, each in its own transaction.
func (s *Store) migrate() error {
	for {
		current, err := s.migrateStep()
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", s.path, err)
		}
		if current {
			return nil
		}
	}
}

// migrateStep applies the next pending migration, if any, and reports
// whether the schema was already current. It reads the version inside the
// transaction, so processes migrating the same file concurrently apply
// each migration once.
func (s *Store) migrateStep() (current bool, err error) {
	tx, err := s.db.Begin()
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at TEXT NOT NULL
)`); err != nil {
		return false, err
	}
	var v int
	if err := tx.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return false, err
	}
	if v > len(migrations) {
		return false, newerSchemaError(v)
	}
	if v == len(migrations) {
		return true, tx.Commit()
	}
	if _, err := tx.Exec(migrations[v]); err != nil {
		return false, fmt.Errorf("version %d: %w", v+1, err)
	}
	if _, err := tx.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		v+1, formatTime(time.Now())); err != nil {
		return false, fmt.Errorf("version %d: %w", v+1, err)
	}
	return false, tx.Commit()
}

// checkVersion reports an error unless the schema version of the file is
// the one this code knows.
func (s *Store) checkVersion() error {
	var v int
	err := s.db.QueryRow(`SELECT CASE
	WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')
	THEN (SELECT coalesce(max(version), 0) FROM schema_migrations)
	ELSE 0 END`).Scan(&v)
	switch {
	case err != nil:
		return fmt.Errorf("store: read schema version of %s: %w", s.path, err)
	case v > len(migrations):
		return fmt.Errorf("store: %s: %w", s.path, newerSchemaError(v))
	case v < len(migrations):
		return fmt.Errorf("store: %s has schema version %d, want %d; open it read-write to migrate",
			s.path, v, len(migrations))
	}
	return nil
}

// newerSchemaError reports that the file's schema version v is unknown.
func newerSchemaError(v int) error {
	return fmt.Errorf("schema version %d is newer than version %d known to this code", v, len(migrations))
}

// PutExperiment records an experiment file, replacing the description and
// text of an experiment already recorded under name.
func (s *Store) PutExperiment(name, description, tomlText string) error {
	now := formatTime(time.Now())
	_, err := s.db.Exec(`INSERT INTO experiments (name, description, toml_text, created_at, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
	description = excluded.description,
	toml_text = excluded.toml_text,
	updated_at = excluded.updated_at`,
		name, description, tomlText, now, now)
	if err != nil {
		return fmt.Errorf("store: put experiment %s: %w", name, err)
	}
	return nil
}

// Experiments returns the recorded experiments ordered by name.
func (s *Store) Experiments() ([]Experiment, error) {
	rows, err := s.db.Query(`SELECT name, description, toml_text, created_at, updated_at
FROM experiments ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list experiments: %w", err)
	}
	defer rows.Close()
	var exps []Experiment
	for rows.Next() {
		var e Experiment
		var created, updated sql.NullString
		if err := rows.Scan(&e.Name, &e.Description, &e.TOML, &created, &updated); err != nil {
			return nil, fmt.Errorf("store: list experiments: %w", err)
		}
		if e.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: experiment %s: %w", e.Name, err)
		}
		if e.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, fmt.Errorf("store: experiment %s: %w", e.Name, err)
		}
		exps = append(exps, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list experiments: %w", err)
	}
	return exps, nil
}

// runColumns lists the columns scanRun reads, in order.
const runColumns = `id, experiment, name, config_json, config_hash, status, seed, device,
	params_total, params_trainable, started_at, finished_at, error,
	host, code_version, command,
	owner_host, owner_pid, owner_start, owner_token, heartbeat_at, run_dir,
	attempts, spent_seconds`

// scanRun scans a row of runColumns.
func scanRun(row interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var started, finished, heartbeat sql.NullString
	var spent float64
	err := row.Scan(&r.ID, &r.Experiment, &r.Name, &r.ConfigJSON, &r.ConfigHash, &r.Status,
		&r.Seed, &r.Device, &r.ParamsTotal, &r.ParamsTrainable, &started, &finished, &r.Error,
		&r.Host, &r.CodeVersion, &r.Command,
		&r.Owner.Host, &r.Owner.PID, &r.Owner.Start, &r.Owner.Token, &heartbeat, &r.Dir,
		&r.Attempts, &spent)
	if err != nil {
		return Run{}, err
	}
	r.Spent = time.Duration(spent * float64(time.Second))
	if r.Heartbeat, err = parseTime(heartbeat); err != nil {
		return Run{}, fmt.Errorf("run %d: heartbeat_at: %w", r.ID, err)
	}
	if r.StartedAt, err = parseTime(started); err != nil {
		return Run{}, fmt.Errorf("run %d: started_at: %w", r.ID, err)
	}
	if r.FinishedAt, err = parseTime(finished); err != nil {
		return Run{}, fmt.Errorf("run %d: finished_at: %w", r.ID, err)
	}
	return r, nil
}

// Claim is ClaimAs with an anonymous owner that never takes a run over:
// it claims the run if it is pending or interrupted, or failed and
// retryFailed is set.
func (s *Store) Claim(r Run, retryFailed bool) (run Run, claimed bool, err error) {
	c, err := s.ClaimAs(r, ClaimOptions{RetryFailed: retryFailed})
	return c.Run, c.Claimed, err
}

// ClaimOptions says how ClaimAs claims a run.
type ClaimOptions struct {
	// RetryFailed claims a failed run too.
	RetryFailed bool
	// Owner is the claiming process: its Host, PID and Start. The claim
	// draws its Token.
	Owner Owner
	// Gone reports whether the owner of a run marked running is provably
	// gone, which lets the claim take the run over. Nil: never.
	Gone func(Run) bool
	// Dir, if set, gives the directory of the run being claimed, which the
	// claim records in runs.run_dir. It is called within the claim's
	// transaction with the run as stored, its id and the directory its
	// last claim recorded (Run.Dir) included, so it must be quick. Nil:
	// the recorded directory is kept.
	Dir func(Run) string
}

// A Claim is the outcome of ClaimAs.
type Claim struct {
	// Run is the run as stored after the claim: running under the
	// caller's Owner if Claimed, otherwise as another process left it.
	Run     Run
	Claimed bool
	// TookOver says the run was running under an owner that was gone,
	// Previous.
	TookOver bool
	Previous Owner
}

// ClaimAs takes the run identified by r.Experiment and r.ConfigHash for
// execution by opt.Owner. In one IMMEDIATE transaction it inserts the run
// as pending if absent, from r's experiment, name, config and seed; then,
// if the run is pending or interrupted, or failed and opt.RetryFailed is
// set, or running under an owner that opt.Gone says is gone (and still
// under the token it read), it marks the run running, started now on
// r.Device, with r's parameter counts and provenance (host, code version,
// command), owned by opt.Owner under a fresh token, with a heartbeat now,
// and in the directory opt.Dir gives.
// A run that is running under a live owner, done, or failed without
// RetryFailed is returned as stored, unclaimed. Two processes claiming the
// same run thus never both execute it.
func (s *Store) ClaimAs(r Run, opt ClaimOptions) (Claim, error) {
	if r.Experiment == "" || r.ConfigHash == "" {
		return Claim{}, fmt.Errorf("store: claim run %q: experiment and config hash are required", r.Name)
	}
	token, err := newToken()
	if err != nil {
		return Claim{}, fmt.Errorf("store: claim run %s/%s: %w", r.Experiment, r.Name, err)
	}
	opt.Owner.Token = token
	tx, err := s.db.Begin()
	if err != nil {
		return Claim{}, fmt.Errorf("store: claim run %s/%s: %w", r.Experiment, r.Name, err)
	}
	defer tx.Rollback()
	c, err := claim(tx, r, opt)
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return Claim{}, fmt.Errorf("store: claim run %s/%s: %w", r.Experiment, r.Name, err)
	}
	return c, nil
}

// newToken draws an owner token.
func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("draw an owner token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// claim does the work of ClaimAs within tx.
func claim(tx *sql.Tx, r Run, opt ClaimOptions) (Claim, error) {
	_, err := tx.Exec(`INSERT INTO runs (experiment, name, config_json, config_hash, seed)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (experiment, config_hash) DO NOTHING`,
		r.Experiment, r.Name, r.ConfigJSON, r.ConfigHash, r.Seed)
	if err != nil {
		return Claim{}, err
	}
	cur, err := scanRun(tx.QueryRow(`SELECT `+runColumns+` FROM runs
WHERE experiment = ? AND config_hash = ?`, r.Experiment, r.ConfigHash))
	if err != nil {
		return Claim{}, err
	}
	c := Claim{Run: cur}
	switch {
	case cur.Status == StatusPending, cur.Status == StatusInterrupted:
	case cur.Status == StatusFailed && opt.RetryFailed:
	case cur.Status == StatusRunning && opt.Gone != nil && opt.Gone(cur):
		c.TookOver, c.Previous = true, cur.Owner
	default:
		return c, nil
	}
	now := formatTime(time.Now())
	o := opt.Owner
	dir := cur.Dir
	if opt.Dir != nil {
		dir = opt.Dir(cur)
	}
	run, err := scanRun(tx.QueryRow(`UPDATE runs SET
	status = 'running', device = ?, params_total = ?, params_trainable = ?,
	host = ?, code_version = ?, command = ?,
	started_at = ?, finished_at = NULL, error = '',
	attempts = attempts + 1, spent_seconds = spent_seconds + `+attemptTook("heartbeat_at")+`,
	owner_host = ?, owner_pid = ?, owner_start = ?, owner_token = ?, heartbeat_at = ?,
	run_dir = ?
WHERE id = ? AND status = ? AND owner_token = ?
RETURNING `+runColumns,
		r.Device, r.ParamsTotal, r.ParamsTrainable, r.Host, r.CodeVersion, r.Command, now,
		o.Host, o.PID, o.Start, o.Token, now, dir,
		cur.ID, cur.Status, cur.Owner.Token))
	if err != nil {
		return Claim{}, err
	}
	c.Run, c.Claimed = run, true
	return c, nil
}

// ID returns the store's identity: random hex drawn when the schema was
// created, which tells this store's runs from another's.
func (s *Store) ID() (string, error) {
	var id string
	if err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'store_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("store: read the identity of %s: %w", s.path, err)
	}
	return id, nil
}

// A Held run is one this process claimed, seen through its claim's token:
// each of its writes first checks, in the same transaction, that the run
// is still running under that token, and otherwise writes nothing and
// returns an error wrapping ErrNotOwner.
type Held struct {
	s     *Store
	id    int64
	token string
}

// Held returns the run with the given id as held under the owner token.
func (s *Store) Held(id int64, token string) *Held {
	return &Held{s: s, id: id, token: token}
}

// ID is the run's id.
func (h *Held) ID() int64 { return h.id }

// write runs f in an IMMEDIATE transaction once the run is found still
// held, naming what it does in its errors.
func (h *Held) write(what string, f func(tx *sql.Tx) error) error {
	tx, err := h.s.db.Begin()
	if err != nil {
		return fmt.Errorf("store: %s of run %d: %w", what, h.id, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM runs WHERE id = ? AND status = 'running' AND owner_token = ?`,
		h.id, h.token).Scan(&n); err != nil {
		return fmt.Errorf("store: %s of run %d: %w", what, h.id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s of run %d: %w", what, h.id, ErrNotOwner)
	}
	if err := f(tx); err != nil {
		return fmt.Errorf("store: %s of run %d: %w", what, h.id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s of run %d: %w", what, h.id, err)
	}
	return nil
}

// Heartbeat records that the owner is alive now.
func (h *Held) Heartbeat() error {
	return h.write("heartbeat", func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`, formatTime(time.Now()), h.id)
		return err
	})
}

// SetCodeVersion records the code version the held run is executed with,
// when it is not the one its claim recorded.
func (h *Held) SetCodeVersion(v string) error {
	return h.write("set the code version", func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE runs SET code_version = ? WHERE id = ?`, v, h.id)
		return err
	})
}

// LogMetrics is Store.LogMetrics for the held run.
func (h *Held) LogMetrics(ms []Metric) error {
	if err := checkMetrics(h.id, ms); err != nil || len(ms) == 0 {
		return err
	}
	return h.write("log metrics", func(tx *sql.Tx) error { return logMetrics(tx, h.id, ms) })
}

// DeleteMetricsAfter is Store.DeleteMetricsAfter for the held run.
func (h *Held) DeleteMetricsAfter(step int64) error {
	return h.write(fmt.Sprintf("delete metrics after step %d", step), func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM metrics WHERE run_id = ? AND step > ?`, h.id, step)
		return err
	})
}

// AddArtifact is Store.AddArtifact for the held run.
func (h *Held) AddArtifact(kind, path string) error {
	return h.write("add "+kind+" artifact "+path, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO artifacts (run_id, kind, path, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (run_id, kind, path) DO NOTHING`, h.id, kind, path, formatTime(time.Now()))
		return err
	})
}

// Finish is Store.Finish for the held run, which is then no longer held.
func (h *Held) Finish(status, errMsg string) error {
	if err := checkFinal(h.id, status); err != nil {
		return err
	}
	return h.write("finish", func(tx *sql.Tx) error {
		now := formatTime(time.Now())
		_, err := tx.Exec(`UPDATE runs SET status = ?, error = ?, finished_at = ?,
	spent_seconds = spent_seconds + `+attemptTook("?")+` WHERE id = ?`,
			status, errMsg, now, now, h.id)
		return err
	})
}

// Finish ends a run with status done, failed or interrupted, recording
// errMsg and the finish time.
func (s *Store) Finish(runID int64, status string, errMsg string) error {
	if err := checkFinal(runID, status); err != nil {
		return err
	}
	now := formatTime(time.Now())
	res, err := s.db.Exec(`UPDATE runs SET status = ?, error = ?, finished_at = ?,
	spent_seconds = spent_seconds + `+attemptTook("?")+` WHERE id = ?`,
		status, errMsg, now, now, runID)
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", runID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: finish run %d: %w", runID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: finish run %d: %w", runID, ErrNotFound)
	}
	return nil
}

// checkFinal refuses a status that does not end a run.
func checkFinal(runID int64, status string) error {
	switch status {
	case StatusDone, StatusFailed, StatusInterrupted:
		return nil
	}
	return fmt.Errorf("store: finish run %d: status %q is not %s, %s or %s",
		runID, status, StatusDone, StatusFailed, StatusInterrupted)
}

// MarkInterrupted marks those of the given runs that are running as
// interrupted, as when the harness is stopped. Other runs are left alone.
func (s *Store) MarkInterrupted(runIDs ...int64) error {
	if len(runIDs) == 0 {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("store: mark runs interrupted: %w", err)
	}
	defer tx.Rollback()
	now := formatTime(time.Now())
	for _, id := range runIDs {
		_, err := tx.Exec(`UPDATE runs SET status = 'interrupted', finished_at = ?,
	spent_seconds = spent_seconds + `+attemptTook("?")+`
WHERE id = ? AND status = 'running'`, now, now, id)
		if err != nil {
			return fmt.Errorf("store: mark run %d interrupted: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: mark runs interrupted: %w", err)
	}
	return nil
}

// Runs returns the runs matching f, ordered by id.
func (s *Store) Runs(f Filter) ([]Run, error) {
	var where []string
	var args []any
	if f.Experiment != "" {
		where = append(where, "experiment = ?")
		args = append(args, f.Experiment)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Name != "" {
		where = append(where, "name = ?")
		args = append(args, f.Name)
	}
	if f.Current {
		where = append(where, inCurrentVersion)
	}
	q := `SELECT ` + runColumns + ` FROM runs`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.db.Query(q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	return runs, nil
}

// Run returns the run with the given id.
func (s *Store) Run(id int64) (Run, error) {
	r, err := scanRun(s.db.QueryRow(`SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: run %d: %w", id, err)
	}
	return r, nil
}

// RunByName returns the run of the experiment with the given name. If
// several runs share the name, as after the experiment's configuration
// changed, it returns the newest.
func (s *Store) RunByName(experiment, name string) (Run, error) {
	r, err := scanRun(s.db.QueryRow(`SELECT `+runColumns+` FROM runs
WHERE experiment = ? AND name = ? ORDER BY id DESC LIMIT 1`, experiment, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Run{}, fmt.Errorf("store: run %s/%s: %w", experiment, name, err)
	}
	return r, nil
}

// LogMetrics records metrics of a run in one transaction. A metric logged
// again for the same step and key, as by a run resumed after a crash,
// replaces the earlier value. A zero WallTime records the time of the
// call. LogMetrics refuses NaN values, recording nothing; infinities are
// stored.
func (s *Store) LogMetrics(runID int64, ms []Metric) error {
	if err := checkMetrics(runID, ms); err != nil || len(ms) == 0 {
		return err
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("store: log metrics of run %d: %w", runID, err)
	}
	defer tx.Rollback()
	if err := logMetrics(tx, runID, ms); err != nil {
		return fmt.Errorf("store: log metrics of run %d: %w", runID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: log metrics of run %d: %w", runID, err)
	}
	return nil
}

// checkMetrics refuses NaN values.
func checkMetrics(runID int64, ms []Metric) error {
	for _, m := range ms {
		if math.IsNaN(m.Value) {
			return fmt.Errorf("store: log metrics of run %d: %s at step %d is NaN", runID, m.Key, m.Step)
		}
	}
	return nil
}

// logMetrics does the work of LogMetrics within tx.
func logMetrics(tx *sql.Tx, runID int64, ms []Metric) error {
	stmt, err := tx.Prepare(`INSERT INTO metrics (run_id, step, key, value, wall_time)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (run_id, step, key) DO UPDATE SET
	value = excluded.value,
	wall_time = excluded.wall_time`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	now := time.Now()
	for _, m := range ms {
		wall := m.WallTime
		if wall.IsZero() {
			wall = now
		}
		if _, err := stmt.Exec(runID, m.Step, m.Key, m.Value, unixSeconds(wall)); err != nil {
			return fmt.Errorf("metric %q at step %d: %w", m.Key, m.Step, err)
		}
	}
	return nil
}

// Metrics returns the metrics of a run with the given key, or all of them
// if key is empty, ordered by step and key.
func (s *Store) Metrics(runID int64, key string) ([]Metric, error) {
	q := `SELECT step, key, value, wall_time FROM metrics WHERE run_id = ?`
	args := []any{runID}
	if key != "" {
		q += ` AND key = ?`
		args = append(args, key)
	}
	rows, err := s.db.Query(q+` ORDER BY step, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: metrics of run %d: %w", runID, err)
	}
	defer rows.Close()
	var ms []Metric
	for rows.Next() {
		m, err := scanMetric(rows)
		if err != nil {
			return nil, fmt.Errorf("store: metrics of run %d: %w", runID, err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: metrics of run %d: %w", runID, err)
	}
	return ms, nil
}

// LastMetrics returns, for each key logged by a run, the metric at the
// latest step.
func (s *Store) LastMetrics(runID int64) (map[string]Metric, error) {
	// With a max() aggregate, SQLite takes the bare columns value and
	// wall_time from the row holding the maximum.
	rows, err := s.db.Query(`SELECT max(step), key, value, wall_time FROM metrics
WHERE run_id = ? GROUP BY key`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: last metrics of run %d: %w", runID, err)
	}
	defer rows.Close()
	last := make(map[string]Metric)
	for rows.Next() {
		m, err := scanMetric(rows)
		if err != nil {
			return nil, fmt.Errorf("store: last metrics of run %d: %w", runID, err)
		}
		last[m.Key] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: last metrics of run %d: %w", runID, err)
	}
	return last, nil
}

// scanMetric scans a row of step, key, value and wall_time.
func scanMetric(row interface{ Scan(...any) error }) (Metric, error) {
	var m Metric
	var wall float64
	if err := row.Scan(&m.Step, &m.Key, &m.Value, &wall); err != nil {
		return Metric{}, err
	}
	m.WallTime = time.UnixMicro(int64(math.Round(wall * 1e6))).UTC()
	return m, nil
}

// DeleteMetricsAfter deletes the metrics of a run logged after step, as
// when a resumed run rewinds to the step of its checkpoint.
func (s *Store) DeleteMetricsAfter(runID int64, step int64) error {
	if _, err := s.db.Exec(`DELETE FROM metrics WHERE run_id = ? AND step > ?`, runID, step); err != nil {
		return fmt.Errorf("store: delete metrics of run %d after step %d: %w", runID, step, err)
	}
	return nil
}

// AddArtifact records a file produced by a run. Recording the same kind
// and path again has no effect.
func (s *Store) AddArtifact(runID int64, kind, path string) error {
	_, err := s.db.Exec(`INSERT INTO artifacts (run_id, kind, path, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (run_id, kind, path) DO NOTHING`, runID, kind, path, formatTime(time.Now()))
	if err != nil {
		return fmt.Errorf("store: add %s artifact %s to run %d: %w", kind, path, runID, err)
	}
	return nil
}

// Artifacts returns the artifacts of a run in the order they were added.
func (s *Store) Artifacts(runID int64) ([]Artifact, error) {
	rows, err := s.db.Query(`SELECT kind, path, created_at FROM artifacts
WHERE run_id = ? ORDER BY rowid`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: artifacts of run %d: %w", runID, err)
	}
	defer rows.Close()
	var arts []Artifact
	for rows.Next() {
		var a Artifact
		var created sql.NullString
		if err := rows.Scan(&a.Kind, &a.Path, &created); err != nil {
			return nil, fmt.Errorf("store: artifacts of run %d: %w", runID, err)
		}
		if a.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("store: artifact %s of run %d: %w", a.Path, runID, err)
		}
		arts = append(arts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: artifacts of run %d: %w", runID, err)
	}
	return arts, nil
}

// attemptTook is the SQL of the seconds that the current attempt of a run
// took, which ended at end (SQL of a timestamp), in a statement that
// updates the run: nothing unless the run is running.
func attemptTook(end string) string {
	return `CASE WHEN status = 'running' THEN coalesce(max(0, (julianday(` + end + `) - julianday(started_at)) * 86400), 0) ELSE 0 END`
}

// formatTime returns t as stored: ISO-8601 UTC text, or NULL if t is zero.
func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// parseTime parses a stored timestamp; NULL is the zero time.
func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s.String)
}

// unixSeconds returns t as stored in metrics.wall_time.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixMicro()) / 1e6
}
