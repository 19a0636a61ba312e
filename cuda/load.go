package cuda

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"
)

// MinDriverVersion is the oldest driver accepted, as the CUDA version it
// supports (1000·major + 10·minor): entry points are resolved with
// cuGetProcAddress_v2 for the ABI of CUDA 12.0, and this is that version.
const MinDriverVersion = 12000

// A DriverTooOldError says the driver supports a CUDA older than
// MinDriverVersion.
type DriverTooOldError struct {
	Version int // cuDriverGetVersion's
}

func (e *DriverTooOldError) Error() string {
	return fmt.Sprintf("driver too old: CUDA %s (%d), need %s", VersionString(e.Version), e.Version, VersionString(MinDriverVersion))
}

// VersionString writes a CUDA version such as 12040 as "12.4".
func VersionString(v int) string {
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}

// checkDriverVersion refuses a driver older than MinDriverVersion.
func checkDriverVersion(v int) error {
	if v < MinDriverVersion {
		return &DriverTooOldError{Version: v}
	}
	return nil
}

// noDriver is the hint of a missing libcuda.so.1.
const noDriver = "no NVIDIA driver on this machine"

// A Runtime is the driver API, NVRTC and cuBLAS, loaded and initialised.
// Load it once per process.
type Runtime struct {
	// DriverVersion is the CUDA version the driver supports (12040 for 12.4).
	DriverVersion int
	// NVRTCMajor and NVRTCMinor are NVRTC's version.
	NVRTCMajor, NVRTCMinor int
	// Libraries lists the path (or soname) each library was opened from.
	Libraries []string

	d *driver
	n *nvrtc
	b *blas
}

// Load opens the driver API, NVRTC and cuBLAS (see the package
// documentation for where), checks the driver's version, calls cuInit and
// resolves every entry point. The error is a *LibraryError for a library
// not found, a *DriverTooOldError, or an *Error of cuInit (such as
// CUDA_ERROR_NO_DEVICE).
func Load() (*Runtime, error) {
	d, err := loadDriver()
	if err != nil {
		return nil, err
	}
	r := &Runtime{DriverVersion: d.version, d: d, Libraries: []string{d.lib.path}}
	if r.n, err = loadNVRTC(); err != nil {
		return nil, err
	}
	r.NVRTCMajor, r.NVRTCMinor = r.n.major, r.n.minor
	r.Libraries = append(r.Libraries, r.n.lib.path)
	if r.n.builtins != nil {
		r.Libraries = append(r.Libraries, r.n.builtins.path)
	}
	if r.b, err = loadBLAS(); err != nil {
		return nil, err
	}
	r.Libraries = append(r.Libraries, r.b.lt.path, r.b.lib.path)
	return r, nil
}

// driver holds the driver API's entry points.
type driver struct {
	lib     *library
	version int

	cuGetErrorName, cuGetErrorString, cuDriverGetVersion, cuInit, cuGetProcAddress ptr

	cuDeviceGetCount, cuDeviceGet, cuDeviceGetName, cuDeviceGetAttribute, cuDeviceTotalMem, cuDeviceGetUuid ptr
	cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxSetCurrent                                    ptr
	cuMemGetInfo, cuMemAlloc, cuMemFree, cuMemHostAlloc, cuMemFreeHost                                      ptr
	cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync                                        ptr
	cuStreamCreate, cuStreamDestroy, cuStreamSynchronize                                                    ptr
	cuModuleLoadData, cuModuleUnload, cuModuleGetFunction, cuLaunchKernel                                   ptr
	cuStreamBeginCapture, cuStreamEndCapture, cuGraphInstantiate, cuGraphLaunch                             ptr
	cuGraphExecDestroy, cuGraphDestroy                                                                      ptr
}

// loadDriver opens libcuda.so.1, checks its version, initialises it and
// resolves its entry points.
func loadDriver() (*driver, error) {
	lib, err := openLibrary("libcuda.so.1", "libcuda.so.1", []string{"libcuda.so.1"}, noDriver)
	if err != nil {
		return nil, err
	}
	d := &driver{lib: lib}
	if err := lib.syms(map[string]*ptr{
		"cuGetErrorName": &d.cuGetErrorName, "cuGetErrorString": &d.cuGetErrorString,
		"cuDriverGetVersion": &d.cuDriverGetVersion, "cuInit": &d.cuInit,
	}); err != nil {
		return nil, err
	}
	var v C.int
	if err := d.check("cuDriverGetVersion", C.h_cuDriverGetVersion(d.cuDriverGetVersion, &v)); err != nil {
		return nil, err
	}
	d.version = int(v)
	if err := checkDriverVersion(d.version); err != nil {
		return nil, err
	}
	if err := d.check("cuInit", C.h_cuInit(d.cuInit, 0)); err != nil {
		return nil, err
	}
	d.cuGetProcAddress = lib.sym("cuGetProcAddress_v2")
	return d, d.resolve()
}

// resolve finds each entry point through cuGetProcAddress_v2 for the ABI
// of MinDriverVersion, or else with dlsym under its versioned name.
func (d *driver) resolve() error {
	for _, e := range []struct {
		name, symbol string // the API name, and the library's symbol for dlsym
		p            *ptr
	}{
		{"cuDeviceGetCount", "cuDeviceGetCount", &d.cuDeviceGetCount},
		{"cuDeviceGet", "cuDeviceGet", &d.cuDeviceGet},
		{"cuDeviceGetName", "cuDeviceGetName", &d.cuDeviceGetName},
		{"cuDeviceGetAttribute", "cuDeviceGetAttribute", &d.cuDeviceGetAttribute},
		{"cuDeviceTotalMem", "cuDeviceTotalMem_v2", &d.cuDeviceTotalMem},
		{"cuDeviceGetUuid", "cuDeviceGetUuid_v2", &d.cuDeviceGetUuid},
		{"cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain", &d.cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2", &d.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", "cuCtxSetCurrent", &d.cuCtxSetCurrent},
		{"cuMemGetInfo", "cuMemGetInfo_v2", &d.cuMemGetInfo},
		{"cuMemAlloc", "cuMemAlloc_v2", &d.cuMemAlloc},
		{"cuMemFree", "cuMemFree_v2", &d.cuMemFree},
		{"cuMemHostAlloc", "cuMemHostAlloc", &d.cuMemHostAlloc},
		{"cuMemFreeHost", "cuMemFreeHost", &d.cuMemFreeHost},
		{"cuMemcpyHtoD", "cuMemcpyHtoD_v2", &d.cuMemcpyHtoD},
		{"cuMemcpyDtoH", "cuMemcpyDtoH_v2", &d.cuMemcpyDtoH},
		{"cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2", &d.cuMemcpyHtoDAsync},
		{"cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2", &d.cuMemcpyDtoHAsync},
		{"cuStreamCreate", "cuStreamCreate", &d.cuStreamCreate},
		{"cuStreamDestroy", "cuStreamDestroy_v2", &d.cuStreamDestroy},
		{"cuStreamSynchronize", "cuStreamSynchronize", &d.cuStreamSynchronize},
		{"cuModuleLoadData", "cuModuleLoadData", &d.cuModuleLoadData},
		{"cuModuleUnload", "cuModuleUnload", &d.cuModuleUnload},
		{"cuModuleGetFunction", "cuModuleGetFunction", &d.cuModuleGetFunction},
		{"cuLaunchKernel", "cuLaunchKernel", &d.cuLaunchKernel},
		{"cuStreamBeginCapture", "cuStreamBeginCapture_v2", &d.cuStreamBeginCapture},
		{"cuStreamEndCapture", "cuStreamEndCapture", &d.cuStreamEndCapture},
		{"cuGraphInstantiateWithFlags", "cuGraphInstantiateWithFlags", &d.cuGraphInstantiate},
		{"cuGraphLaunch", "cuGraphLaunch", &d.cuGraphLaunch},
		{"cuGraphExecDestroy", "cuGraphExecDestroy", &d.cuGraphExecDestroy},
		{"cuGraphDestroy", "cuGraphDestroy", &d.cuGraphDestroy},
	} {
		if *e.p = d.procAddress(e.name); *e.p == nil {
			*e.p = d.lib.sym(e.symbol)
		}
		if *e.p == nil {
			return fmt.Errorf("%s: no entry point %s (nor symbol %s)", d.lib.path, e.name, e.symbol)
		}
	}
	return nil
}

// procAddress asks cuGetProcAddress_v2 for the entry point name; nil when
// the driver lacks it or has no cuGetProcAddress_v2.
func (d *driver) procAddress(name string) ptr {
	if d.cuGetProcAddress == nil {
		return nil
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var p unsafe.Pointer
	var status C.int
	if C.h_cuGetProcAddress(d.cuGetProcAddress, cname, &p, MinDriverVersion, 0, &status) != 0 || status != 0 {
		return nil
	}
	return p
}

// nvrtc holds NVRTC's entry points.
type nvrtc struct {
	lib, builtins *library
	major, minor  int

	nvrtcGetErrorString, nvrtcVersion, nvrtcGetNumSupportedArchs, nvrtcGetSupportedArchs ptr
	nvrtcCreateProgram, nvrtcDestroyProgram, nvrtcCompileProgram                         ptr
	nvrtcGetProgramLogSize, nvrtcGetProgramLog, nvrtcGetCUBINSize, nvrtcGetCUBIN         ptr
}

// nvrtcSonames are the NVRTC sonames tried last, newest first.
var nvrtcSonames = []string{"libnvrtc.so.13", "libnvrtc.so.12"}

// loadNVRTC opens the newest libnvrtc.so.N found, then preloads its
// builtins (libnvrtc-builtins.so.N.M, which NVRTC itself opens by soname)
// from the same directory, so that NVRTC finds them there.
func loadNVRTC() (*nvrtc, error) {
	lib, err := openLibrary("libnvrtc.so.N", "libnvrtc.so.N", nvrtcSonames, "the CUDA toolkit's NVRTC is missing")
	if err != nil {
		return nil, err
	}
	n := &nvrtc{lib: lib}
	if err := lib.syms(map[string]*ptr{
		"nvrtcGetErrorString": &n.nvrtcGetErrorString, "nvrtcVersion": &n.nvrtcVersion,
		"nvrtcGetNumSupportedArchs": &n.nvrtcGetNumSupportedArchs, "nvrtcGetSupportedArchs": &n.nvrtcGetSupportedArchs,
		"nvrtcCreateProgram": &n.nvrtcCreateProgram, "nvrtcDestroyProgram": &n.nvrtcDestroyProgram,
		"nvrtcCompileProgram": &n.nvrtcCompileProgram, "nvrtcGetProgramLogSize": &n.nvrtcGetProgramLogSize,
		"nvrtcGetProgramLog": &n.nvrtcGetProgramLog, "nvrtcGetCUBINSize": &n.nvrtcGetCUBINSize,
		"nvrtcGetCUBIN": &n.nvrtcGetCUBIN,
	}); err != nil {
		return nil, err
	}
	var major, minor C.int
	if err := n.check("nvrtcVersion", C.h_nvrtcVersion(n.nvrtcVersion, &major, &minor)); err != nil {
		return nil, err
	}
	n.major, n.minor = int(major), int(minor)
	builtins := fmt.Sprintf("libnvrtc-builtins.so.%d.%d", n.major, n.minor)
	if strings.Contains(lib.path, "/") {
		n.builtins, _ = dlopen(filepath.Join(filepath.Dir(lib.path), builtins))
	}
	return n, nil
}

// blas holds cuBLAS's entry points.
type blas struct {
	lt, lib *library

	cublasGetStatusName, cublasGetStatusString, cublasGetVersion, cublasCreate, cublasDestroy ptr
	cublasSetStream, cublasSetMathMode, cublasSetAtomicsMode, cublasSetPointerMode            ptr
	cublasGemmStridedBatchedEx                                                                ptr
}

// blasSonames are the cuBLASLt sonames tried last, newest first.
var blasSonames = []string{"libcublasLt.so.13", "libcublasLt.so.12"}

// loadBLAS opens the newest libcublasLt.so.N found, then libcublas.so.N of
// the same N, so that libcublas's dependency on cuBLASLt is that copy.
func loadBLAS() (*blas, error) {
	hint := "the CUDA toolkit's cuBLAS is missing"
	lt, err := openLibrary("libcublasLt.so.N", "libcublasLt.so.N", blasSonames, hint)
	if err != nil {
		return nil, err
	}
	_, major, _ := strings.Cut(filepath.Base(lt.path), ".so.")
	if _, err := strconv.Atoi(major); err != nil {
		return nil, fmt.Errorf("cuBLASLt at %s: no major version in its name", lt.path)
	}
	name := "libcublas.so." + major
	lib, err := openLibrary(name, name, []string{name}, hint)
	if err != nil {
		return nil, err
	}
	b := &blas{lt: lt, lib: lib}
	if err := lib.syms(map[string]*ptr{
		"cublasGetVersion_v2": &b.cublasGetVersion, "cublasCreate_v2": &b.cublasCreate,
		"cublasDestroy_v2": &b.cublasDestroy, "cublasSetStream_v2": &b.cublasSetStream,
		"cublasSetMathMode": &b.cublasSetMathMode, "cublasSetAtomicsMode": &b.cublasSetAtomicsMode,
		"cublasSetPointerMode_v2": &b.cublasSetPointerMode, "cublasGemmStridedBatchedEx": &b.cublasGemmStridedBatchedEx,
	}); err != nil {
		return nil, err
	}
	b.cublasGetStatusName = lib.sym("cublasGetStatusName")
	b.cublasGetStatusString = lib.sym("cublasGetStatusString")
	return b, nil
}

// IsMissingLibrary reports whether err says a library was not found.
func IsMissingLibrary(err error) bool {
	var e *LibraryError
	return errors.As(err, &e)
}
