package store

// migrations holds the schema changes in the order they are applied.
// Migration i brings the schema to version i+1. Append new migrations;
// never edit or reorder applied ones.
var migrations = []string{
	// Version 1: the initial schema.
	`
CREATE TABLE experiments (
	name        TEXT PRIMARY KEY,
	description TEXT NOT NULL DEFAULT '',
	toml_text   TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);

CREATE TABLE runs (
	id               INTEGER PRIMARY KEY,
	experiment       TEXT NOT NULL,
	name             TEXT NOT NULL,
	config_json      TEXT NOT NULL,
	config_hash      TEXT NOT NULL CHECK (config_hash <> ''),
	status           TEXT NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'running', 'done', 'failed', 'interrupted')),
	seed             INTEGER NOT NULL DEFAULT 0,
	device           TEXT NOT NULL DEFAULT '',
	params_total     INTEGER NOT NULL DEFAULT 0,
	params_trainable INTEGER NOT NULL DEFAULT 0,
	started_at       TEXT,
	finished_at      TEXT,
	error            TEXT NOT NULL DEFAULT '',
	host             TEXT NOT NULL DEFAULT '',
	code_version     TEXT NOT NULL DEFAULT '',
	command          TEXT NOT NULL DEFAULT '',
	UNIQUE (experiment, config_hash)
);
CREATE INDEX runs_experiment_name ON runs (experiment, name);
CREATE INDEX runs_status ON runs (status);

CREATE TABLE metrics (
	run_id    INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step      INTEGER NOT NULL,
	key       TEXT NOT NULL CHECK (key <> ''),
	value     REAL NOT NULL,
	wall_time REAL NOT NULL,
	UNIQUE (run_id, step, key)
);
CREATE INDEX metrics_run_key_step ON metrics (run_id, key, step);

CREATE TABLE artifacts (
	run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	path       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (run_id, kind, path)
);
`,
	// Version 2: run ownership and the store's identity. A run marked
	// running is owned by one harness process, named by its host, pid,
	// start (boot id and process start time, against pid reuse) and a
	// token drawn at each claim; heartbeat_at is refreshed while the owner
	// executes the run. meta holds the store's random identity, store_id,
	// which keys the run directories.
	`
ALTER TABLE runs ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN owner_pid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN owner_start TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN owner_token TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
`,
	// Version 3: the run's directory. run_dir is the absolute path of the
	// directory where the run's last claim keeps its checkpoint, artifacts
	// and log, so that a harness with another output directory that takes
	// the run over resumes from that checkpoint.
	`
ALTER TABLE runs ADD COLUMN run_dir TEXT NOT NULL DEFAULT '';
`,
	// Version 4: experiment versions, tags and notes. Every distinct text
	// (with the --set overrides) an experiment was run with is a version,
	// numbered from 1; version_runs lists the configurations (by
	// config_hash, which with the experiment names a run) each version
	// expands to, so a run unchanged between versions belongs to both. The
	// file each experiment had recorded becomes its version 1, and every
	// run it already had a member of it. run_tags holds key[=value] tags of
	// runs, notes free text on a run or an experiment. A run's id names its
	// directory, so ids of deleted runs are not given again: the triggers
	// keep the highest deleted id in meta (max_deleted_run_id) and move a
	// new run that would reuse one past it.
	`
CREATE TABLE experiment_versions (
	experiment TEXT NOT NULL,
	version    INTEGER NOT NULL CHECK (version >= 1),
	toml_text  TEXT NOT NULL,
	overrides  TEXT NOT NULL DEFAULT '',
	hash       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (experiment, version)
);

CREATE TABLE version_runs (
	experiment  TEXT NOT NULL,
	version     INTEGER NOT NULL,
	config_hash TEXT NOT NULL CHECK (config_hash <> ''),
	name        TEXT NOT NULL,
	PRIMARY KEY (experiment, version, config_hash),
	FOREIGN KEY (experiment, version) REFERENCES experiment_versions (experiment, version) ON DELETE CASCADE
);
CREATE INDEX version_runs_config ON version_runs (experiment, config_hash);

INSERT INTO experiment_versions (experiment, version, toml_text, hash, created_at)
SELECT name, 1, toml_text, '', created_at FROM experiments;
INSERT OR IGNORE INTO version_runs (experiment, version, config_hash, name)
SELECT r.experiment, 1, r.config_hash, r.name FROM runs r
WHERE r.experiment IN (SELECT name FROM experiments);

CREATE TABLE run_tags (
	run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	key    TEXT NOT NULL CHECK (key <> ''),
	value  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, key)
);

CREATE TABLE notes (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER REFERENCES runs (id) ON DELETE CASCADE,
	experiment TEXT,
	text       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	CHECK ((run_id IS NULL) <> (experiment IS NULL))
);
CREATE INDEX notes_run ON notes (run_id);

CREATE TRIGGER runs_deleted_id AFTER DELETE ON runs BEGIN
	INSERT INTO meta (key, value) VALUES ('max_deleted_run_id', OLD.id)
	ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), OLD.id);
END;
CREATE TRIGGER runs_fresh_id AFTER INSERT ON runs
WHEN NEW.id <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_deleted_run_id')
BEGIN
	UPDATE runs SET id = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_deleted_run_id') + 1
	WHERE id = NEW.id;
END;
`,
	// Version 5: the time a run took over all its attempts. attempts counts
	// the claims that executed the run; spent_seconds is the time its
	// attempts that ended took (from started_at to finished_at, or to the
	// last heartbeat of an owner found gone). A run's total time is
	// spent_seconds once it ended, plus the time since started_at while it
	// runs. Runs already there count one attempt, of their last start.
	`
ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN spent_seconds REAL NOT NULL DEFAULT 0;
UPDATE runs SET attempts = 1,
	spent_seconds = coalesce(max(0, (julianday(finished_at) - julianday(started_at)) * 86400), 0)
WHERE started_at IS NOT NULL;
`,
}
