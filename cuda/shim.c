// shim.c: trampolines. Each calls the entry point f, resolved at run time,
// with the arguments given; nothing else happens here.
#include <dlfcn.h>

#include "shim.h"

void *h_dlopen(const char *path, int global) { return dlopen(path, RTLD_NOW | (global ? RTLD_GLOBAL : RTLD_LOCAL)); }
const char *h_dlerror(void) { return dlerror(); }
void *h_dlsym(void *lib, const char *name) { return dlsym(lib, name); }

// F casts f to a function returning R with the argument types given.
#define F(R, ...) ((R(*)(__VA_ARGS__))f)

CUresult h_cuInit(void *f, unsigned flags) { return F(CUresult, unsigned)(flags); }
CUresult h_cuDriverGetVersion(void *f, int *v) { return F(CUresult, int *)(v); }
CUresult h_cuGetErrorText(void *f, CUresult r, const char **s) { return F(CUresult, CUresult, const char **)(r, s); }
CUresult h_cuGetProcAddress(void *f, const char *name, void **p, int version, unsigned long long flags, int *status) {
  return F(CUresult, const char *, void **, int, unsigned long long, int *)(name, p, version, flags, status);
}
CUresult h_cuDeviceGetCount(void *f, int *n) { return F(CUresult, int *)(n); }
CUresult h_cuDeviceGet(void *f, CUdevice *d, int ordinal) { return F(CUresult, CUdevice *, int)(d, ordinal); }
CUresult h_cuDeviceGetName(void *f, char *name, int len, CUdevice d) { return F(CUresult, char *, int, CUdevice)(name, len, d); }
CUresult h_cuDeviceGetAttribute(void *f, int *v, int attr, CUdevice d) { return F(CUresult, int *, int, CUdevice)(v, attr, d); }
CUresult h_cuDeviceTotalMem(void *f, size_t *bytes, CUdevice d) { return F(CUresult, size_t *, CUdevice)(bytes, d); }
CUresult h_cuDeviceGetUuid(void *f, char *uuid16, CUdevice d) { return F(CUresult, char *, CUdevice)(uuid16, d); }
CUresult h_cuDevicePrimaryCtxRetain(void *f, CUcontext *c, CUdevice d) { return F(CUresult, CUcontext *, CUdevice)(c, d); }
CUresult h_cuDevicePrimaryCtxRelease(void *f, CUdevice d) { return F(CUresult, CUdevice)(d); }
CUresult h_cuCtxSetCurrent(void *f, CUcontext c) { return F(CUresult, CUcontext)(c); }
CUresult h_cuMemGetInfo(void *f, size_t *free, size_t *total) { return F(CUresult, size_t *, size_t *)(free, total); }
CUresult h_cuMemAlloc(void *f, CUdeviceptr *p, size_t bytes) { return F(CUresult, CUdeviceptr *, size_t)(p, bytes); }
CUresult h_cuMemFree(void *f, CUdeviceptr p) { return F(CUresult, CUdeviceptr)(p); }
CUresult h_cuMemHostAlloc(void *f, void **p, size_t bytes, unsigned flags) { return F(CUresult, void **, size_t, unsigned)(p, bytes, flags); }
CUresult h_cuMemFreeHost(void *f, void *p) { return F(CUresult, void *)(p); }
CUresult h_cuMemcpyHtoD(void *f, CUdeviceptr dst, const void *src, size_t bytes) {
  return F(CUresult, CUdeviceptr, const void *, size_t)(dst, src, bytes);
}
CUresult h_cuMemcpyDtoH(void *f, void *dst, CUdeviceptr src, size_t bytes) {
  return F(CUresult, void *, CUdeviceptr, size_t)(dst, src, bytes);
}
CUresult h_cuMemcpyHtoDAsync(void *f, CUdeviceptr dst, const void *src, size_t bytes, CUstream s) {
  return F(CUresult, CUdeviceptr, const void *, size_t, CUstream)(dst, src, bytes, s);
}
CUresult h_cuMemcpyDtoHAsync(void *f, void *dst, CUdeviceptr src, size_t bytes, CUstream s) {
  return F(CUresult, void *, CUdeviceptr, size_t, CUstream)(dst, src, bytes, s);
}
CUresult h_cuStreamCreate(void *f, CUstream *s, unsigned flags) { return F(CUresult, CUstream *, unsigned)(s, flags); }
CUresult h_cuStreamDestroy(void *f, CUstream s) { return F(CUresult, CUstream)(s); }
CUresult h_cuStreamSynchronize(void *f, CUstream s) { return F(CUresult, CUstream)(s); }
CUresult h_cuModuleLoadData(void *f, CUmodule *m, const void *image) { return F(CUresult, CUmodule *, const void *)(m, image); }
CUresult h_cuModuleUnload(void *f, CUmodule m) { return F(CUresult, CUmodule)(m); }
CUresult h_cuModuleGetFunction(void *f, CUfunction *fn, CUmodule m, const char *name) {
  return F(CUresult, CUfunction *, CUmodule, const char *)(fn, m, name);
}
CUresult h_cuLaunchKernel(void *f, CUfunction fn, unsigned gx, unsigned gy, unsigned gz,
                          unsigned bx, unsigned by, unsigned bz, unsigned shmem, CUstream s, void **args) {
  return F(CUresult, CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream, void **,
           void **)(fn, gx, gy, gz, bx, by, bz, shmem, s, args, NULL);
}
CUresult h_cuStreamBeginCapture(void *f, CUstream s, int mode) { return F(CUresult, CUstream, int)(s, mode); }
CUresult h_cuStreamEndCapture(void *f, CUstream s, CUgraph *g) { return F(CUresult, CUstream, CUgraph *)(s, g); }
CUresult h_cuGraphInstantiate(void *f, CUgraphExec *e, CUgraph g, unsigned long long flags) {
  return F(CUresult, CUgraphExec *, CUgraph, unsigned long long)(e, g, flags);
}
CUresult h_cuGraphLaunch(void *f, CUgraphExec e, CUstream s) { return F(CUresult, CUgraphExec, CUstream)(e, s); }
CUresult h_cuGraphExecDestroy(void *f, CUgraphExec e) { return F(CUresult, CUgraphExec)(e); }
CUresult h_cuGraphDestroy(void *f, CUgraph g) { return F(CUresult, CUgraph)(g); }

const char *h_nvrtcGetErrorString(void *f, nvrtcResult r) { return F(const char *, nvrtcResult)(r); }
nvrtcResult h_nvrtcVersion(void *f, int *major, int *minor) { return F(nvrtcResult, int *, int *)(major, minor); }
nvrtcResult h_nvrtcGetNumSupportedArchs(void *f, int *n) { return F(nvrtcResult, int *)(n); }
nvrtcResult h_nvrtcGetSupportedArchs(void *f, int *archs) { return F(nvrtcResult, int *)(archs); }
nvrtcResult h_nvrtcCreateProgram(void *f, nvrtcProgram *p, const char *src, const char *name) {
  return F(nvrtcResult, nvrtcProgram *, const char *, const char *, int, const char *const *, const char *const *)(
      p, src, name, 0, NULL, NULL);
}
nvrtcResult h_nvrtcDestroyProgram(void *f, nvrtcProgram *p) { return F(nvrtcResult, nvrtcProgram *)(p); }
nvrtcResult h_nvrtcCompileProgram(void *f, nvrtcProgram p, int n, const char *const *opts) {
  return F(nvrtcResult, nvrtcProgram, int, const char *const *)(p, n, opts);
}
nvrtcResult h_nvrtcGetSize(void *f, nvrtcProgram p, size_t *n) { return F(nvrtcResult, nvrtcProgram, size_t *)(p, n); }
nvrtcResult h_nvrtcGetBytes(void *f, nvrtcProgram p, char *out) { return F(nvrtcResult, nvrtcProgram, char *)(p, out); }

const char *h_cublasGetStatusText(void *f, cublasStatus_t s) { return F(const char *, cublasStatus_t)(s); }
cublasStatus_t h_cublasGetVersion(void *f, cublasHandle_t h, int *v) { return F(cublasStatus_t, cublasHandle_t, int *)(h, v); }
cublasStatus_t h_cublasCreate(void *f, cublasHandle_t *h) { return F(cublasStatus_t, cublasHandle_t *)(h); }
cublasStatus_t h_cublasDestroy(void *f, cublasHandle_t h) { return F(cublasStatus_t, cublasHandle_t)(h); }
cublasStatus_t h_cublasSetStream(void *f, cublasHandle_t h, CUstream s) { return F(cublasStatus_t, cublasHandle_t, CUstream)(h, s); }
cublasStatus_t h_cublasSetInt(void *f, cublasHandle_t h, int v) { return F(cublasStatus_t, cublasHandle_t, int)(h, v); }
cublasStatus_t h_cublasGemmStridedBatchedEx(void *f, cublasHandle_t h, int ta, int tb, int m, int n, int k,
                                            const float *alpha, CUdeviceptr a, int lda, long long sa,
                                            CUdeviceptr b, int ldb, long long sb, const float *beta,
                                            CUdeviceptr c, int ldc, long long sc, int batch, int compute) {
  // A, B and C are single precision (CUDA_R_32F = 0); the algorithm is
  // cuBLAS's default (CUBLAS_GEMM_DEFAULT = -1).
  return F(cublasStatus_t, cublasHandle_t, int, int, int, int, int, const void *, const void *, int, int, long long,
           const void *, int, int, long long, const void *, void *, int, int, long long, int, int, int)(
      h, ta, tb, m, n, k, alpha, (const void *)a, 0, lda, sa, (const void *)b, 0, ldb, sb, beta, (void *)c, 0, ldc, sc,
      batch, compute, -1);
}
