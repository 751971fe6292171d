// Case 8's GStreamer contender (bench/streaming.mjs): one frame handed to
// another process and acknowledged, through GStreamer's own fd-passing
// elements (unixfdsink -> unixfdsrc, GStreamer >= 1.24).
//
//   gst_handoff producer SOCKET WARMUP FRAMES   (the frame is fd 3: a memfd or a dma-buf)
//   gst_handoff consumer SOCKET WARMUP FRAMES
//   gst_handoff pipeline WARMUP FRAMES 'DESCRIPTION'   (case 10: gst-launch's work, timed
//                                                        at the element named "sink")
//
// producer: appsrc ! unixfdsink. Per frame a new GstBuffer over the same fd
// memory (GstFdMemory for a memfd, GstDmaBufMemory for a dma-buf, never
// closed by GStreamer) is pushed; the acknowledgement is the buffer coming
// back: unixfdsink drops its reference when the consumer says it released
// the buffer, and the buffer's finalisation wakes the producer, which then
// pushes the next one. unixfdsink sends the fd with every buffer.
// consumer: unixfdsrc ! fakesink; the buffer is released when fakesink is
// done with it. Neither side maps the frame; last-sample is off on both
// sinks (it would keep each buffer until the next, and one in flight would
// never come back).
//
// Timing: WARMUP frames, then FRAMES timed ones, then one more that ends the
// consumer's count. The producer prints {"rt":[ns...],"cpu_ns":...}
// (round trip of every timed frame; getrusage(RUSAGE_SELF), all threads,
// over the timed frames); the consumer prints {"cpu_ns":...,"wall_ns":...}
// over the same frames (from the arrival of the first timed frame to that of
// the end frame; its frames/s is FRAMES / wall). The producer's other
// consumer, bench/js/unixfd-recv.js (this package's UnixFdSrc), measures
// and prints the same.
// Build: cc -O2 gst_handoff.c $(pkg-config --cflags --libs gstreamer-app-1.0 gstreamer-allocators-1.0)
#define _GNU_SOURCE
#include <gst/allocators/allocators.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t cpu_ns(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return ((uint64_t)r.ru_utime.tv_sec + (uint64_t)r.ru_stime.tv_sec) * 1000000000u +
         ((uint64_t)r.ru_utime.tv_usec + (uint64_t)r.ru_stime.tv_usec) * 1000u;
}

static void die(const char *what) {
  fprintf(stderr, "gst_handoff: %s\n", what);
  exit(1);
}

// ---- producer ----------------------------------------------------------------

static GMutex lock;
static GCond cond;
static int released;

static void on_finalize(gpointer data, GstMiniObject *obj) {
  (void)data;
  (void)obj;
  g_mutex_lock(&lock);
  released = 1;
  g_cond_signal(&cond);
  g_mutex_unlock(&lock);
}

// DMA_BUF_IOCTL_SYNC with bad flags: EINVAL on a dma-buf, ENOTTY on anything else.
static int is_dmabuf(int fd) {
  uint64_t flags = ~(uint64_t)0;
  return ioctl(fd, 0x40086200, &flags) < 0 && errno == EINVAL;
}

static int producer(const char *sock, int warmup, int frames) {
  int fd = 3;
  struct stat st;
  if (fstat(fd, &st) < 0) die("fd 3 (the frame's memfd or dma-buf) is not open");
  gsize size = (gsize)lseek(fd, 0, SEEK_END);
  if (size == 0 || size == (gsize)-1) size = (gsize)st.st_size;
  int dmabuf = is_dmabuf(fd);
  GstAllocator *alloc = dmabuf ? gst_dmabuf_allocator_new() : gst_fd_allocator_new();
  GstMemory *mem = dmabuf ? gst_dmabuf_allocator_alloc_with_flags(alloc, fd, size, GST_FD_MEMORY_FLAG_DONT_CLOSE)
                          : gst_fd_allocator_alloc(alloc, fd, size, GST_FD_MEMORY_FLAG_DONT_CLOSE);
  if (!mem) die("could not wrap fd 3 as GStreamer memory");

  char desc[512];
  // The caps only name a size (the frame is never looked at): RGBA, 1024 lines.
  snprintf(desc, sizeof desc,
           "appsrc name=src format=time is-live=false block=false "
           "caps=video/x-raw,format=RGBA,width=%u,height=1024,framerate=0/1 "
           "! unixfdsink name=sink socket-path=%s sync=false async=false enable-last-sample=false wait-for-connection=true",
           (unsigned)(size / 4096), sock);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch(desc, &err);
  if (!pipe) die(err ? err->message : "gst_parse_launch failed");
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "src");
  if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) die("the producer pipeline did not start");

  int total = warmup + frames + 1;
  uint64_t *rt = calloc((size_t)frames, sizeof *rt);
  uint64_t c0 = 0, c1 = 0;
  for (int i = 0; i < total; i++) {
    if (i == warmup) c0 = cpu_ns();
    GstBuffer *b = gst_buffer_new();
    gst_buffer_append_memory(b, gst_memory_ref(mem));
    GST_BUFFER_PTS(b) = (GstClockTime)i * GST_MSECOND;
    GST_BUFFER_DURATION(b) = GST_MSECOND;
    gst_mini_object_weak_ref(GST_MINI_OBJECT(b), on_finalize, NULL);
    released = 0;
    uint64_t t0 = now_ns();
    if (gst_app_src_push_buffer(GST_APP_SRC(src), b) != GST_FLOW_OK) die("appsrc refused a buffer");
    g_mutex_lock(&lock);
    gint64 deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    while (!released)
      if (!g_cond_wait_until(&cond, &lock, deadline)) die("a frame did not come back within 10 s");
    g_mutex_unlock(&lock);
    uint64_t t1 = now_ns();
    if (i >= warmup && i < warmup + frames) rt[i - warmup] = t1 - t0;
    if (i == warmup + frames - 1) c1 = cpu_ns();
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  GstBus *bus = gst_element_get_bus(pipe);
  gst_message_unref(gst_bus_timed_pop_filtered(bus, GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR) ?: gst_message_new_eos(NULL));
  gst_element_set_state(pipe, GST_STATE_NULL);
  printf("{\"side\":\"producer\",\"dmabuf\":%s,\"size\":%zu,\"cpu_ns\":%llu,\"rt\":[", dmabuf ? "true" : "false", (size_t)size,
         (unsigned long long)(c1 - c0));
  for (int i = 0; i < frames; i++) printf("%s%llu", i ? "," : "", (unsigned long long)rt[i]);
  printf("]}\n");
  fflush(stdout);
  return 0;
}

// ---- consumer ----------------------------------------------------------------

static int seen, c_warmup, c_frames;
static uint64_t cc0, cc1, ct0;
static GMainLoop *loop;

static void on_handoff(GstElement *sink, GstBuffer *b, GstPad *pad, gpointer data) {
  (void)sink;
  (void)b;
  (void)pad;
  (void)data;
  if (seen == c_warmup) cc0 = cpu_ns(), ct0 = now_ns();
  if (seen == c_warmup + c_frames) {
    cc1 = cpu_ns();
    uint64_t wall = now_ns() - ct0;
    printf("{\"side\":\"consumer\",\"cpu_ns\":%llu,\"wall_ns\":%llu,\"frames\":%d}\n", (unsigned long long)(cc1 - cc0),
           (unsigned long long)wall, c_frames);
    fflush(stdout);
  }
  seen++;
}

static gboolean on_bus(GstBus *bus, GstMessage *m, gpointer data) {
  (void)bus;
  (void)data;
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS || GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) g_main_loop_quit(loop);
  return TRUE;
}

static int consumer(const char *sock, int warmup, int frames) {
  c_warmup = warmup;
  c_frames = frames;
  char desc[512];
  snprintf(desc, sizeof desc,
           "unixfdsrc socket-path=%s ! fakesink name=sink sync=false async=false enable-last-sample=false signal-handoffs=true", sock);
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch(desc, &err);
  if (!pipe) die(err ? err->message : "gst_parse_launch failed");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), NULL);
  loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(pipe);
  gst_bus_add_watch(bus, on_bus, NULL);
  if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) die("the consumer pipeline did not start");
  g_main_loop_run(loop);
  gst_element_set_state(pipe, GST_STATE_NULL);
  if (seen <= warmup + frames) {
    fprintf(stderr, "gst_handoff: the consumer saw %d of %d frames\n", seen, warmup + frames + 1);
    return 1;
  }
  return 0;
}

// ---- a gst-launch pipeline, timed ----------------------------------------------
// Counts the buffers reaching the element named "sink" (a pad probe); from
// buffer WARMUP to buffer WARMUP+FRAMES: wall time, CPU time (RUSAGE_SELF),
// and the frame rate. Then it stops.

static uint64_t pt0;

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  (void)pad;
  (void)info;
  GstElement *pipe = data;
  if (seen == c_warmup) cc0 = cpu_ns(), pt0 = now_ns();
  if (seen == c_warmup + c_frames) {
    uint64_t wall = now_ns() - pt0;
    cc1 = cpu_ns();
    printf("{\"frames\":%d,\"wall_ns\":%llu,\"cpu_ns\":%llu,\"fps\":%.3f}\n", c_frames, (unsigned long long)wall,
           (unsigned long long)(cc1 - cc0), c_frames / (wall / 1e9));
    fflush(stdout);
    gst_element_post_message(pipe, gst_message_new_application(GST_OBJECT(pipe), gst_structure_new_empty("done")));
  }
  seen++;
  return GST_PAD_PROBE_OK;
}

static gboolean on_pipeline_bus(GstBus *bus, GstMessage *m, gpointer data) {
  (void)bus;
  (void)data;
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error(m, &e, NULL);
    fprintf(stderr, "gst_handoff: %s\n", e ? e->message : "pipeline error");
    g_main_loop_quit(loop);
  }
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS || GST_MESSAGE_TYPE(m) == GST_MESSAGE_APPLICATION) g_main_loop_quit(loop);
  return TRUE;
}

static int pipeline(int warmup, int frames, const char *desc) {
  c_warmup = warmup;
  c_frames = frames;
  GError *err = NULL;
  GstElement *pipe = gst_parse_launch(desc, &err);
  if (!pipe) die(err ? err->message : "gst_parse_launch failed");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
  if (!sink) die("the pipeline has no element named sink");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, pipe, NULL);
  loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(pipe);
  gst_bus_add_watch(bus, on_pipeline_bus, NULL);
  if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) die("the pipeline did not start");
  g_main_loop_run(loop);
  gst_element_set_state(pipe, GST_STATE_NULL);
  return seen > warmup + frames ? 0 : 1;
}

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc == 5 && !strcmp(argv[1], "pipeline")) return pipeline(atoi(argv[2]), atoi(argv[3]), argv[4]);
  if (argc != 5) die("usage: gst_handoff producer|consumer SOCKET WARMUP FRAMES");
  int warmup = atoi(argv[3]), frames = atoi(argv[4]);
  if (frames <= 0 || warmup < 0) die("bad WARMUP or FRAMES");
  if (!strcmp(argv[1], "producer")) return producer(argv[2], warmup, frames);
  if (!strcmp(argv[1], "consumer")) return consumer(argv[2], warmup, frames);
  die("usage: gst_handoff producer|consumer SOCKET WARMUP FRAMES");
}
