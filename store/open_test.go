package store

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// sqliteFile makes an SQLite database at path with the given statements,
// as another program would.
func sqliteFile(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// fileHash is the SHA-256 of the file at path.
func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// Neither Open nor OpenReadOnly changes a byte of a file that is not a
// harness store: they refuse it with ErrNotStore, naming what it is.
func TestForeignFilesUntouched(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		want string
	}{
		{"another program's database", func(t *testing.T, path string) {
			sqliteFile(t, path, `CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)`, `INSERT INTO runs (what) VALUES ('theirs')`)
		}, "an SQLite database of another program (no table artifacts; it has runs)"},
		{"another program's database in WAL mode", func(t *testing.T, path string) {
			sqliteFile(t, path, `PRAGMA journal_mode = WAL`, `CREATE TABLE runs (id INTEGER PRIMARY KEY)`, `CREATE TABLE metrics (x)`)
		}, "an SQLite database of another program"},
		{"harness tables without schema_migrations", func(t *testing.T, path string) {
			sqliteFile(t, path, `CREATE TABLE artifacts (x)`, `CREATE TABLE experiments (x)`, `CREATE TABLE metrics (x)`, `CREATE TABLE runs (x)`)
		}, "no table schema_migrations"},
		{"text", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("name,value\na,1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not a harness store: not an SQLite database"},
		{"a short file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("SQLite"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "not an SQLite database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			tt.make(t, path)
			before := fileHash(t, path)
			for _, open := range []func(string) (*Store, error){Open, OpenReadOnly} {
				s, err := open(path)
				if err == nil {
					s.Close()
					t.Fatal("opened")
				}
				if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "store "+path+": ") {
					t.Errorf("error %q, want ErrNotStore naming %s and %q", err, path, tt.want)
				}
				if fileHash(t, path) != before {
					t.Fatal("the file changed")
				}
			}
		})
	}
	t.Run("a directory", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Open(dir); !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("Open of a directory: %v", err)
		}
	})
}

// Open makes a store of an empty file and of an SQLite database without
// tables; OpenReadOnly refuses them as no store.
func TestOpenEmpty(t *testing.T) {
	for _, tt := range []struct {
		name string
		make func(t *testing.T, path string)
	}{
		{"empty file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"database without tables", func(t *testing.T, path string) { sqliteFile(t, path, `PRAGMA user_version = 0`) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			tt.make(t, path)
			if _, err := OpenReadOnly(path); !errors.Is(err, ErrNotStore) {
				t.Errorf("OpenReadOnly: %v, want ErrNotStore", err)
			}
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			s, err = OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		})
	}
}

// A store in a directory that does not exist is refused, saying so, and
// the directory is not made.
func TestOpenMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nonexistent")
	path := filepath.Join(dir, "x.db")
	_, err := Open(path)
	want := "store " + path + ": directory " + dir + " does not exist"
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want %q wrapping fs.ErrNotExist", err, want)
	}
	if _, err := OpenReadOnly(path); err == nil || err.Error() != "store "+path+": no such file" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReadOnly: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the directory was made: %v", err)
	}
}

// readOnlyMedia, set in its environment, makes the test binary read the
// store it names as TestReadOnlyMedia's child.
const readOnlyMedia = "HARNESS_TEST_READ_ONLY_STORE"

// A store on read-only media, where SQLite cannot create the -shm file
// that WAL mode reads through, is read all the same. The test mounts the
// store's directory read-only in a mount namespace of its own (unshare
// -m, as root); where that is not allowed it is skipped.
func TestReadOnlyMedia(t *testing.T) {
	if path := os.Getenv(readOnlyMedia); path != "" {
		readOnlyChild(t, path)
		return
	}
	s, path := newStore(t)
	r := claimNew(t, s, testRun(1))
	if err := s.LogMetrics(r.ID, []Metric{{Step: 1, Key: "loss", Value: 0.5}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := fileHash(t, path)
	dir := filepath.Dir(path)
	if out, err := exec.Command("unshare", "-m", "true").CombinedOutput(); err != nil {
		t.Skipf("no mount namespace of our own here (unshare -m): %v %s", err, out)
	}
	script := `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99; exec "$2" -test.run='^TestReadOnlyMedia$' -test.v`
	cmd := exec.Command("unshare", "-m", "sh", "-c", script, "sh", dir, os.Args[0])
	cmd.Env = append(os.Environ(), readOnlyMedia+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 99 || errors.Is(err, exec.ErrNotFound) {
		t.Skipf("cannot mount %s read-only here: %v\n%s", dir, err, out)
	}
	if err != nil || !strings.Contains(string(out), "read-only file system") {
		t.Fatalf("reading the store on read-only media: %v\n%s", err, out)
	}
	if fileHash(t, path) != before {
		t.Error("the store changed")
	}
}

// readOnlyChild reads the store at path, which is on read-only media.
func readOnlyChild(t *testing.T, path string) {
	if err := os.WriteFile(path+"-shm", nil, 0o644); err == nil {
		t.Fatal("the store's directory is writable")
	} else {
		t.Log(err) // read-only file system
	}
	s, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.Runs(Filter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	if ms, err := s.Metrics(runs[0].ID, "loss"); err != nil || len(ms) != 1 || ms[0].Value != 0.5 {
		t.Errorf("Metrics = %v, %v", ms, err)
	}
	if _, err := Open(path); err == nil {
		t.Error("Open for writing succeeded on read-only media")
	}
}

// ExperimentNames lists the recorded experiments and those runs name.
func TestExperimentNames(t *testing.T) {
	s, _ := newStore(t)
	if err := s.PutExperiment("recorded", "", ""); err != nil {
		t.Fatal(err)
	}
	claimNew(t, s, testRun(1)) // of experiment "ablation", not recorded
	got, err := s.ExperimentNames()
	if err != nil || strings.Join(got, " ") != "ablation recorded" {
		t.Errorf("ExperimentNames = %q, %v", got, err)
	}
}
