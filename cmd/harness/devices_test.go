package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"harness/cuda"
	"harness/runner"
)

// noCUDA skips a test that expects this machine to have no CUDA driver.
func noCUDA(t *testing.T) {
	t.Helper()
	t.Setenv(cuda.LibDirEnv, t.TempDir())
	if c := runner.ProbeCUDA(); c.Err == nil || !cuda.IsMissingLibrary(c.Err) {
		t.Skipf("this machine has the CUDA driver (%v)", c.Err)
	}
}

// TestBenchRefusesCUDA is issue 8's check: on a machine without a GPU,
// harness bench --set train.device=cuda exits non-zero naming libcuda.so.1.
func TestBenchRefusesCUDA(t *testing.T) {
	noCUDA(t)
	code, out, stderr := runHarness(t, t.TempDir(), "bench", "--set", "train.device=cuda", "--steps", "1")
	if code != exitInvalid || out != "" || !strings.Contains(stderr, `train.device = "cuda": no usable GPU: libcuda.so.1 not found (tried: `) {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = harness("bench", "--set", "train.device=gpu")
	if code != exitInvalid || !strings.Contains(stderr, `train.device: must be "auto", "cpu" or "cuda", got "gpu"`) {
		t.Errorf("train.device=gpu: exit %d\n%s", code, stderr)
	}
}

// TestRunRefusesCUDA: harness run refuses train.device = "cuda" without a
// GPU before anything runs, the store untouched.
func TestRunRefusesCUDA(t *testing.T) {
	noCUDA(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "harness.db")
	code, _, stderr := harness("run", mae(t, dir), "--set", "train.device=cuda", "--db", db)
	if code != exitInvalid || !strings.Contains(stderr, "libcuda.so.1 not found") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused run made the store: %v", err)
	}
	if code, _, stderr := harness("run", mae(t, dir), "--runs-per-gpu", "-1", "--dry-run"); code != exitInvalid || !strings.Contains(stderr, "--runs-per-gpu") {
		t.Errorf("--runs-per-gpu -1: exit %d\n%s", code, stderr)
	}
}

// TestDryRunSaysWhy: with train.device auto the plan puts the runs on the
// CPU and says why.
func TestDryRunSaysWhy(t *testing.T) {
	noCUDA(t)
	dir := t.TempDir()
	code, out, stderr := harness("run", mae(t, dir), "--dry-run", "--workers", "2")
	if code != 0 || !strings.Contains(out, "trainable  device\n") || !strings.Contains(out, "runs at once: cpu 2\n") ||
		!strings.Contains(out, "no usable GPU: libcuda.so.1 not found") || !strings.Contains(out, "; computing on the CPU") {
		t.Errorf("exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = harness("run", mae(t, dir), "--dry-run", "--set", "train.device=cpu")
	if code != 0 || strings.Contains(out, "GPU") {
		t.Errorf("train.device = cpu looked for GPUs: exit %d\n%s", code, out)
	}
}

// TestDevicesReport: the report over fake findings says for each GPU
// whether runs can compute on it, or why not.
func TestDevicesReport(t *testing.T) {
	h200 := cuda.DeviceInfo{Ordinal: 0, Name: "NVIDIA H200", UUID: "GPU-aaaa", TotalMemory: 140 << 30, FreeMemory: 139 << 30, Major: 9}
	nvml := runner.Devices{Cores: 16, Driver: "580.159.04", GPUs: []runner.GPU{{Index: 0, UUID: "GPU-aaaa", Name: "NVIDIA H200", Memory: 140 << 30}}}
	missing := errors.New("libcuda.so.1 not found (tried: /usr/local/cuda/lib64; soname libcuda.so.1: no such file): no NVIDIA driver on this machine")
	tests := []struct {
		name string
		d    runner.Devices
		c    runner.CUDA
		want []string
	}{
		{"no driver", runner.Devices{Cores: 2, NVMLErr: errors.New("NVML: ERROR_LIBRARY_NOT_FOUND")}, runner.CUDA{Err: missing},
			[]string{"cpu     2 cores", "CUDA: not usable: libcuda.so.1 not found (tried: /usr/local/cuda/lib64;", "compute: CPU only"}},
		{"NVML sees the GPU, CUDA is too old", nvml, runner.CUDA{Err: &cuda.DriverTooOldError{Version: 11040}},
			[]string{"gpu 0   NVIDIA H200 (GPU-aaaa)  140.0 GiB  no: driver too old: CUDA 11.4 (11040), need 12.0"}},
		{"CUDA works, no executor", nvml, runner.CUDA{DriverVersion: 13000, NVRTC: "13.0", Libraries: []string{"/usr/lib/libcuda.so.1"}, GPUs: []cuda.DeviceInfo{h200}, Archs: []int{90}},
			[]string{"no: CUDA works on it (sm_90, 139.0 GiB free), but the CUDA executor is not built yet",
				"CUDA: driver CUDA 13.0, NVRTC 13.0, 1 GPU(s); libraries /usr/lib/libcuda.so.1"}},
		{"NVRTC lacks the architecture", runner.Devices{Cores: 16, NVMLErr: errors.New("NVML: ERROR_LIBRARY_NOT_FOUND")},
			runner.CUDA{DriverVersion: 13000, NVRTC: "13.0", GPUs: []cuda.DeviceInfo{h200}, Archs: []int{80}},
			[]string{"cuda 0  NVIDIA H200 (GPU-aaaa)  140.0 GiB  no: NVRTC 13.0 cannot compile for sm_90"}},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		printDevices(&b, tt.d, tt.c)
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: the report lacks %q:\n%s", tt.name, w, b.String())
			}
		}
	}
}
