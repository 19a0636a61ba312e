// shim.h: the few CUDA, NVRTC and cuBLAS types the binding needs, declared
// here so that building needs no CUDA header, and the trampolines of
// shim.c. cgo cannot call a C function pointer, so each entry point has a
// trampoline that takes the pointer (resolved at run time) and calls it.
#ifndef HARNESS_CUDA_SHIM_H
#define HARNESS_CUDA_SHIM_H

#include <stddef.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream, *CUgraph, *CUgraphExec;
typedef int nvrtcResult;
typedef void *nvrtcProgram;
typedef int cublasStatus_t;
typedef void *cublasHandle_t;

// dynamic loading
void *h_dlopen(const char *path, int global);
const char *h_dlerror(void);
void *h_dlsym(void *lib, const char *name);

// driver API
CUresult h_cuInit(void *f, unsigned flags);
CUresult h_cuDriverGetVersion(void *f, int *v);
CUresult h_cuGetErrorText(void *f, CUresult r, const char **s); // cuGetErrorName and cuGetErrorString
CUresult h_cuGetProcAddress(void *f, const char *name, void **p, int version, unsigned long long flags, int *status);
CUresult h_cuDeviceGetCount(void *f, int *n);
CUresult h_cuDeviceGet(void *f, CUdevice *d, int ordinal);
CUresult h_cuDeviceGetName(void *f, char *name, int len, CUdevice d);
CUresult h_cuDeviceGetAttribute(void *f, int *v, int attr, CUdevice d);
CUresult h_cuDeviceTotalMem(void *f, size_t *bytes, CUdevice d);
CUresult h_cuDeviceGetUuid(void *f, char *uuid16, CUdevice d);
CUresult h_cuDevicePrimaryCtxRetain(void *f, CUcontext *c, CUdevice d);
CUresult h_cuDevicePrimaryCtxRelease(void *f, CUdevice d);
CUresult h_cuCtxSetCurrent(void *f, CUcontext c);
CUresult h_cuMemGetInfo(void *f, size_t *free, size_t *total);
CUresult h_cuMemAlloc(void *f, CUdeviceptr *p, size_t bytes);
CUresult h_cuMemFree(void *f, CUdeviceptr p);
CUresult h_cuMemHostAlloc(void *f, void **p, size_t bytes, unsigned flags);
CUresult h_cuMemFreeHost(void *f, void *p);
CUresult h_cuMemcpyHtoD(void *f, CUdeviceptr dst, const void *src, size_t bytes);
CUresult h_cuMemcpyDtoH(void *f, void *dst, CUdeviceptr src, size_t bytes);
CUresult h_cuMemcpyHtoDAsync(void *f, CUdeviceptr dst, const void *src, size_t bytes, CUstream s);
CUresult h_cuMemcpyDtoHAsync(void *f, void *dst, CUdeviceptr src, size_t bytes, CUstream s);
CUresult h_cuStreamCreate(void *f, CUstream *s, unsigned flags);
CUresult h_cuStreamDestroy(void *f, CUstream s);
CUresult h_cuStreamSynchronize(void *f, CUstream s);
CUresult h_cuModuleLoadData(void *f, CUmodule *m, const void *image);
CUresult h_cuModuleUnload(void *f, CUmodule m);
CUresult h_cuModuleGetFunction(void *f, CUfunction *fn, CUmodule m, const char *name);
CUresult h_cuLaunchKernel(void *f, CUfunction fn, unsigned gx, unsigned gy, unsigned gz,
                          unsigned bx, unsigned by, unsigned bz, unsigned shmem, CUstream s, void **args);
CUresult h_cuStreamBeginCapture(void *f, CUstream s, int mode);
CUresult h_cuStreamEndCapture(void *f, CUstream s, CUgraph *g);
CUresult h_cuGraphInstantiate(void *f, CUgraphExec *e, CUgraph g, unsigned long long flags);
CUresult h_cuGraphLaunch(void *f, CUgraphExec e, CUstream s);
CUresult h_cuGraphExecDestroy(void *f, CUgraphExec e);
CUresult h_cuGraphDestroy(void *f, CUgraph g);

// NVRTC
const char *h_nvrtcGetErrorString(void *f, nvrtcResult r);
nvrtcResult h_nvrtcVersion(void *f, int *major, int *minor);
nvrtcResult h_nvrtcGetNumSupportedArchs(void *f, int *n);
nvrtcResult h_nvrtcGetSupportedArchs(void *f, int *archs);
nvrtcResult h_nvrtcCreateProgram(void *f, nvrtcProgram *p, const char *src, const char *name);
nvrtcResult h_nvrtcDestroyProgram(void *f, nvrtcProgram *p);
nvrtcResult h_nvrtcCompileProgram(void *f, nvrtcProgram p, int n, const char *const *opts);
nvrtcResult h_nvrtcGetSize(void *f, nvrtcProgram p, size_t *n); // log or CUBIN size
nvrtcResult h_nvrtcGetBytes(void *f, nvrtcProgram p, char *out); // log or CUBIN

// cuBLAS
const char *h_cublasGetStatusText(void *f, cublasStatus_t s); // name or string
cublasStatus_t h_cublasGetVersion(void *f, cublasHandle_t h, int *v);
cublasStatus_t h_cublasCreate(void *f, cublasHandle_t *h);
cublasStatus_t h_cublasDestroy(void *f, cublasHandle_t h);
cublasStatus_t h_cublasSetStream(void *f, cublasHandle_t h, CUstream s);
cublasStatus_t h_cublasSetInt(void *f, cublasHandle_t h, int v); // math, atomics or pointer mode
cublasStatus_t h_cublasGemmStridedBatchedEx(void *f, cublasHandle_t h, int ta, int tb, int m, int n, int k,
                                            const float *alpha, CUdeviceptr a, int lda, long long sa,
                                            CUdeviceptr b, int ldb, long long sb, const float *beta,
                                            CUdeviceptr c, int ldc, long long sc, int batch, int compute);

#endif
