/*
 * LD_PRELOAD shim for profiling the user-space cost of cases 1 and 2 on a
 * machine without dma-buf devices (bench/profile/profile.sh).
 *
 * At load it creates a memfd (4 KiB, or DMABUF_FAKE_SIZE bytes) named "dmabuf-bench-fake" and, unless
 * DMABUF_BENCH_FD is set already, exports DMABUF_BENCH_FD=<its fd>. Then:
 *  - fstatfs()/fstatfs64() of that memfd report the dma-buf file system's
 *    magic, so the library accepts it as a dma-buf;
 *  - ioctl() makes the real system call (the memfd answers ENOTTY, so the
 *    kernel entry and exit are still paid) and then, for
 *    DMA_BUF_IOCTL_SYNC, reports success; for
 *    DMA_BUF_IOCTL_EXPORT_SYNC_FILE it returns a signalled eventfd as the
 *    "sync_file" (poll() sees it readable, close() closes it).
 * Everything else passes through. User-space work is therefore exactly what
 * it is on a real dma-buf; only the kernel's share differs.
 *
 * Build: cc -O2 -shared -fPIC -o fake_dmabuf.so fake_dmabuf.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/dma-buf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#define DMA_BUF_MAGIC 0x444d4142
#define NAME "dmabuf-bench-fake"

static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_fstatfs)(int, struct statfs *);
static int (*real_fstatfs64)(int, struct statfs64 *);

__attribute__((constructor)) static void init(void) {
    real_ioctl = dlsym(RTLD_NEXT, "ioctl");
    real_fstatfs = dlsym(RTLD_NEXT, "fstatfs");
    real_fstatfs64 = dlsym(RTLD_NEXT, "fstatfs64");
    if (getenv("DMABUF_BENCH_FD"))
        return;
    int fd = memfd_create(NAME, 0); /* inherited by children on purpose */
    if (fd < 0 || ftruncate(fd, getenv("DMABUF_FAKE_SIZE") ? strtoll(getenv("DMABUF_FAKE_SIZE"), NULL, 0) : 4096) != 0)
        return;
    char num[16];
    snprintf(num, sizeof num, "%d", fd);
    setenv("DMABUF_BENCH_FD", num, 1);
}

static int is_fake(int fd) {
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0)
        return 0;
    link[n] = 0;
    return strncmp(link, "/memfd:" NAME, strlen("/memfd:" NAME)) == 0;
}

int fstatfs(int fd, struct statfs *st) {
    int r = real_fstatfs(fd, st);
    if (r == 0 && is_fake(fd))
        st->f_type = DMA_BUF_MAGIC;
    return r;
}

int fstatfs64(int fd, struct statfs64 *st) {
    int r = real_fstatfs64(fd, st);
    if (r == 0 && is_fake(fd))
        st->f_type = DMA_BUF_MAGIC;
    return r;
}

int ioctl(int fd, unsigned long req, ...) {
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int r = real_ioctl(fd, req, arg);
    if (r < 0 && errno == ENOTTY) {
        if (req == DMA_BUF_IOCTL_SYNC) {
            errno = 0;
            return 0;
        }
        if (req == DMA_BUF_IOCTL_EXPORT_SYNC_FILE) {
            int e = eventfd(1, EFD_CLOEXEC);
            if (e < 0)
                return -1;
            ((struct dma_buf_export_sync_file *)arg)->fd = e;
            errno = 0;
            return 0;
        }
    }
    return r;
}
