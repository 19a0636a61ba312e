package cuda

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

// LibDirEnv names the environment variable that lists, colon-separated,
// the directories searched first for the CUDA libraries.
const LibDirEnv = "HARNESS_CUDA_LIB_DIR"

// defaultDirs are searched after LibDirEnv's directories and before the
// bare sonames.
var defaultDirs = []string{"/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/lib64"}

// ptr is the type of an entry point's address, which the trampolines of
// shim.c call.
type ptr = unsafe.Pointer

// A library is a shared library opened with dlopen.
type library struct {
	path   string // the path or soname it was opened by
	handle unsafe.Pointer
}

// An Attempt is one place a library was looked for, and why it was not
// opened there.
type Attempt struct {
	Where string // "$HARNESS_CUDA_LIB_DIR=/x", "/usr/local/cuda/lib64", "soname libcuda.so.1"
	Why   string // "not there", or dlopen's error
}

// A LibraryError says that a library could be opened nowhere.
type LibraryError struct {
	Name  string // the library, e.g. "libcuda.so.1" or "libnvrtc.so.N"
	Tried []Attempt
	// Hint says what the absence usually means, e.g. that the machine has
	// no NVIDIA driver.
	Hint string
}

func (e *LibraryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s not found (tried: ", e.Name)
	for i, a := range e.Tried {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(a.Where)
		if a.Why != "" && a.Why != notThere {
			b.WriteString(": " + a.Why)
		}
	}
	b.WriteString(")")
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

// notThere is an Attempt's Why when the directory holds no such file.
const notThere = "not there"

// searchDirs returns the directories to look in, each with how to name it
// in an error: LibDirEnv's first, then defaultDirs.
func searchDirs() (dirs, names []string) {
	if env := os.Getenv(LibDirEnv); env != "" {
		for _, d := range strings.Split(env, ":") {
			if d != "" {
				dirs = append(dirs, d)
				names = append(names, "$"+LibDirEnv+"="+d)
			}
		}
	}
	for _, d := range defaultDirs {
		dirs = append(dirs, d)
		names = append(names, d)
	}
	return dirs, names
}

// openLibrary opens the library named name (for errors) as file in the
// search directories, then as the bare soname. file may end in ".so.N",
// with N standing for the newest major version found in a directory;
// sonames then lists the sonames to try, newest first.
func openLibrary(name, file string, sonames []string, hint string) (*library, error) {
	e := &LibraryError{Name: name, Hint: hint}
	dirs, names := searchDirs()
	for i, dir := range dirs {
		path, ok := findFile(dir, file)
		if !ok {
			e.Tried = append(e.Tried, Attempt{Where: names[i], Why: notThere})
			continue
		}
		lib, err := dlopen(path)
		if err == nil {
			return lib, nil
		}
		e.Tried = append(e.Tried, Attempt{Where: path, Why: err.Error()})
	}
	for _, so := range sonames {
		lib, err := dlopen(so)
		if err == nil {
			return lib, nil
		}
		e.Tried = append(e.Tried, Attempt{Where: "soname " + so, Why: err.Error()})
	}
	return nil, e
}

// findFile returns the path of file in dir. A file ending in ".so.N" is
// the one with the highest major version, e.g. libnvrtc.so.13 over
// libnvrtc.so.12.
func findFile(dir, file string) (string, bool) {
	if base, ok := strings.CutSuffix(file, ".so.N"); ok {
		versions := majorVersions(dir, base+".so.")
		if len(versions) == 0 {
			return "", false
		}
		return filepath.Join(dir, base+".so."+strconv.Itoa(versions[0])), true
	}
	path := filepath.Join(dir, file)
	_, err := os.Stat(path)
	return path, err == nil
}

// majorVersions returns, highest first, the N of the files prefix+N in dir.
func majorVersions(dir, prefix string) []int {
	matches, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
	var vs []int
	for _, m := range matches {
		if n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), prefix)); err == nil {
			vs = append(vs, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(vs)))
	return vs
}

// dlopen opens path (or a soname) with RTLD_NOW | RTLD_GLOBAL, so that the
// libraries opened later, which name it as a dependency, share this copy.
func dlopen(path string) (*library, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	h := C.h_dlopen(cpath, 1)
	if h == nil {
		return nil, fmt.Errorf("%s", strings.TrimSpace(C.GoString(C.h_dlerror())))
	}
	return &library{path: path, handle: h}, nil
}

// sym returns the address of symbol name in the library, nil if absent.
func (l *library) sym(name string) unsafe.Pointer {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	return C.h_dlsym(l.handle, cname)
}

// syms resolves each named symbol into its pointer, or says which one
// the library lacks.
func (l *library) syms(table map[string]*unsafe.Pointer) error {
	for name, p := range table {
		if *p = l.sym(name); *p == nil {
			return fmt.Errorf("%s has no symbol %s", l.path, name)
		}
	}
	return nil
}
