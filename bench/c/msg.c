// Case 9's floor (bench/streaming.mjs): small messages between two processes
// over a Unix seqpacket socketpair with blocking sendmsg/recvmsg, as a
// program that needs no event loop would do it.
//
//   msg FDS INFLIGHT COUNT WARMUP
//
// Each message is 68 bytes (a 4-byte length and a 64-byte header, as the
// project's Channel frames one) with FDS fds attached (SCM_RIGHTS; a memfd
// made once); the child closes what it receives and answers with a 68-byte
// message without fds. INFLIGHT messages are outstanding at a time (1: ping
// pong). WARMUP round trips, then COUNT timed ones in 20 batches. Prints
// {"samples":[ns per round trip, per batch],"cpu_ns":...}: the CPU time of
// both processes (getrusage RUSAGE_SELF each, all threads) over the timed
// round trips.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 68
#define MAXFDS 16
#define BATCHES 20

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
  perror(what);
  exit(1);
}

static void send_msg(int s, const unsigned char *buf, const int *fds, int nfds) {
  struct iovec iov = {(void *)buf, MSG};
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int) * MAXFDS)];
  } c;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (nfds) {
    m.msg_control = c.b;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
  }
  if (sendmsg(s, &m, MSG_NOSIGNAL) != MSG) die("sendmsg");
}

// Receives one message; closes its fds. Returns its length (0: the peer closed).
static ssize_t recv_msg(int s, unsigned char *buf) {
  struct iovec iov = {buf, MSG};
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int) * MAXFDS)];
  } c;
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
  ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
  if (n < 0) die("recvmsg");
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
    if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
      int nf = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      int fds[MAXFDS];
      memcpy(fds, CMSG_DATA(h), sizeof(int) * (size_t)nf);
      for (int i = 0; i < nf; i++) close(fds[i]);
    }
  return n;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: msg FDS INFLIGHT COUNT WARMUP\n");
    return 2;
  }
  int nfds = atoi(argv[1]), inflight = atoi(argv[2]);
  long count = atol(argv[3]), warmup = atol(argv[4]);
  if (nfds < 0 || nfds > MAXFDS || inflight < 1 || count < BATCHES) {
    fprintf(stderr, "msg: bad arguments\n");
    return 2;
  }
  count -= count % BATCHES;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) die("socketpair");
  long total = warmup + count;
  pid_t pid = fork();
  if (pid < 0) die("fork");
  unsigned char buf[MSG];
  memset(buf, 'x', sizeof buf);
  if (pid == 0) {
    close(sv[0]);
    uint64_t c0 = 0;
    for (long n = 0;; n++) {
      if (n == warmup) c0 = cpu_ns();
      if (recv_msg(sv[1], buf) == 0) break;
      if (n == total - 1) {
        uint64_t c = cpu_ns() - c0;
        memcpy(buf + 4, &c, sizeof c);
      }
      send_msg(sv[1], buf, NULL, 0);
    }
    _exit(0);
  }
  close(sv[1]);
  int fds[MAXFDS];
  if (nfds) {
    int mfd = memfd_create("msg-bench", MFD_CLOEXEC);
    if (mfd < 0 || ftruncate(mfd, 4096) < 0) die("memfd_create");
    for (int i = 0; i < nfds; i++) fds[i] = mfd;
  }
  long sent = 0, got = 0;
  uint64_t samples[BATCHES], c0 = 0, t0 = 0, tb = 0, child_cpu = 0;
  long per = count / BATCHES;
  while (sent < inflight && sent < total) send_msg(sv[0], buf, fds, nfds), sent++;
  while (got < total) {
    if (got == warmup) c0 = cpu_ns(), t0 = tb = now_ns();
    if (recv_msg(sv[0], buf) != MSG) {
      fprintf(stderr, "msg: short reply\n");
      return 1;
    }
    got++;
    if (got > warmup && (got - warmup) % per == 0) {
      uint64_t t = now_ns();
      samples[(got - warmup) / per - 1] = (t - tb) / (uint64_t)per;
      tb = t;
    }
    if (got == total) memcpy(&child_cpu, buf + 4, sizeof child_cpu);
    if (sent < total) send_msg(sv[0], buf, fds, nfds), sent++;
  }
  uint64_t cpu = cpu_ns() - c0, wall = now_ns() - t0;
  shutdown(sv[0], SHUT_RDWR);
  waitpid(pid, NULL, 0);
  printf("{\"wall_ns\":%llu,\"count\":%ld,\"cpu_ns\":%llu,\"child_cpu_ns\":%llu,\"samples\":[", (unsigned long long)wall, count,
         (unsigned long long)cpu, (unsigned long long)child_cpu);
  for (int i = 0; i < BATCHES; i++) printf("%s%llu", i ? "," : "", (unsigned long long)samples[i]);
  printf("]}\n");
  return 0;
}
