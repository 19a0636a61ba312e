package cuda

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"
)

// NVRTCVersion is NVRTC's version, e.g. "13.0", part of a KernelCache key.
func (r *Runtime) NVRTCVersion() string { return fmt.Sprintf("%d.%d", r.NVRTCMajor, r.NVRTCMinor) }

// SupportedArchs lists the compute capabilities NVRTC compiles for, as
// 10·major + minor (90 for sm_90).
func (r *Runtime) SupportedArchs() ([]int, error) {
	n := r.n
	var count C.int
	if err := n.check("nvrtcGetNumSupportedArchs", C.h_nvrtcGetNumSupportedArchs(n.nvrtcGetNumSupportedArchs, &count)); err != nil {
		return nil, err
	}
	archs := make([]C.int, max(int(count), 1))
	if err := n.check("nvrtcGetSupportedArchs", C.h_nvrtcGetSupportedArchs(n.nvrtcGetSupportedArchs, &archs[0])); err != nil {
		return nil, err
	}
	out := make([]int, count)
	for i := range out {
		out[i] = int(archs[i])
	}
	return out, nil
}

// Compile compiles CUDA C source with NVRTC for arch (e.g. "sm_90") with
// the extra options given, and returns the CUBIN. A compile error carries
// NVRTC's log.
func (r *Runtime) Compile(src, arch string, opts []string) ([]byte, error) {
	n := r.n
	csrc := C.CString(src)
	defer C.free(unsafe.Pointer(csrc))
	cname := C.CString("kernel.cu")
	defer C.free(unsafe.Pointer(cname))
	var prog C.nvrtcProgram
	if err := n.check("nvrtcCreateProgram", C.h_nvrtcCreateProgram(n.nvrtcCreateProgram, &prog, csrc, cname)); err != nil {
		return nil, err
	}
	defer C.h_nvrtcDestroyProgram(n.nvrtcDestroyProgram, &prog)

	all := append([]string{"--gpu-architecture=" + arch}, opts...)
	copts := make([]*C.char, len(all))
	for i, o := range all {
		copts[i] = C.CString(o)
		defer C.free(unsafe.Pointer(copts[i]))
	}
	coptsC := (**C.char)(C.malloc(C.size_t(len(copts)) * C.size_t(unsafe.Sizeof(copts[0]))))
	defer C.free(unsafe.Pointer(coptsC))
	copy(unsafe.Slice(coptsC, len(copts)), copts)

	if err := n.check("nvrtcCompileProgram", C.h_nvrtcCompileProgram(n.nvrtcCompileProgram, prog, C.int(len(all)), coptsC)); err != nil {
		log := n.bytes(prog, n.nvrtcGetProgramLogSize, n.nvrtcGetProgramLog)
		err.(*NVRTCError).Log = strings.TrimSpace(strings.TrimRight(string(log), "\x00"))
		return nil, err
	}
	cubin := n.bytes(prog, n.nvrtcGetCUBINSize, n.nvrtcGetCUBIN)
	if len(cubin) == 0 {
		return nil, fmt.Errorf("nvrtcGetCUBIN: empty CUBIN for %s", arch)
	}
	return cubin, nil
}

// bytes reads the program's log or CUBIN through its size and contents
// entry points; nil if NVRTC fails.
func (n *nvrtc) bytes(prog C.nvrtcProgram, sizeFn, bytesFn ptr) []byte {
	var size C.size_t
	if C.h_nvrtcGetSize(sizeFn, prog, &size) != 0 || size == 0 {
		return nil
	}
	buf := C.malloc(size)
	defer C.free(buf)
	if C.h_nvrtcGetBytes(bytesFn, prog, (*C.char)(buf)) != 0 {
		return nil
	}
	return C.GoBytes(buf, C.int(size))
}

// Compiler is the NVRTC of r as a KernelCache's compiler.
func (r *Runtime) Compiler() Compiler {
	return Compiler{Version: "nvrtc " + r.NVRTCVersion(), Compile: r.Compile}
}
