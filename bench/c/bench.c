/*
 * The C contender of `npm run bench`: raw ioctls and mmap, nothing else.
 * It is the floor the Rust core and the JavaScript binding are measured
 * against.
 *
 *   bench-c CASE [--size N] [--source udmabuf|heap] [--time-ms T] [--warmup-ms W]
 *
 * CASE: sync    DMA_BUF_IOCTL_SYNC start+end (read-write), one pair per op
 *       export  DMA_BUF_IOCTL_EXPORT_SYNC_FILE + close
 *       map     mmap + munmap of the whole buffer
 *       read    sum every byte of a mapping of the whole buffer (MiB/s)
 *       alloc   allocate + close a buffer of --size from --source
 *       rw      mmap, write every byte under SYNC write, sum them under
 *               SYNC read, munmap
 *
 * The buffer comes from the environment (DMABUF_BENCH_FD=<fd>, borrowed:
 * `npm run bench` and cuda_exec pass one) or is allocated here from
 * --source. Prints one JSON object on stdout; exit 3 with
 * {"unavailable": reason} when the case cannot run on this buffer (mmap of
 * CUDA memory), exit 1 on any other failure, including a failed check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef DMA_BUF_IOCTL_EXPORT_SYNC_FILE /* uapi headers older than Linux 6.0 */
struct dma_buf_export_sync_file { __u32 flags; __s32 fd; };
#define DMA_BUF_IOCTL_EXPORT_SYNC_FILE _IOWR(DMA_BUF_BASE, 2, struct dma_buf_export_sync_file)
#endif
#ifndef F_SEAL_SHRINK
#define F_ADD_SEALS 1033
#define F_SEAL_SHRINK 0x0002
#endif

static const char *case_name = "?";

static void die(const char *fmt, ...) {
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "bench-c %s: %s\n", case_name, msg);
    exit(1);
}

static void unavailable(const char *reason) {
    printf("{\"contender\":\"C\",\"case\":\"%s\",\"unavailable\":\"%s\"}\n", case_name, reason);
    exit(3);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the measured operations --------------------------------------- */

struct ctx {
    int fd;          /* the dma-buf (sync, export, map, read, rw) */
    int dev;         /* heap or /dev/udmabuf (alloc) */
    int heap;        /* alloc from a heap (1) or udmabuf (0) */
    size_t size;
    uint8_t *map;    /* read, copy: the mapping, made once */
    uint8_t *dst;    /* copy: ordinary memory the mapping is copied into */
    uint64_t expect; /* read: the sum every pass must give */
    uint64_t sink;   /* results folded in, printed, so nothing is dead code */
};

static void sync_flags(int fd, uint64_t flags) {
    struct dma_buf_sync s = { .flags = flags };
    if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) != 0)
        die("DMA_BUF_IOCTL_SYNC(%#" PRIx64 "): %s", flags, strerror(errno));
}

static void op_sync(struct ctx *c, uint64_t i) {
    (void)i;
    sync_flags(c->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW);
    sync_flags(c->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW);
}

static int export_one(int fd) {
    struct dma_buf_export_sync_file e = { .flags = DMA_BUF_SYNC_RW, .fd = -1 };
    if (ioctl(fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &e) != 0)
        die("DMA_BUF_IOCTL_EXPORT_SYNC_FILE: %s", strerror(errno));
    return e.fd;
}

static void op_export(struct ctx *c, uint64_t i) {
    (void)i;
    int f = export_one(c->fd);
    c->sink += (uint64_t)f;
    close(f);
}

static void op_map(struct ctx *c, uint64_t i) {
    (void)i;
    void *p = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (p == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    c->sink += (uintptr_t)p & 0xfff; /* 0: page-aligned; keeps p live */
    if (munmap(p, c->size) != 0)
        die("munmap: %s", strerror(errno));
}

static uint64_t sum_bytes(const uint8_t *p, size_t n) {
    uint64_t s = 0;
    for (size_t k = 0; k < n; k++)
        s += p[k];
    return s;
}

static void op_read(struct ctx *c, uint64_t i) {
    (void)i;
    sync_flags(c->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    uint64_t s = sum_bytes(c->map, c->size);
    sync_flags(c->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    if (s != c->expect)
        die("read back sum %" PRIu64 ", expected %" PRIu64, s, c->expect);
    c->sink += s;
}

/* Case 4a: copy the whole mapping into ordinary memory (what
 * `dst.set(new Uint8Array(mapping.buffer))` does in JavaScript). */
static void op_copy(struct ctx *c, uint64_t i) {
    sync_flags(c->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    memcpy(c->dst, c->map, c->size);
    sync_flags(c->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    size_t k = (size_t)(i * 4099u) % c->size;
    if (c->dst[k] != (uint8_t)k)
        die("copied byte %zu is %u, expected %u", k, c->dst[k], (uint8_t)k);
    c->sink += c->dst[k];
}

static int alloc_heap(int heap, size_t size) {
    struct dma_heap_allocation_data d = { .len = size, .fd_flags = O_RDWR | O_CLOEXEC };
    if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &d) != 0)
        die("DMA_HEAP_IOCTL_ALLOC(%zu): %s", size, strerror(errno));
    return (int)d.fd;
}

static int alloc_udmabuf(int dev, size_t size) {
    int memfd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0)
        die("memfd_create: %s", strerror(errno));
    if (ftruncate(memfd, (off_t)size) != 0)
        die("ftruncate: %s", strerror(errno));
    if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)
        die("F_ADD_SEALS: %s", strerror(errno));
    struct udmabuf_create u = { .memfd = (__u32)memfd, .flags = UDMABUF_FLAGS_CLOEXEC, .offset = 0, .size = size };
    int fd = ioctl(dev, UDMABUF_CREATE, &u);
    if (fd < 0)
        die("UDMABUF_CREATE(%zu): %s", size, strerror(errno));
    close(memfd);
    return fd;
}

static void op_alloc(struct ctx *c, uint64_t i) {
    (void)i;
    int fd = c->heap ? alloc_heap(c->dev, c->size) : alloc_udmabuf(c->dev, c->size);
    c->sink += (uint64_t)fd;
    close(fd);
}

static void op_rw(struct ctx *c, uint64_t i) {
    uint8_t v = (uint8_t)(i * 7 + 1);
    uint8_t *p = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
    if (p == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    sync_flags(c->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
    memset(p, v, c->size);
    sync_flags(c->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
    sync_flags(c->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    uint64_t s = sum_bytes(p, c->size);
    sync_flags(c->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
    if (munmap(p, c->size) != 0)
        die("munmap: %s", strerror(errno));
    if (s != (uint64_t)v * c->size)
        die("read back sum %" PRIu64 ", expected %" PRIu64, s, (uint64_t)v * c->size);
    c->sink += s;
}

/* ---- timing: the same scheme in every contender --------------------- */
/* Warm up for warmup_ms; pick a batch of K ops lasting >= BATCH_NS (K = 1
 * for throughput cases); then time batches until time_ms has passed (at
 * least MIN_SAMPLES, at most MAX_SAMPLES). One sample = batch time / K. */
#define BATCH_NS 5000000ull
#define MIN_SAMPLES 5
#define MAX_SAMPLES 2000

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *s, int n, double q) {
    double pos = q * (n - 1);
    int lo = (int)pos;
    int hi = lo + 1 < n ? lo + 1 : lo;
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

int main(int argc, char **argv) {
    if (argc < 2)
        die("usage: bench-c sync|export|map|read|copy|alloc|rw [--size N] [--source udmabuf|heap] [--time-ms T] [--warmup-ms W]");
    case_name = argv[1];
    size_t size = 4096;
    const char *source = "udmabuf";
    uint64_t time_ms = 2000, warmup_ms = 300;
    for (int a = 2; a + 1 < argc; a += 2) {
        if (!strcmp(argv[a], "--size")) size = strtoull(argv[a + 1], NULL, 0);
        else if (!strcmp(argv[a], "--source")) source = argv[a + 1];
        else if (!strcmp(argv[a], "--time-ms")) time_ms = strtoull(argv[a + 1], NULL, 0);
        else if (!strcmp(argv[a], "--warmup-ms")) warmup_ms = strtoull(argv[a + 1], NULL, 0);
        else die("unknown option %s", argv[a]);
    }

    struct ctx c = { .fd = -1, .dev = -1, .size = size };
    void (*op)(struct ctx *, uint64_t) = NULL;
    int throughput = 0;
    char check[160] = "";

    if (!strcmp(case_name, "alloc")) {
        c.heap = !strcmp(source, "heap");
        const char *dev = c.heap ? "/dev/dma_heap/system" : "/dev/udmabuf";
        c.dev = open(dev, (c.heap ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (c.dev < 0)
            die("open %s: %s", dev, strerror(errno));
        op = op_alloc;
        int fd = c.heap ? alloc_heap(c.dev, size) : alloc_udmabuf(c.dev, size);
        off_t got = lseek(fd, 0, SEEK_END);
        if (got != (off_t)size)
            die("allocated %lld bytes, asked for %zu", (long long)got, size);
        close(fd);
        snprintf(check, sizeof check, "a %s buffer reports %zu bytes", source, size);
    } else {
        const char *env = getenv("DMABUF_BENCH_FD");
        if (env) {
            c.fd = atoi(env);
        } else if (!strcmp(source, "heap")) {
            int h = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
            if (h < 0)
                die("open /dev/dma_heap/system: %s", strerror(errno));
            c.fd = alloc_heap(h, size);
        } else {
            int d = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
            if (d < 0)
                die("open /dev/udmabuf: %s", strerror(errno));
            c.fd = alloc_udmabuf(d, size);
        }
        off_t got = lseek(c.fd, 0, SEEK_END);
        if (got < 0)
            die("lseek(DMABUF_BENCH_FD=%d): %s", c.fd, strerror(errno));
        c.size = size = (size_t)got;
    }

    if (!strcmp(case_name, "sync")) {
        op = op_sync;
        snprintf(check, sizeof check, "every DMA_BUF_IOCTL_SYNC returned 0");
    } else if (!strcmp(case_name, "export")) {
        op = op_export;
        int f = export_one(c.fd);
        struct pollfd p = { .fd = f, .events = POLLIN };
        int r = poll(&p, 1, 0);
        close(f);
        if (r != 1)
            die("the sync_file of an idle buffer is not signalled (poll gave %d)", r);
        snprintf(check, sizeof check, "exported sync_files are signalled (idle buffer)");
    } else if (!strcmp(case_name, "map") || !strcmp(case_name, "read") || !strcmp(case_name, "rw") || !strcmp(case_name, "copy")) {
        uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, 0);
        if (p == MAP_FAILED) {
            char why[128];
            snprintf(why, sizeof why, "this buffer cannot be mapped (mmap: %s)", strerror(errno));
            unavailable(why);
        }
        if (!strcmp(case_name, "map")) {
            /* Bytes written through one mapping are seen through the next. */
            sync_flags(c.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
            p[0] = 0x5a;
            p[size - 1] = 0xa5;
            sync_flags(c.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
            munmap(p, size);
            p = mmap(NULL, size, PROT_READ, MAP_SHARED, c.fd, 0);
            if (p == MAP_FAILED || p[0] != 0x5a || p[size - 1] != 0xa5)
                die("bytes written through one mapping were not read back through another");
            munmap(p, size);
            op = op_map;
            snprintf(check, sizeof check, "bytes written through one mapping read back through the next");
        } else if (!strcmp(case_name, "copy")) {
            sync_flags(c.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
            for (size_t k = 0; k < size; k++)
                p[k] = (uint8_t)k;
            sync_flags(c.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
            c.map = p;
            c.dst = malloc(size);
            if (!c.dst)
                die("malloc(%zu) failed", size);
            memset(c.dst, 0, size); /* fault the pages in before timing */
            op = op_copy;
            throughput = 1;
            snprintf(check, sizeof check, "every copy holds the pattern written through the mapping");
        } else if (!strcmp(case_name, "read")) {
            sync_flags(c.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
            for (size_t k = 0; k < size; k++)
                p[k] = (uint8_t)k;
            sync_flags(c.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
            c.map = p;
            c.expect = (uint64_t)(size / 256) * (255 * 256 / 2);
            for (size_t k = size / 256 * 256; k < size; k++)
                c.expect += (uint8_t)k;
            op = op_read;
            throughput = 1;
            snprintf(check, sizeof check, "every pass summed to %" PRIu64, c.expect);
        } else {
            munmap(p, size);
            op = op_rw;
            snprintf(check, sizeof check, "every pass read back the bytes it wrote");
        }
    } else if (op == NULL) {
        die("unknown case");
    }

    /* DMABUF_BENCH_ITERS=N (profiling): exactly N ops, as one sample, no warm-up. */
    const char *iters = getenv("DMABUF_BENCH_ITERS");
    uint64_t fixed = iters ? strtoull(iters, NULL, 0) : 0;
    /* warm-up */
    uint64_t i = 0, t0 = now_ns();
    if (!fixed)
        do op(&c, i++); while (now_ns() - t0 < warmup_ms * 1000000u);
    /* batch size */
    uint64_t k = fixed ? fixed : 1;
    if (!throughput && !fixed) {
        /* From the fastest time per op seen, so that one slow batch
         * (preemption, a page fault storm) does not leave K too small. */
        double fastest = 1e30;
        for (;;) {
            uint64_t s = now_ns();
            for (uint64_t j = 0; j < k; j++) op(&c, i++);
            double per = (double)(now_ns() - s) / (double)k;
            if (per < fastest) fastest = per;
            if (fastest * (double)k >= (double)BATCH_NS || k >= (1u << 24)) break;
            k *= 2;
        }
    }
    static double samples[MAX_SAMPLES];
    int n = 0;
    uint64_t start = now_ns();
    while (n < MAX_SAMPLES && (fixed ? n < 1 : (n < MIN_SAMPLES || now_ns() - start < time_ms * 1000000u))) {
        uint64_t s = now_ns();
        for (uint64_t j = 0; j < k; j++) op(&c, i++);
        double ns = (double)(now_ns() - s) / (double)k;
        samples[n++] = throughput ? (double)size / (1024.0 * 1024.0) / (ns / 1e9) : ns;
    }
    qsort(samples, (size_t)n, sizeof samples[0], cmp_double);
    printf("{\"contender\":\"C\",\"case\":\"%s\",\"size\":%zu,\"unit\":\"%s\",\"median\":%.6g,\"p10\":%.6g,\"p90\":%.6g,"
           "\"n\":%d,\"batch\":%" PRIu64 ",\"ops\":%" PRIu64 ",\"check\":\"%s\",\"sink\":%" PRIu64 ",\"samples\":[",
           case_name, size, throughput ? "MiB/s" : "ns", quantile(samples, n, 0.5), quantile(samples, n, 0.1),
           quantile(samples, n, 0.9), n, k, i, check, c.sink);
    for (int j = 0; j < n; j++)
        printf("%s%.6g", j ? "," : "", samples[j]);
    printf("]}\n");
    return 0;
}
