package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"harness/internal/atomicfile"
	"harness/internal/names"
	"harness/store"
)

// MarkerName is the name in a run directory of the marker that says which
// run of which store the directory belongs to.
const MarkerName = "run.json"

// storeIDPrefix is how many characters of the store's identity name its
// run directories.
const storeIDPrefix = 8

// experimentDir is the directory of an experiment's runs under out. It is
// the one place an experiment's name becomes a path, through names.Escape.
func experimentDir(out, experiment string) string {
	return filepath.Join(out, names.Escape(experiment))
}

// RunDir is the directory of the run with the given id in the store with
// the given identity (store.Store.ID): out/<experiment>/<store id
// prefix>-<run id>. Run ids restart in each store; the store's identity
// keeps a new store's runs out of an old store's directories.
func RunDir(out, experiment, storeID string, id int64) string {
	prefix := storeID[:min(storeIDPrefix, len(storeID))]
	return filepath.Join(experimentDir(out, experiment), fmt.Sprintf("%s-%d", prefix, id))
}

// A Marker is the content of a run directory's MarkerName file.
type Marker struct {
	StoreID    string `json:"store_id"`
	RunID      int64  `json:"run_id"`
	ConfigHash string `json:"config_hash"`
}

// prepareRunDir makes the run directory dir for the run m names, or checks
// that the directory there is that run's: its marker names m's store, run
// and configuration. A directory with a foreign marker, or with files and
// no marker, is refused, naming it: its checkpoint is never read. A new
// directory gets its marker before anything else is written in it.
func prepareRunDir(dir string, m Marker) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	path := filepath.Join(dir, MarkerName)
	got, err := readMarker(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writeMarker(dir, path, m)
	case err != nil:
		return fmt.Errorf("run directory %s: %w", dir, err)
	}
	if got != m {
		return fmt.Errorf("run directory %s belongs to %s, not to %s; move it away", dir, got, m)
	}
	return nil
}

// String names the run a marker names, as in messages.
func (m Marker) String() string {
	return fmt.Sprintf("run %d (configuration %s) of store %s", m.RunID, m.ConfigHash, m.StoreID)
}

// readMarker reads the marker file at path.
func readMarker(path string) (Marker, error) {
	var m Marker
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("marker %s: %w", MarkerName, err)
	}
	return m, nil
}

// chooseDir returns the directory a claim of the run r is to use. The
// directory r's last claim recorded (r.Dir) is used, wherever it is, if it
// exists and holds the marker m: it has the run's latest checkpoint, as
// when the run is taken over from a harness with another --out. Otherwise
// the run goes to own, its directory under this harness's output
// directory (RunDir). The note, for the run's log, says which directory
// was chosen and why, unless the two are one or none was recorded.
func chooseDir(own string, r store.Run, m Marker) (dir, note string) {
	if r.Dir == "" || r.Dir == own {
		return own, ""
	}
	var why string
	got, err := readMarker(filepath.Join(r.Dir, MarkerName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(r.Dir); serr != nil {
			why = "it does not exist"
		} else {
			why = "it has no " + MarkerName
		}
	case err != nil:
		why = err.Error()
	case got != m:
		why = "its " + MarkerName + " names " + got.String()
	default:
		return r.Dir, fmt.Sprintf("the run continues in its directory recorded by its last claim, %s, not in %s", r.Dir, own)
	}
	return own, fmt.Sprintf("the run's directory recorded by its last claim, %s, is not used (%s); the run goes to %s instead", r.Dir, why, own)
}

// writeMarker writes the marker of the run directory dir at path, unless
// dir already holds files, which would then be no known run's.
func writeMarker(dir, path string, m Marker) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+MarkerName+".tmp") {
			continue // a marker whose writer was killed
		}
		return fmt.Errorf("run directory %s holds %s but no %s: it belongs to no known run; move it away",
			dir, e.Name(), MarkerName)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
	if err != nil {
		return fmt.Errorf("run directory %s: write %s: %w", dir, MarkerName, err)
	}
	return nil
}
