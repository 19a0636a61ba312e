// A fake libnvidia-ml.so.1 with two GPUs, for nvml_test.go; with
// FAKE_NVML_INIT set, nvmlInit_v2 returns that error code.
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

typedef struct { unsigned long long total, free, used; } nvmlMemory_t;

int nvmlInit_v2(void) { const char *e = getenv("FAKE_NVML_INIT"); return e ? atoi(e) : 0; }
int nvmlShutdown(void) { return 0; }
const char *nvmlErrorString(int r) { return r == 9 ? "Driver Not Loaded" : "Unknown Error"; }
int nvmlSystemGetDriverVersion(char *s, unsigned n) { snprintf(s, n, "580.159.04"); return 0; }
int nvmlDeviceGetCount_v2(unsigned *n) { *n = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void **d) { *d = (void *)(size_t)(i + 1); return 0; }
int nvmlDeviceGetName(void *d, char *s, unsigned n) { snprintf(s, n, "NVIDIA H200 #%d", (int)(size_t)d); return 0; }
int nvmlDeviceGetUUID(void *d, char *s, unsigned n) { snprintf(s, n, "GPU-%04d", (int)(size_t)d); return 0; }
int nvmlDeviceGetMemoryInfo(void *d, nvmlMemory_t *m) { m->total = (unsigned long long)(size_t)d << 30; m->free = m->used = 0; return 0; }
