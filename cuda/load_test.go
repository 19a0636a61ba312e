package cuda

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"
)

// TestLoadEmptyDir: with no driver anywhere, the error names libcuda.so.1,
// every place tried, and what that means.
func TestLoadEmptyDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(LibDirEnv, dir)
	lib, err := openLibrary("libcuda.so.1", "libcuda.so.1", []string{"libcuda.so.1.fake-soname"}, noDriver)
	if err == nil {
		t.Fatalf("opened %s from an empty directory", lib.path)
	}
	var le *LibraryError
	if !errors.As(err, &le) {
		t.Fatalf("error %T %v, want a *LibraryError", err, err)
	}
	msg := err.Error()
	for _, want := range []string{
		"libcuda.so.1 not found (tried: ",
		"$" + LibDirEnv + "=" + dir,
		"/usr/local/cuda/targets/x86_64-linux/lib",
		"/usr/local/cuda/lib64",
		"soname libcuda.so.1.fake-soname: ",
		noDriver,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if len(le.Tried) != 4 || le.Tried[0].Why != notThere {
		t.Errorf("tried %+v, want 4 places, the first %q", le.Tried, notThere)
	}
}

// TestLoadNotALibrary: a file named libcuda.so.1 that is no library is
// reported with dlopen's own words.
func TestLoadNotALibrary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "libcuda.so.1")
	if err := os.WriteFile(path, []byte("not an ELF file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(LibDirEnv, "/nonexistent:"+dir)
	_, err := openLibrary("libcuda.so.1", "libcuda.so.1", nil, noDriver)
	if err == nil {
		t.Fatal("opened a text file as a library")
	}
	var le *LibraryError
	if !errors.As(err, &le) {
		t.Fatalf("error %T %v, want a *LibraryError", err, err)
	}
	if le.Tried[0].Where != "$"+LibDirEnv+"=/nonexistent" || le.Tried[1].Where != path {
		t.Errorf("tried %+v, want /nonexistent then %s", le.Tried, path)
	}
	// glibc says "invalid ELF header" or "file too short"
	if why := le.Tried[1].Why; !strings.Contains(why, path) || !(strings.Contains(why, "ELF") || strings.Contains(why, "too short")) {
		t.Errorf("dlopen's error %q names neither the file nor what is wrong with it", why)
	}
	if !strings.Contains(err.Error(), le.Tried[1].Why) {
		t.Errorf("error %q lacks dlopen's error", err)
	}
}

// TestLoadWithoutDriver: on a machine without the NVIDIA driver, Load
// fails naming libcuda.so.1.
func TestLoadWithoutDriver(t *testing.T) {
	if _, err := dlopen("libcuda.so.1"); err == nil {
		t.Skip("this machine has libcuda.so.1")
	}
	t.Setenv(LibDirEnv, t.TempDir())
	_, err := Load()
	if err == nil || !IsMissingLibrary(err) || !strings.Contains(err.Error(), "libcuda.so.1 not found") {
		t.Fatalf("Load without a driver: %v, want libcuda.so.1 not found", err)
	}
}

// TestFindNewest: ".so.N" picks the highest major version in a directory.
func TestFindNewest(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"libnvrtc.so.12", "libnvrtc.so.13", "libnvrtc.so.9", "libnvrtc.so.13.0.48", "libnvrtc.so"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path, ok := findFile(dir, "libnvrtc.so.N")
	if want := filepath.Join(dir, "libnvrtc.so.13"); !ok || path != want {
		t.Errorf("found %q %v, want %q", path, ok, want)
	}
	if _, ok := findFile(dir, "libcublas.so.N"); ok {
		t.Error("found a libcublas.so.N that is not there")
	}
}

func TestDriverVersion(t *testing.T) {
	for _, tt := range []struct {
		v    int
		want string
	}{
		{13000, ""},
		{12000, ""},
		{11040, "driver too old: CUDA 11.4 (11040), need 12.0"},
		{10020, "driver too old: CUDA 10.2 (10020), need 12.0"},
	} {
		err := checkDriverVersion(tt.v)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("version %d: %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestFormatUUID(t *testing.T) {
	u := [16]byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0, 1, 2, 3, 4, 5, 6, 7}
	if got, want := formatUUID(u), "GPU-12345678-9abc-def0-0001-020304050607"; got != want {
		t.Errorf("%s, want %s", got, want)
	}
}

func TestKernelParams(t *testing.T) {
	params, free, err := kernelParams([]any{float32(2), int32(-3), Buffer{ptr: 0x1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer free()
	ps := unsafe.Slice(params, 3)
	if got := *(*float32)(ps[0]); got != 2 {
		t.Errorf("argument 0: %v, want 2", got)
	}
	if got := *(*int32)(ps[1]); got != -3 {
		t.Errorf("argument 1: %v, want -3", got)
	}
	if got := *(*uint64)(ps[2]); got != 0x1000 {
		t.Errorf("argument 2: %#x, want 0x1000", got)
	}
	if _, _, err := kernelParams([]any{"a string"}); err == nil || !strings.Contains(err.Error(), "argument 0: unsupported type string") {
		t.Errorf("a string argument: %v", err)
	}
}
