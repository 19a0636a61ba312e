package cuda

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// NVML lists the GPUs of a fake libnvidia-ml.so.1, and says why it could
// not: NVML's own error, or the library missing.
func TestNVML(t *testing.T) {
	so := filepath.Join(t.TempDir(), "libnvidia-ml.so.1")
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", so, "testdata/fakenvml.c").CombinedOutput(); err != nil {
		t.Skipf("cannot build the fake NVML with gcc: %v\n%s", err, out)
	}
	defer func(p string) { nvmlPath = p }(nvmlPath)
	nvmlPath = so
	driver, devs, err := NVML()
	want := []NVMLDevice{{"NVIDIA H200 #1", "GPU-0001", 1 << 30}, {"NVIDIA H200 #2", "GPU-0002", 2 << 30}}
	if err != nil || driver != "580.159.04" || !reflect.DeepEqual(devs, want) {
		t.Errorf("NVML() = %q, %+v, %v", driver, devs, err)
	}
	t.Setenv("FAKE_NVML_INIT", "9")
	if _, _, err := NVML(); err == nil || err.Error() != "NVML: init: Driver Not Loaded (9)" {
		t.Errorf("NVML() with a failing init: %v", err)
	}
	nvmlPath = filepath.Join(t.TempDir(), "libnvidia-ml.so.1")
	if _, _, err := NVML(); err == nil || !strings.Contains(err.Error(), "libnvidia-ml.so.1") {
		t.Errorf("NVML() without the library: %v", err)
	}
}
