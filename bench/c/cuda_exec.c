/*
 * cuda_exec: lends a real GPU dma-buf to a command.
 *
 *   cuda_exec [--size BYTES] [--probe] -- CMD [ARGS...]
 *
 * dlopen()s libcuda.so.1 (no CUDA headers or toolkit needed: the few driver
 * API prototypes are declared below), allocates device memory (default
 * 2 MiB, rounded up to the 2 MiB granularity), exports it as a dma-buf with
 * cuMemGetHandleForAddressRange(CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD) (the
 * NVIDIA driver's exporter, exp_name nv_dmabuf), clears the fd's
 * close-on-exec flag, sets DMABUF_BENCH_FD=<fd> and DMABUF_BENCH_EXPORTER,
 * runs CMD, waits for it and exits with its status.
 *
 * Exit 77 (with a message) when there is no libcuda.so.1, no CUDA device, or
 * the driver cannot export dma-bufs: callers treat that as "skip".
 * --probe: do all of that but run nothing (exit 0 when the export works).
 *
 * Build: cc -O2 -o cuda_exec cuda_exec.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int CUresult; /* CUDA_SUCCESS == 0 */
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef unsigned long long CUdeviceptr; /* 64-bit builds */

#define CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED 124
#define CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD 1
#define GRANULARITY (2u << 20)
#define SKIP 77

static CUresult (*cuInit)(unsigned int);
static CUresult (*cuDeviceGet)(CUdevice *, int);
static CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
static CUresult (*cuCtxCreate)(CUcontext *, unsigned int, CUdevice);
static CUresult (*cuCtxDestroy)(CUcontext);
static CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
static CUresult (*cuMemFree)(CUdeviceptr);
static CUresult (*cuMemGetHandleForAddressRange)(void *, CUdeviceptr, size_t, int, unsigned long long);
static CUresult (*cuGetErrorString)(CUresult, const char **);

static const char *cu_err(CUresult r) {
    const char *s = NULL;
    if (cuGetErrorString && cuGetErrorString(r, &s) == 0 && s)
        return s;
    return "unknown CUDA error";
}

#define CU(call, code)                                                                          \
    do {                                                                                        \
        CUresult r_ = (call);                                                                   \
        if (r_ != 0) {                                                                          \
            fprintf(stderr, "cuda_exec: %s failed: %d (%s)\n", #call, r_, cu_err(r_));         \
            return (code);                                                                      \
        }                                                                                       \
    } while (0)

static int load(void) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "cuda_exec: no CUDA driver here (dlopen libcuda.so.1: %s)\n", dlerror());
        return SKIP;
    }
    struct { void *slot; const char *name; int needed; } syms[] = {
        { &cuInit, "cuInit", 1 },
        { &cuDeviceGet, "cuDeviceGet", 1 },
        { &cuDeviceGetAttribute, "cuDeviceGetAttribute", 1 },
        { &cuCtxCreate, "cuCtxCreate_v2", 1 },
        { &cuCtxDestroy, "cuCtxDestroy_v2", 1 },
        { &cuMemAlloc, "cuMemAlloc_v2", 1 },
        { &cuMemFree, "cuMemFree_v2", 1 },
        { &cuMemGetHandleForAddressRange, "cuMemGetHandleForAddressRange", 1 },
        { &cuGetErrorString, "cuGetErrorString", 0 },
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(lib, syms[i].name);
        if (!f && syms[i].needed) {
            fprintf(stderr, "cuda_exec: libcuda.so.1 has no %s (driver too old for dma-buf export?)\n", syms[i].name);
            return SKIP;
        }
        memcpy(syms[i].slot, &f, sizeof f);
    }
    return 0;
}

static void exporter_name(int fd, char *out, size_t len) {
    char path[64], line[256];
    snprintf(out, len, "unknown");
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "exp_name:", 9)) {
            char *v = line + 9;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = 0;
            snprintf(out, len, "%s", v);
        }
    }
    fclose(f);
}

int main(int argc, char **argv) {
    size_t size = GRANULARITY;
    int probe = 0, cmd = -1;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--")) { cmd = a + 1; break; }
        else if (!strcmp(argv[a], "--probe")) probe = 1;
        else if (!strcmp(argv[a], "--size") && a + 1 < argc) size = strtoull(argv[++a], NULL, 0);
        else { fprintf(stderr, "usage: cuda_exec [--size BYTES] [--probe] -- CMD [ARGS...]\n"); return 2; }
    }
    if (!probe && (cmd < 0 || cmd >= argc)) {
        fprintf(stderr, "usage: cuda_exec [--size BYTES] [--probe] -- CMD [ARGS...]\n");
        return 2;
    }
    size = (size + GRANULARITY - 1) / GRANULARITY * GRANULARITY;

    int rc = load();
    if (rc)
        return rc;
    CU(cuInit(0), SKIP);
    CUdevice dev;
    CU(cuDeviceGet(&dev, 0), SKIP);
    int dmabuf_ok = 0;
    CU(cuDeviceGetAttribute(&dmabuf_ok, CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED, dev), SKIP);
    if (!dmabuf_ok) {
        fprintf(stderr, "cuda_exec: device 0 does not support dma-buf export (CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED = 0)\n");
        return SKIP;
    }
    CUcontext ctx;
    CU(cuCtxCreate(&ctx, 0, dev), 1);
    CUdeviceptr ptr;
    CU(cuMemAlloc(&ptr, size), 1);
    int fd = -1;
    CU(cuMemGetHandleForAddressRange(&fd, ptr, size, CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD, 0), SKIP);
    /* The child gets the fd: clear close-on-exec. */
    if (fcntl(fd, F_SETFD, 0) != 0) {
        fprintf(stderr, "cuda_exec: fcntl(F_SETFD): %s\n", strerror(errno));
        return 1;
    }
    char exp[64], num[16];
    exporter_name(fd, exp, sizeof exp);
    fprintf(stderr, "cuda_exec: %zu bytes of device memory as dma-buf fd %d (exp_name %s)\n", size, fd, exp);

    int status = 0;
    if (!probe) {
        snprintf(num, sizeof num, "%d", fd);
        setenv("DMABUF_BENCH_FD", num, 1);
        setenv("DMABUF_BENCH_EXPORTER", exp, 1);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "cuda_exec: fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0) {
            execvp(argv[cmd], argv + cmd);
            fprintf(stderr, "cuda_exec: exec %s: %s\n", argv[cmd], strerror(errno));
            _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                fprintf(stderr, "cuda_exec: waitpid: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    close(fd);
    cuMemFree(ptr);
    cuCtxDestroy(ctx);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}
