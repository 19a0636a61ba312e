// fakecuda.c: a fake driver API, NVRTC and cuBLAS for the loader's tests,
// built by them as libcuda.so.1, libnvrtc.so.13, libcublasLt.so.13 and
// libcublas.so.13. The environment steers it:
//   FAKE_CUDA_VERSION  what cuDriverGetVersion says (default 13000)
//   FAKE_CUDA_INIT     what cuInit returns (default 0)
//   FAKE_CUDA_DEVICES  how many devices there are (default 1)
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env(const char *name, int def) {
  const char *v = getenv(name);
  return v ? atoi(v) : def;
}

int cuDriverGetVersion(int *v) { *v = env("FAKE_CUDA_VERSION", 13000); return 0; }
int cuInit(unsigned flags) { return env("FAKE_CUDA_INIT", 0); }
int cuGetErrorName(int r, const char **s) {
  *s = r == 100 ? "CUDA_ERROR_NO_DEVICE" : r == 2 ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
int cuGetErrorString(int r, const char **s) {
  *s = r == 100 ? "no CUDA-capable device is detected" : r == 2 ? "out of memory" : "unknown error";
  return 0;
}
// Resolves the plain names to this library's symbols, the versioned ones
// where the real driver has them.
int cuGetProcAddress_v2(const char *name, void **p, int version, unsigned long long flags, int *status) {
  static const char *v2[] = {"cuDeviceTotalMem", "cuDeviceGetUuid", "cuDevicePrimaryCtxRelease", "cuMemGetInfo",
                             "cuMemAlloc", "cuMemFree", "cuMemcpyHtoD", "cuMemcpyDtoH", "cuMemcpyHtoDAsync",
                             "cuMemcpyDtoHAsync", "cuStreamDestroy", "cuStreamBeginCapture", NULL};
  char sym[128];
  snprintf(sym, sizeof sym, "%s", name);
  for (int i = 0; v2[i]; i++)
    if (!strcmp(name, v2[i])) snprintf(sym, sizeof sym, "%s_v2", name);
  Dl_info self; // this library, not whatever else the process loaded
  dladdr((void *)cuInit, &self);
  void *lib = dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD);
  *p = lib ? dlsym(lib, sym) : NULL;
  *status = *p ? 0 : 1;
  return 0;
}
int cuDeviceGetCount(int *n) { *n = env("FAKE_CUDA_DEVICES", 1); return 0; }
int cuDeviceGet(int *d, int i) { *d = i; return i < env("FAKE_CUDA_DEVICES", 1) ? 0 : 101; }
int cuDeviceGetName(char *name, int len, int d) { snprintf(name, len, "Fake GPU %d", d); return 0; }
int cuDeviceGetAttribute(int *v, int attr, int d) { *v = attr == 75 ? 9 : 0; return 0; }
int cuDeviceTotalMem_v2(size_t *b, int d) { *b = (size_t)80 << 30; return 0; }
int cuDeviceGetUuid_v2(char *u, int d) { for (int i = 0; i < 16; i++) u[i] = (char)(d * 16 + i); return 0; }
int cuDevicePrimaryCtxRetain(void **c, int d) { *c = (void *)(long)(d + 1); return 0; }
int cuDevicePrimaryCtxRelease_v2(int d) { return 0; }
int cuCtxSetCurrent(void *c) { return 0; }
int cuMemGetInfo_v2(size_t *f, size_t *t) { *f = (size_t)70 << 30; *t = (size_t)80 << 30; return 0; }
int cuMemAlloc_v2(unsigned long long *p, size_t n) { if (n > ((size_t)80 << 30)) return 2; *p = (unsigned long long)malloc(n); return 0; }
int cuMemFree_v2(unsigned long long p) { free((void *)p); return 0; }
int cuMemHostAlloc(void **p, size_t n, unsigned f) { *p = malloc(n); return 0; }
int cuMemFreeHost(void *p) { free(p); return 0; }
int cuMemcpyHtoD_v2(unsigned long long d, const void *s, size_t n) { memcpy((void *)d, s, n); return 0; }
int cuMemcpyDtoH_v2(void *d, unsigned long long s, size_t n) { memcpy(d, (void *)s, n); return 0; }
int cuMemcpyHtoDAsync_v2(unsigned long long d, const void *s, size_t n, void *st) { memcpy((void *)d, s, n); return 0; }
int cuMemcpyDtoHAsync_v2(void *d, unsigned long long s, size_t n, void *st) { memcpy(d, (void *)s, n); return 0; }
int cuStreamCreate(void **s, unsigned f) { *s = (void *)1; return 0; }
int cuStreamDestroy_v2(void *s) { return 0; }
int cuStreamSynchronize(void *s) { return 0; }
// Only an image starting "FAKECUBIN" loads; anything else is
// CUDA_ERROR_INVALID_IMAGE (200).
int cuModuleLoadData(void **m, const void *img) {
  if (strncmp(img, "FAKECUBIN", 9)) return 200;
  *m = (void *)1;
  return 0;
}
int cuModuleUnload(void *m) { return 0; }
// The module holds one kernel, saxpy; others are CUDA_ERROR_NOT_FOUND (500).
int cuModuleGetFunction(void **f, void *m, const char *n) {
  if (strcmp(n, "saxpy")) return 500;
  *f = (void *)2;
  return 0;
}
// Runs saxpy(float a, float *x, float *y, int n) on the host, so that the
// tests see the arguments arrive; a grid or block of 0 is
// CUDA_ERROR_INVALID_VALUE (1).
int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, unsigned sh,
                   void *s, void **args, void **extra) {
  if (!gx || !gy || !gz || !bx || !by || !bz || extra) return 1;
  float a = *(float *)args[0];
  float *x = *(float **)args[1], *y = *(float **)args[2];
  int n = *(int *)args[3];
  for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
  return 0;
}
int cuStreamBeginCapture_v2(void *s, int mode) { return 0; }
int cuStreamEndCapture(void *s, void **g) { return 0; }
int cuGraphInstantiateWithFlags(void **e, void *g, unsigned long long f) { return 0; }
int cuGraphLaunch(void *e, void *s) { return 0; }
int cuGraphExecDestroy(void *e) { return 0; }
int cuGraphDestroy(void *g) { return 0; }

const char *nvrtcGetErrorString(int r) { return "NVRTC_ERROR_COMPILATION"; }
int nvrtcVersion(int *major, int *minor) { *major = 13; *minor = 0; return 0; }
int nvrtcGetNumSupportedArchs(int *n) { *n = 2; return 0; }
int nvrtcGetSupportedArchs(int *a) { a[0] = 80; a[1] = 90; return 0; }
int nvrtcCreateProgram(void **p, const char *src, const char *name, int n, const char *const *h, const char *const *i) { return 0; }
int nvrtcDestroyProgram(void **p) { return 0; }
int nvrtcCompileProgram(void *p, int n, const char *const *opts) { return 6; }
int nvrtcGetProgramLogSize(void *p, size_t *n) { *n = 12; return 0; }
int nvrtcGetProgramLog(void *p, char *out) { strcpy(out, "fake: error"); return 0; }
int nvrtcGetCUBINSize(void *p, size_t *n) { *n = 0; return 0; }
int nvrtcGetCUBIN(void *p, char *out) { return 0; }

int cublasGetVersion_v2(void *h, int *v) { *v = 130000; return 0; }
int cublasCreate_v2(void **h) { *h = (void *)1; return 0; }
int cublasDestroy_v2(void *h) { return 0; }
int cublasSetStream_v2(void *h, void *s) { return 0; }
int cublasSetMathMode(void *h, int m) { return 0; }
int cublasSetAtomicsMode(void *h, int m) { return 0; }
int cublasSetPointerMode_v2(void *h, int m) { return 0; }
int cublasGemmStridedBatchedEx() { return 7; } // CUBLAS_STATUS_INVALID_VALUE
const char *cublasGetStatusName(int s) { return "CUBLAS_STATUS_INVALID_VALUE"; }
const char *cublasGetStatusString(int s) { return "an invalid numeric value was used as an argument"; }
