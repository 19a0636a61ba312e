package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// ErrNotStore is wrapped by the errors of [Open] and [OpenReadOnly] for a
// file that is not a harness store: not an SQLite database, or the
// database of another program, or (for OpenReadOnly) an empty one.
var ErrNotStore = errors.New("not a harness store")

// sqliteHeader begins every SQLite database file.
const sqliteHeader = "SQLite format 3\x00"

// storeTables are the tables every harness store has, from its first
// schema version on.
var storeTables = []string{"artifacts", "experiments", "metrics", "runs", "schema_migrations"}

// storeError is an error about the store at a path whose message is its
// own, wrapping a sentinel such as fs.ErrNotExist or ErrNotStore without
// repeating its text.
type storeError struct {
	msg string
	err error
}

func (e *storeError) Error() string { return e.msg }
func (e *storeError) Unwrap() error { return e.err }

// examine checks, reading the file at path and changing nothing, that it
// is a harness store; with create set, a missing file in an existing
// directory, an empty file and an SQLite database without tables do too,
// as files Open makes a store of.
func examine(path string, create bool) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return checkDir(path)
	case errors.Is(err, fs.ErrNotExist):
		return &storeError{fmt.Sprintf("store %s: no such file", path), fs.ErrNotExist}
	case err != nil:
		return fmt.Errorf("store %s: %w", path, err)
	case !fi.Mode().IsRegular():
		return &storeError{fmt.Sprintf("store %s: %s: not a regular file", path, ErrNotStore), ErrNotStore}
	case fi.Size() == 0 && create:
		return nil
	case fi.Size() == 0:
		return &storeError{fmt.Sprintf("store %s: %s: an empty file", path, ErrNotStore), ErrNotStore}
	}
	if err := checkHeader(path); err != nil {
		return err
	}
	tables, err := listTables(path)
	if err != nil {
		return err
	}
	switch {
	case len(tables) == 0 && create:
		return nil
	case len(tables) == 0:
		return &storeError{fmt.Sprintf("store %s: %s: an SQLite database without tables", path, ErrNotStore), ErrNotStore}
	}
	for _, t := range storeTables {
		if !slices.Contains(tables, t) {
			return &storeError{fmt.Sprintf("store %s: %s: an SQLite database of another program (no table %s; it has %s)",
				path, ErrNotStore, t, strings.Join(tables, ", ")), ErrNotStore}
		}
	}
	return nil
}

// checkDir reports an error if the directory of a store to be created at
// path does not exist.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &storeError{fmt.Sprintf("store %s: directory %s does not exist", path, dir), fs.ErrNotExist}
	case err != nil:
		return fmt.Errorf("store %s: %w", path, err)
	case !fi.IsDir():
		return &storeError{fmt.Sprintf("store %s: %s is not a directory", path, dir), fs.ErrInvalid}
	}
	return nil
}

// checkHeader reports ErrNotStore unless the file at path begins as an
// SQLite database does.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != sqliteHeader {
		return &storeError{fmt.Sprintf("store %s: %s: not an SQLite database", path, ErrNotStore), ErrNotStore}
	}
	return nil
}

// listTables returns the sorted names of the tables of the SQLite
// database at path, SQLite's own left out, reading it read-only.
func listTables(path string) ([]string, error) {
	db, err := openReadOnly(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store %s: read its tables: %w", path, err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("store %s: read its tables: %w", path, err)
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store %s: read its tables: %w", path, err)
	}
	return tables, nil
}

// openReadOnly opens the SQLite database at path for reading. A database
// in WAL mode needs its -shm file, which SQLite cannot create on
// read-only media (nor in a directory it may not write): it then opens
// the file as immutable, reading the database file alone, which is
// right as long as no one writes it, as no one can there. (Changes left
// in a -wal file by a writer that did not close are then not seen.)
func openReadOnly(path string) (*sql.DB, error) {
	var db *sql.DB
	var err error
	for _, params := range []string{"mode=ro", "mode=ro&immutable=1"} {
		if db, err = openDSN(path, fmt.Sprintf("%s&_busy_timeout=%d", params, busyTimeout)); err != nil {
			return nil, err
		}
		if err = db.Ping(); err == nil {
			_, err = db.Exec(`SELECT count(*) FROM sqlite_master`)
		}
		var serr sqlite3.Error
		if err == nil || !errors.As(err, &serr) || serr.Code != sqlite3.ErrCantOpen {
			break
		}
		db.Close()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: open read-only: %w", path, err)
	}
	return db, nil
}

// openDSN opens the database at path with the driver's query parameters.
func openDSN(path, params string) (*sql.DB, error) {
	dsn, err := dataSource(path, params)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return db, nil
}
