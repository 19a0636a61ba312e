package runner

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Provenance says where, from which code and by which command line runs
// are executed, as the store records it.
type Provenance struct {
	Host        string
	CodeVersion string // see CodeVersion
	Command     string
	// Build is the build ID of the binary (see BuildID), which tells
	// whether a worker runs the same binary as its harness.
	Build string
}

// CurrentProvenance is the provenance of this process.
func CurrentProvenance() Provenance {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return Provenance{Host: host, CodeVersion: CodeVersion(), Command: strings.Join(os.Args, " "), Build: BuildID()}
}

var (
	codeVersionOnce sync.Once
	codeVersionText string
)

// CodeVersion is the git revision the running code was built from, its
// first 12 digits, followed by " (dirty)" when the work tree had changes:
// "9d29571c0a1b (dirty)". It is read from the binary's build information
// when go build stamped it there; otherwise (go run, go test, go build
// -buildvcs=false) from git at run time, in the work tree of this source
// file if it is still there, else in the working directory if that is a
// work tree of this module; else "unknown".
func CodeVersion() string {
	codeVersionOnce.Do(func() { codeVersionText = codeVersion() })
	return codeVersionText
}

func codeVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev string
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			return formatRevision(rev, modified)
		}
	}
	var dirs []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append(dirs, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
	}
	for _, dir := range dirs {
		if v, ok := gitVersion(dir); ok {
			return v
		}
	}
	return "unknown"
}

// formatRevision writes a revision as CodeVersion does.
func formatRevision(rev string, dirty bool) string {
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += " (dirty)"
	}
	return rev
}

// gitVersion asks git for the revision and state of the work tree dir is
// in, if it is one of this module (its go.mod names the module harness).
func gitVersion(dir string) (string, bool) {
	git := func(args ...string) (string, bool) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err == nil
	}
	top, ok := git("rev-parse", "--show-toplevel")
	if !ok {
		return "", false
	}
	mod, err := os.ReadFile(filepath.Join(top, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module harness\n")) {
		return "", false
	}
	rev, ok := git("rev-parse", "HEAD")
	if !ok {
		return "", false
	}
	status, ok := git("status", "--porcelain")
	if !ok {
		return "", false
	}
	return formatRevision(rev, status != ""), true
}

var (
	buildIDOnce sync.Once
	buildIDText string
)

// BuildID is the Go build ID of the running binary, which differs between
// any two builds of different code: read from the binary this process
// executes (/proc/self/exe, even if replaced on disk since), "" if it
// cannot be read.
func BuildID() string {
	buildIDOnce.Do(func() { buildIDText = readBuildID("/proc/self/exe") })
	return buildIDText
}

// readBuildID reads the build ID note of the Go binary at path.
func readBuildID(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return ""
	}
	b, err := s.Data()
	if err != nil || len(b) < 16 {
		return ""
	}
	// an ELF note: name size, description size, type, name "Go\0\0", then
	// the description, the build ID
	namesz, descsz := f.ByteOrder.Uint32(b), f.ByteOrder.Uint32(b[4:])
	start := 12 + int((namesz+3)&^3)
	if start+int(descsz) > len(b) {
		return ""
	}
	return string(b[start : start+int(descsz)])
}
