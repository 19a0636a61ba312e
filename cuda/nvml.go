package cuda

/*
#include <stdlib.h>

// The few NVML entry points the harness needs, called through the pointers
// dlsym resolves, as shim.c does for CUDA: no NVML header or library is
// needed to build.
typedef int nvmlReturn_t;
typedef void *nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;

static nvmlReturn_t h_nvmlCall0(void *f) { return ((nvmlReturn_t (*)(void))f)(); }
static const char *h_nvmlErrorString(void *f, nvmlReturn_t r) { return ((const char *(*)(nvmlReturn_t))f)(r); }
static nvmlReturn_t h_nvmlString(void *f, char *s, unsigned n) { return ((nvmlReturn_t (*)(char *, unsigned))f)(s, n); }
static nvmlReturn_t h_nvmlCount(void *f, unsigned *n) { return ((nvmlReturn_t (*)(unsigned *))f)(n); }
static nvmlReturn_t h_nvmlHandle(void *f, unsigned i, nvmlDevice_t *d) { return ((nvmlReturn_t (*)(unsigned, nvmlDevice_t *))f)(i, d); }
static nvmlReturn_t h_nvmlDeviceString(void *f, nvmlDevice_t d, char *s, unsigned n) { return ((nvmlReturn_t (*)(nvmlDevice_t, char *, unsigned))f)(d, s, n); }
static nvmlReturn_t h_nvmlMemory(void *f, nvmlDevice_t d, nvmlMemory_t *m) { return ((nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t *))f)(d, m); }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// NVMLLibrary is the soname of NVML, which the NVIDIA driver installs.
const NVMLLibrary = "libnvidia-ml.so.1"

// nvmlPath is the library NVML opens, a fake one in tests.
var nvmlPath = NVMLLibrary

// An NVMLDevice is a GPU as NVML lists it.
type NVMLDevice struct {
	Name   string
	UUID   string // "GPU-…"
	Memory uint64 // bytes in all
}

// NVML lists every GPU of the machine, whatever CUDA_VISIBLE_DEVICES says,
// with the driver's version, through NVML loaded at run time: a machine
// without the NVIDIA driver answers an error saying NVML is not there.
func NVML() (driver string, devices []NVMLDevice, err error) {
	lib, err := dlopen(nvmlPath)
	if err != nil {
		return "", nil, fmt.Errorf("NVML: %v", err)
	}
	var f struct{ init, shutdown, errorString, driverVersion, count, handle, name, uuid, memory ptr }
	if err := lib.syms(map[string]*ptr{
		"nvmlInit_v2": &f.init, "nvmlShutdown": &f.shutdown, "nvmlErrorString": &f.errorString,
		"nvmlSystemGetDriverVersion": &f.driverVersion, "nvmlDeviceGetCount_v2": &f.count,
		"nvmlDeviceGetHandleByIndex_v2": &f.handle, "nvmlDeviceGetName": &f.name,
		"nvmlDeviceGetUUID": &f.uuid, "nvmlDeviceGetMemoryInfo": &f.memory,
	}); err != nil {
		return "", nil, fmt.Errorf("NVML: %w", err)
	}
	fail := func(what string, r C.nvmlReturn_t) error {
		return fmt.Errorf("NVML: %s: %s (%d)", what, C.GoString(C.h_nvmlErrorString(f.errorString, r)), int(r))
	}
	if r := C.h_nvmlCall0(f.init); r != 0 {
		return "", nil, fail("init", r)
	}
	defer C.h_nvmlCall0(f.shutdown)
	buf := (*C.char)(C.malloc(256))
	defer C.free(unsafe.Pointer(buf))
	if r := C.h_nvmlString(f.driverVersion, buf, 256); r != 0 {
		return "", nil, fail("driver version", r)
	}
	driver = C.GoString(buf)
	var n C.uint
	if r := C.h_nvmlCount(f.count, &n); r != 0 {
		return "", nil, fail("count devices", r)
	}
	devices = make([]NVMLDevice, n)
	for i := range devices {
		var d C.nvmlDevice_t
		if r := C.h_nvmlHandle(f.handle, C.uint(i), &d); r != 0 {
			return "", nil, fail(fmt.Sprintf("device %d", i), r)
		}
		if r := C.h_nvmlDeviceString(f.name, d, buf, 256); r != 0 {
			return "", nil, fail(fmt.Sprintf("device %d: name", i), r)
		}
		devices[i].Name = C.GoString(buf)
		if r := C.h_nvmlDeviceString(f.uuid, d, buf, 256); r != 0 {
			return "", nil, fail(fmt.Sprintf("device %d: UUID", i), r)
		}
		devices[i].UUID = C.GoString(buf)
		var m C.nvmlMemory_t
		if r := C.h_nvmlMemory(f.memory, d, &m); r != 0 {
			return "", nil, fail(fmt.Sprintf("device %d: memory", i), r)
		}
		devices[i].Memory = uint64(m.total)
	}
	return driver, devices, nil
}
