// Package cuda binds the CUDA driver API, NVRTC and cuBLAS at run time.
//
// Nothing of CUDA is needed to build it: no header, no library, no nvcc.
// Load opens libcuda.so.1, libnvrtc.so.N (the newest N found, with its
// builtins) and libcublasLt.so.N and libcublas.so.N with dlopen, looking in
// these places in order:
//
//  1. the directories of $HARNESS_CUDA_LIB_DIR, a colon-separated list;
//  2. /usr/local/cuda/targets/x86_64-linux/lib;
//  3. /usr/local/cuda/lib64;
//  4. the bare soname, which the dynamic loader looks up as usual
//     (LD_LIBRARY_PATH, the ld.so cache, /usr/lib, ...).
//
// A library that cannot be opened is a *LibraryError naming every path
// tried and why each failed. The driver's entry points are resolved through
// cuGetProcAddress_v2, with dlsym as the fallback, for the ABI of CUDA
// MinDriverVersion; an older driver is a *DriverTooOldError.
//
// Every CUresult other than CUDA_SUCCESS becomes a *Error carrying the
// function's name and the driver's cuGetErrorName and cuGetErrorString
// text; NVRTC and cuBLAS statuses become errors the same way.
//
// cgo cannot call a C function pointer, so shim.c holds one trampoline per
// entry point: it takes the pointer resolved at run time and calls it.
// shim.h declares the few CUDA types used, so no CUDA header is needed.
//
// Kernels are CUDA C compiled by NVRTC for the device's architecture to a
// CUBIN, which a KernelCache keeps on disk.
package cuda
