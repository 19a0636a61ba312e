package cuda

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeDir is the directory of the fake libraries, once built.
var fakeDir string

// fakeLibs builds testdata/fakecuda.c once, as the four libraries Load
// opens, in a directory for $HARNESS_CUDA_LIB_DIR.
var fakeLibs = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "fakecuda")
	if err != nil {
		return "", err
	}
	fakeDir = dir
	so := filepath.Join(dir, "libcuda.so.1")
	out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", so, "testdata/fakecuda.c", "-ldl").CombinedOutput()
	if err != nil {
		return "", errors.New(string(out) + err.Error())
	}
	b, err := os.ReadFile(so)
	if err != nil {
		return "", err
	}
	for _, name := range []string{"libnvrtc.so.13", "libcublasLt.so.13", "libcublas.so.13"} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if fakeDir != "" {
		os.RemoveAll(fakeDir)
	}
	os.Exit(code)
}

// useFake points the loader at the fake libraries, with the fake's
// environment variables set as given.
func useFake(t *testing.T, env ...string) {
	t.Helper()
	dir, err := fakeLibs()
	if err != nil {
		t.Skipf("cannot build the fake CUDA libraries with gcc: %v", err)
	}
	t.Setenv(LibDirEnv, dir)
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
}

// The fake libraries stay loaded once opened, so their answers come from
// the environment at each call, and every test here sets it.

func TestFakeDriverTooOld(t *testing.T) {
	useFake(t, "FAKE_CUDA_VERSION", "11040", "FAKE_CUDA_INIT", "0")
	_, err := Load()
	var old *DriverTooOldError
	if !errors.As(err, &old) || err.Error() != "driver too old: CUDA 11.4 (11040), need 12.0" {
		t.Errorf("Load with driver 11.4: %v", err)
	}
}

func TestFakeNoDevice(t *testing.T) {
	useFake(t, "FAKE_CUDA_VERSION", "13000", "FAKE_CUDA_INIT", "100")
	_, err := Load()
	want := "cuInit: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected"
	if err == nil || err.Error() != want {
		t.Errorf("Load with cuInit failing: %v, want %q", err, want)
	}
}

// TestFakeRuntime drives the whole binding over the fake: the trampolines,
// entry points resolved through cuGetProcAddress_v2, enumeration, memory,
// and each library's errors.
func TestFakeRuntime(t *testing.T) {
	useFake(t, "FAKE_CUDA_VERSION", "13000", "FAKE_CUDA_INIT", "0", "FAKE_CUDA_DEVICES", "2")
	rt, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if rt.DriverVersion != 13000 || rt.NVRTCVersion() != "13.0" || len(rt.Libraries) != 4 {
		t.Errorf("driver %d, NVRTC %s, libraries %v", rt.DriverVersion, rt.NVRTCVersion(), rt.Libraries)
	}
	devs, err := rt.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 2 || devs[1].Name != "Fake GPU 1" || devs[1].Arch() != "sm_90" ||
		devs[1].TotalMemory != 80<<30 || devs[1].FreeMemory != 70<<30 ||
		devs[1].UUID != "GPU-10111213-1415-1617-1819-1a1b1c1d1e1f" {
		t.Errorf("devices %+v", devs)
	}
	c, err := rt.NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf, err := c.Alloc(16)
	if err != nil {
		t.Fatal(err)
	}
	in, out := []float32{1, 2, 3, 4}, make([]float32, 4)
	if err := c.WriteFloat32(buf, in); err != nil {
		t.Fatal(err)
	}
	if err := c.ReadFloat32(out, buf); err != nil || out[3] != 4 {
		t.Errorf("round trip: %v, %v", out, err)
	}
	if err := c.WriteFloat32(buf, make([]float32, 5)); err == nil {
		t.Error("a copy past the buffer's end was allowed")
	}
	c.Free(buf)

	_, err = c.Alloc(100 << 30)
	var oom *OutOfMemoryError
	if !errors.As(err, &oom) || !strings.Contains(err.Error(), "needed 102400.0 MiB, 71680.0 MiB free") {
		t.Errorf("out of memory: %v", err)
	}
	_, err = c.LoadModule([]byte("junk"))
	if err == nil || !strings.Contains(err.Error(), "cuModuleLoadData: CUDA_ERROR_UNKNOWN (200)") {
		t.Errorf("bad module: %v", err)
	}
	fakeLaunch(t, c)
	_, err = rt.Compile("junk", "sm_90", nil)
	var ne *NVRTCError
	if !errors.As(err, &ne) || ne.Log != "fake: error" {
		t.Errorf("compile error: %v", err)
	}
	if archs, err := rt.SupportedArchs(); err != nil || len(archs) != 2 || archs[1] != 90 {
		t.Errorf("supported archs %v, %v", archs, err)
	}
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.NewBLAS(s, TF32)
	if err != nil {
		t.Fatal(err)
	}
	err = b.GemmStridedBatched(2, 2, 2, 1, Matrix{}, Matrix{}, 0, Matrix{}, 1)
	want := "2×2×2 ×1: cublasGemmStridedBatchedEx: CUBLAS_STATUS_INVALID_VALUE (7): an invalid numeric value was used as an argument"
	if err == nil || err.Error() != want {
		t.Errorf("cuBLAS error: %v, want %q", err, want)
	}
}

// fakeLaunch launches the fake's saxpy, directly and from a graph, on
// buffers filled through pinned memory: the arguments must arrive.
func fakeLaunch(t *testing.T, c *Context) {
	m, err := c.LoadModule([]byte("FAKECUBIN"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, err := m.Function("saxpy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Function("other"); err == nil || !strings.Contains(err.Error(), "kernel other: cuModuleGetFunction") {
		t.Errorf("missing kernel: %v", err)
	}
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	host, err := c.AllocHost(16)
	if err != nil {
		t.Fatal(err)
	}
	defer c.FreeHost(host)
	x, _ := c.Alloc(16)
	y, _ := c.Alloc(16)
	copy(host.Float32s(), []float32{1, 2, 3, 4})
	if err := s.CopyIn(x, host, 16); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFloat32(y, []float32{1, 1, 1, 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Launch(f, Dim3{X: 1}, Dim3{X: 4}, 0, float32(2), x, y, int32(4)); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginCapture(); err != nil {
		t.Fatal(err)
	}
	if err := s.Launch(f, Dim3{X: 1}, Dim3{X: 4}, 0, float32(10), x, y, int32(4)); err != nil {
		t.Fatal(err)
	}
	g, err := s.EndCapture()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Launch(s); err != nil {
		t.Fatal(err)
	}
	g.Close()
	if err := s.CopyOut(host, y, 16); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	// the fake runs the captured launch at once: y = 1 + 2x + 10x
	if got := host.Float32s(); got[0] != 13 || got[3] != 49 {
		t.Errorf("y = %v, want [13 25 37 49]", got)
	}
	if err := s.Launch(f, Dim3{X: 1}, Dim3{X: 4}, 0, "two"); err == nil || !strings.Contains(err.Error(), "launch saxpy: argument 0: unsupported type string") {
		t.Errorf("a string argument: %v", err)
	}
	c.Free(x)
	c.Free(y)
}
