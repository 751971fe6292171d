// Lends a memfd to a command, as cuda_exec lends a CUDA dma-buf: a memfd of
// SIZE bytes (every page touched once) becomes the command's fd 3, with
// DMABUF_BENCH_FD=3. Node has no memfd_create; case 8 natively hands this
// memfd from process to process, in the project's Channel and in GStreamer's
// unixfdsink alike.
//
//   memfd_exec SIZE -- CMD [ARGS...]
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--")) {
    fprintf(stderr, "usage: memfd_exec SIZE -- CMD [ARGS...]\n");
    return 2;
  }
  long size = atol(argv[1]);
  int fd = memfd_create("dmabuf-bench-frame", MFD_ALLOW_SEALING);
  if (fd < 0 || size <= 0 || ftruncate(fd, size) < 0) {
    perror("memfd_exec: memfd_create/ftruncate");
    return 1;
  }
  unsigned char *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    perror("memfd_exec: mmap");
    return 1;
  }
  for (long i = 0; i < size; i++) p[i] = (unsigned char)i;
  munmap(p, (size_t)size);
  fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
  if (fd != 3) {
    if (dup2(fd, 3) < 0) {
      perror("memfd_exec: dup2");
      return 1;
    }
    close(fd);
  }
  setenv("DMABUF_BENCH_FD", "3", 1);
  execvp(argv[3], argv + 3);
  perror("memfd_exec: exec");
  return 127;
}
