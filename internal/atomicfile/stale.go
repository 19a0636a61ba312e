package atomicfile

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The temporary file of a write to path lies in path's directory, named
//
//	.<base>.tmp-<pid>-<host>-<random>
//
// with <base> path's base name, <pid> the writer's process id, <host> eight
// hex digits hashing its host name (FNV-1a) and <random> os.CreateTemp's
// digits. A writer killed before renaming it (SIGKILL, the OOM killer, a
// power cut) leaves it behind; the name lets RemoveStale tell whether its
// writer is gone.
const tempMark = ".tmp"

// StaleAge is the age past which RemoveStale takes any temporary file for
// abandoned, whoever wrote it: a writer of another host, whose process
// cannot be seen from here, one of an older version named
// .<base>.tmp<random>, or one whose pid was since reused. A write takes
// seconds.
const StaleAge = 24 * time.Hour

// hostTag is the <host> part of this process's temporary files.
var hostTag = sync.OnceValue(func() string {
	name, _ := os.Hostname() // an unknown host hashes "" and ages out
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%08x", h.Sum32())
})

// createTemp creates the temporary file of a write to path.
func createTemp(path string) (*os.File, error) {
	pattern := fmt.Sprintf(".%s%s-%d-%s-*", filepath.Base(path), tempMark, os.Getpid(), hostTag())
	return os.CreateTemp(filepath.Dir(path), pattern)
}

// tempName is what a temporary file's name says of its writer.
type tempName struct {
	pid  int    // 0 when the name does not say (an older version's)
	host string // the host tag, "" when the name does not say
}

// parseTempName reports whether name is a temporary file's, and what it
// says of the writer.
func parseTempName(name string) (tempName, bool) {
	i := strings.LastIndex(name, tempMark)
	if !strings.HasPrefix(name, ".") || i < 1 {
		return tempName{}, false
	}
	rest := name[i+len(tempMark):]
	if isDigits(rest) { // an older version's .<base>.tmp<random>
		return tempName{}, true
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 4 || parts[0] != "" || !isDigits(parts[1]) || !isHex8(parts[2]) || !isDigits(parts[3]) {
		return tempName{}, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return tempName{}, false
	}
	return tempName{pid: pid, host: parts[2]}, true
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func isHex8(s string) bool {
	return len(s) == 8 && strings.Trim(s, "0123456789abcdef") == ""
}

// abandoned reports whether a temporary file named n, last modified at
// mod, belongs to no live writer.
func (n tempName) abandoned(mod, now time.Time) bool {
	if now.Sub(mod) > StaleAge {
		return true
	}
	return n.host == hostTag() && !processRuns(n.pid)
}

// processRuns reports whether a process with id pid exists on this host
// (one of another user included).
func processRuns(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// RemoveStale removes from dir the temporary files whose writers are gone
// (see StaleAge), and returns their names. It touches no other file; a
// file it cannot remove is an error, after trying the others.
func RemoveStale(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("removing stale temporary files: %w", err)
	}
	var removed []string
	var errs []error
	now := time.Now()
	for _, e := range entries {
		n, ok := parseTempName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !n.abandoned(info.ModTime(), now) {
			continue // gone meanwhile (renamed by its writer), or in use
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing stale temporary file: %w", err))
			continue
		}
		removed = append(removed, e.Name())
	}
	return removed, errors.Join(errs...)
}
