package cuda

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeCompiler "compiles" by describing its input, and counts its calls.
type fakeCompiler struct{ calls atomic.Int32 }

func (f *fakeCompiler) compiler(version string) Compiler {
	return Compiler{Version: version, Compile: func(src, arch string, opts []string) ([]byte, error) {
		f.calls.Add(1)
		return fmt.Appendf(nil, "cubin of %q for %s with %q by %s", src, arch, opts, version), nil
	}}
}

const src = `extern "C" __global__ void k(float *x) { x[threadIdx.x] = 1; }`

func TestCacheHitAndMiss(t *testing.T) {
	var f fakeCompiler
	c := &KernelCache{Dir: filepath.Join(t.TempDir(), "cubin"), Compiler: f.compiler("nvrtc 13.0")}
	first, err := c.CUBIN(src, "sm_90", []string{"-default-device"})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != 1 {
		t.Fatalf("a miss compiled %d times, want 1", f.calls.Load())
	}
	// A second cache on the same directory, as a second run would have.
	c2 := &KernelCache{Dir: c.Dir, Compiler: f.compiler("nvrtc 13.0")}
	second, err := c2.CUBIN(src, "sm_90", []string{"-default-device"})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls.Load() != 1 || !bytes.Equal(first, second) {
		t.Errorf("a hit compiled again (%d calls) or returned other bytes", f.calls.Load())
	}
	if entries, _ := os.ReadDir(c.Dir); len(entries) != 1 {
		t.Errorf("%d files in the cache, want 1 (no temporary file left)", len(entries))
	}
}

func TestCacheKey(t *testing.T) {
	var f fakeCompiler
	c := &KernelCache{Compiler: f.compiler("nvrtc 13.0")}
	base := c.Key(src, "sm_90", []string{"-default-device"})
	other := &KernelCache{Compiler: f.compiler("nvrtc 12.8")}
	for name, k := range map[string][32]byte{
		"source":       c.Key(src+" ", "sm_90", []string{"-default-device"}),
		"architecture": c.Key(src, "sm_80", []string{"-default-device"}),
		"options":      c.Key(src, "sm_90", []string{"-default-device", "--use_fast_math"}),
		"no options":   c.Key(src, "sm_90", nil),
		"version":      other.Key(src, "sm_90", []string{"-default-device"}),
		"split fields": c.Key(src, "sm_9", []string{"0-default-device"}),
	} {
		if k == base {
			t.Errorf("the key does not change with the %s", name)
		}
	}
	if c.Key(src, "sm_90", []string{"-default-device"}) != base {
		t.Error("the key is not stable")
	}
}

// TestCacheCorrupt: a damaged entry is compiled again and replaced, never
// returned.
func TestCacheCorrupt(t *testing.T) {
	for _, tt := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"flipped bit", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
		{"no header", func(b []byte) []byte { return b[:10] }},
		{"empty", func([]byte) []byte { return nil }},
		{"another key", func(b []byte) []byte { b[len(magic)] ^= 1; return b }},
		{"longer", func(b []byte) []byte { return append(b, 'x') }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var f fakeCompiler
			c := &KernelCache{Dir: t.TempDir(), Compiler: f.compiler("nvrtc 13.0")}
			want, err := c.CUBIN(src, "sm_90", nil)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(c.Dir, fmt.Sprintf("%x.cubin", c.Key(src, "sm_90", nil)))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := readEntry(path, c.Key(src, "sm_90", nil)); !errors.Is(err, errBadEntry) {
				t.Errorf("reading the damaged entry: %v, want %v", err, errBadEntry)
			}
			got, err := c.CUBIN(src, "sm_90", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) || f.calls.Load() != 2 {
				t.Errorf("got %q after %d compilations, want %q after 2", got, f.calls.Load(), want)
			}
			if _, err := readEntry(path, c.Key(src, "sm_90", nil)); err != nil {
				t.Errorf("the entry was not replaced: %v", err)
			}
		})
	}
}

func TestCacheCompileError(t *testing.T) {
	c := &KernelCache{Dir: t.TempDir(), Compiler: Compiler{Version: "x", Compile: func(string, string, []string) ([]byte, error) {
		return nil, errors.New("syntax error")
	}}}
	if _, err := c.CUBIN(src, "sm_90", nil); err == nil || err.Error() != "syntax error" {
		t.Errorf("compile error: %v", err)
	}
	if entries, _ := os.ReadDir(c.Dir); len(entries) != 0 {
		t.Errorf("a failed compilation left %d files", len(entries))
	}
}

// TestCacheConcurrent: writers racing on one key all get the CUBIN, and the
// entry left is whole.
func TestCacheConcurrent(t *testing.T) {
	var f fakeCompiler
	dir := t.TempDir()
	var wg sync.WaitGroup
	results := make([][]byte, 16)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() {
			c := &KernelCache{Dir: dir, Compiler: f.compiler("nvrtc 13.0")}
			results[i], errs[i] = c.CUBIN(src, "sm_90", nil)
		})
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || !bytes.Equal(results[i], results[0]) {
			t.Errorf("writer %d: %q, %v", i, results[i], errs[i])
		}
	}
	c := &KernelCache{Dir: dir, Compiler: f.compiler("nvrtc 13.0")}
	path := filepath.Join(dir, fmt.Sprintf("%x.cubin", c.Key(src, "sm_90", nil)))
	if got, err := readEntry(path, c.Key(src, "sm_90", nil)); err != nil || !bytes.Equal(got, results[0]) {
		t.Errorf("entry after the race: %q, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the cache, want 1", len(entries))
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv(CacheDirEnv, "/tmp/elsewhere")
	if d, err := DefaultCacheDir(); err != nil || d != "/tmp/elsewhere" {
		t.Errorf("with $%s: %q, %v", CacheDirEnv, d, err)
	}
	t.Setenv(CacheDirEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	if d, err := DefaultCacheDir(); err != nil || d != "/tmp/xdg/harness/cubin" {
		t.Errorf("default: %q, %v", d, err)
	}
}
