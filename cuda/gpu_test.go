package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// RequireGPUEnv names the environment variable that, set to 1, turns a
// missing GPU into a failure of the GPU tests instead of a skip, so that a
// GPU machine never skips them silently.
const RequireGPUEnv = "HARNESS_REQUIRE_GPU"

// gpuContext loads the runtime and a context on device 0, or skips the
// test saying why (fails, under HARNESS_REQUIRE_GPU=1).
func gpuContext(t *testing.T) (*Runtime, *Context) {
	t.Helper()
	rt, err := Load()
	if err == nil {
		var devs []DeviceInfo
		if devs, err = rt.Devices(); err == nil && len(devs) == 0 {
			err = errors.New("the driver lists no device")
		}
	}
	if err != nil {
		if os.Getenv(RequireGPUEnv) == "1" {
			t.Fatalf("no usable GPU, and %s=1: %v", RequireGPUEnv, err)
		}
		t.Skipf("no usable GPU (set %s=1 to fail instead): %v", RequireGPUEnv, err)
	}
	c, err := rt.NewContext(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Logf("driver CUDA %s, NVRTC %s, device 0: %s, %s, %.1f GiB (%.1f free); libraries %v",
		VersionString(rt.DriverVersion), rt.NVRTCVersion(), c.Device.Name, c.Device.Arch(),
		float64(c.Device.TotalMemory)/(1<<30), float64(c.Device.FreeMemory)/(1<<30), rt.Libraries)
	return rt, c
}

// TestGPUMemory: a round trip through device memory, synchronous and
// asynchronous through pinned memory; an allocation too large says how
// much was free.
func TestGPUMemory(t *testing.T) {
	_, c := gpuContext(t)
	const n = 1 << 16
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i) * 0.5
	}
	buf, err := c.Alloc(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free(buf)
	if err := c.WriteFloat32(buf, src); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n)
	if err := c.ReadFloat32(got, buf); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, src) {
		t.Error("synchronous round trip changed the data")
	}

	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in, err := c.AllocHost(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.FreeHost(in)
	out, err := c.AllocHost(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.FreeHost(out)
	copy(in.Float32s(), src)
	slices.Reverse(in.Float32s())
	if err := s.CopyIn(buf, in, 4*n); err != nil {
		t.Fatal(err)
	}
	if err := s.CopyOut(out, buf, 4*n); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Float32s(), in.Float32s()) {
		t.Error("asynchronous round trip changed the data")
	}

	_, err = c.Alloc(1 << 50) // a PiB
	var oom *OutOfMemoryError
	if !errors.As(err, &oom) || oom.Free == 0 {
		t.Errorf("allocating a PiB: %v, want an out-of-memory error saying what was free", err)
	} else {
		t.Log(err)
	}
}

const saxpy = `extern "C" __global__ void saxpy(float a, const float *x, float *y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}`

// TestGPUKernel compiles a kernel with NVRTC through the cache, launches
// it directly and from a captured CUDA graph.
func TestGPUKernel(t *testing.T) {
	rt, c := gpuContext(t)
	archs, err := rt.SupportedArchs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(archs, 10*c.Device.Major+c.Device.Minor) {
		t.Fatalf("NVRTC %s cannot compile for %s (it knows %v)", rt.NVRTCVersion(), c.Device.Arch(), archs)
	}
	cache := &KernelCache{Dir: t.TempDir(), Compiler: rt.Compiler()}
	cubin, err := cache.CUBIN(saxpy, c.Device.Arch(), []string{"-default-device"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := cache.CUBIN(saxpy, c.Device.Arch(), []string{"-default-device"})
	if err != nil || !slices.Equal(again, cubin) {
		t.Fatalf("cached CUBIN differs: %v", err)
	}
	m, err := c.LoadModule(cubin)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, err := m.Function("saxpy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Function("no_such_kernel"); err == nil {
		t.Error("found a kernel that is not there")
	} else {
		t.Log(err)
	}

	const n = 1000
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i] = float32(i)*0.001, 1
	}
	dx, _ := c.Alloc(4 * n)
	dy, _ := c.Alloc(4 * n)
	defer c.Free(dx)
	defer c.Free(dy)
	if err := c.WriteFloat32(dx, x); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFloat32(dy, y); err != nil {
		t.Fatal(err)
	}
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	grid, block := Dim3{X: (n + 255) / 256}, Dim3{X: 256}
	if err := s.Launch(f, grid, block, 0, float32(2), dx, dy, int32(n)); err != nil {
		t.Fatal(err)
	}
	// Two more launches captured into a graph, which runs twice: y = 1 + 10x.
	if err := s.BeginCapture(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Launch(f, grid, block, 0, float32(2), dx, dy, int32(n)); err != nil {
			t.Fatal(err)
		}
	}
	g, err := s.EndCapture()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for range 2 {
		if err := g.Launch(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n)
	if err := c.ReadFloat32(got, dy); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if want := 1 + 10*x[i]; math.Abs(float64(got[i]-want)) > 1e-4 {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], want)
		}
	}
}

// TestGPUGemm checks a strided-batched product, in FP32 and TF32, against
// the CPU in float64.
func TestGPUGemm(t *testing.T) {
	_, c := gpuContext(t)
	const m, n, k, batch = 33, 17, 65, 3 // odd sizes; column-major
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]float32, batch*m*k), make([]float32, batch*k*n)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	// C = Aᵀ·B with A stored k×m, so that a transpose is tested too.
	want := make([]float64, batch*m*n)
	for p := range batch {
		for j := range n {
			for i := range m {
				var acc float64
				for l := range k {
					acc += float64(a[p*m*k+i*k+l]) * float64(b[p*k*n+j*k+l])
				}
				want[p*m*n+j*m+i] = acc
			}
		}
	}
	da, _ := c.Alloc(4 * len(a))
	db, _ := c.Alloc(4 * len(b))
	dc, _ := c.Alloc(4 * len(want))
	defer c.Free(da)
	defer c.Free(db)
	defer c.Free(dc)
	if err := c.WriteFloat32(da, a); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFloat32(db, b); err != nil {
		t.Fatal(err)
	}
	s, err := c.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tt := range []struct {
		name string
		mode MathMode
		tol  float64
	}{{"fp32", FP32, 1e-4}, {"tf32", TF32, 3e-2}} {
		blas, err := c.NewBLAS(s, tt.mode)
		if err != nil {
			t.Fatal(err)
		}
		err = blas.GemmStridedBatched(m, n, k, 1,
			Matrix{Buf: da, LD: k, Stride: m * k, T: true}, Matrix{Buf: db, LD: k, Stride: k * n},
			0, Matrix{Buf: dc, LD: m, Stride: m * n}, batch)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(want))
		if err := c.ReadFloat32(got, dc); err != nil {
			t.Fatal(err)
		}
		var worst float64
		for i := range got {
			worst = max(worst, math.Abs(float64(got[i])-want[i])/(1+math.Abs(want[i])))
		}
		v, _ := blas.Version()
		t.Logf("%s (cuBLAS %d): max relative error %.2e", tt.name, v, worst)
		if worst > tt.tol {
			t.Errorf("%s: max relative error %.2e above %.0e", tt.name, worst, tt.tol)
		}
		blas.Close()
	}
}
