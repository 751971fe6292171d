#!/usr/bin/env python3
"""A hostile peer for the Channel tests: it sends what Channel never would.

    hostile.py [MOUNTDIR]

With MOUNTDIR it first mounts a FUSE filesystem there (raw /dev/fuse
protocol, no libfuse) whose daemon, a forked child, answers INIT, LOOKUP,
the root's GETATTR and OPEN, and never anything else: a GETATTR of its one
file (`fstat`), STATFS (`fstatfs`), FLUSH (`close`), READ, IOCTL... wait for
ever. Then it opens MOUNTDIR/file (its fd is the "fuse fd") and takes
commands, one a line on stdin, answering each with one line on stdout
("ok ..." or "error ..."):

    connect PATH stream|seqpacket   connect to a Channel.listen() socket
    send NFUSE JSON                 a well-formed message: header JSON and NFUSE fuse fds
    raw HEX NFUSE                   these bytes as they are, with NFUSE fuse fds
    empty                           a 0-byte datagram (seqpacket) with no fds
    fd                              print the fuse fd's number ("ok FD")
    spoof NAME OFFSET               a file named dmabuf:NAME on a tmpfs, held open and
                                    mapped (2 pages at byte OFFSET), then the tmpfs
                                    lazily unmounted: its fd link and maps line read
                                    /dmabuf:NAME, as a real dma-buf's do (needs root)
    comm NAME                       set this process's name (prctl PR_SET_NAME;
                                    backslash escapes as in Python's bytes literals;
                                    the kernel keeps 15 bytes)
    close                           close the socket
    quit                            end: kill the daemon, detach the mount, exit

stdin's end is a quit. Killing the daemon aborts the FUSE connection, so
every request still waiting (in any process) fails with ENOTCONN.
"""
import codecs
import ctypes
import os
import signal
import socket
import struct
import sys
import tempfile

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_OPEN = 1, 2, 3, 14
FUSE_INIT, FUSE_INTERRUPT, FUSE_BATCH_FORGET = 26, 36, 42
ROOT, FILE = 1, 2
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2

libc = ctypes.CDLL(None, use_errno=True)
# mmap64, not mmap: on 32-bit glibc the symbol mmap takes a 32-bit off_t
# (C code compiled with 64-bit offsets is redirected to mmap64); on 64-bit
# machines mmap64 is the same function.
libc.mmap64.restype = ctypes.c_void_p
libc.mmap64.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int64)
PROT_READ, MAP_SHARED, PR_SET_NAME = 1, 1, 15


def spoof(name, offset):
    """An fd and a mapping whose names read /dmabuf:NAME; returns the fd."""
    d = tempfile.mkdtemp()
    if libc.mount(b'none', d.encode(), b'tmpfs', 0, None) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'mount tmpfs: {os.strerror(e)}')
    fd = os.open(os.path.join(d, 'dmabuf:' + name), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.ftruncate(fd, 8192)
    if libc.mmap64(None, 8192, PROT_READ, MAP_SHARED, fd, offset) in (None, ctypes.c_void_p(-1).value):
        e = ctypes.get_errno()
        raise OSError(e, f'mmap: {os.strerror(e)}')
    libc.umount2(d.encode(), MNT_DETACH)
    os.rmdir(d)
    return fd


def attr(ino, mode, size):
    # struct fuse_attr: ino size blocks atime mtime ctime (u64), atimensec
    # mtimensec ctimensec mode nlink uid gid rdev blksize flags (u32).
    return struct.pack('<QQQQQQIIIIIIIIII', ino, size, (size + 511) // 512, 0, 0, 0, 0, 0, 0, mode, 1,
                       os.getuid(), os.getgid(), 0, 4096, 0)


def serve(fd):
    """The daemon: answers what mounting and opening need, nothing else."""
    while True:
        try:
            req = os.read(fd, 1 << 17)
        except OSError as e:
            if e.errno in (19, 4, 2):  # ENODEV (unmounted), EINTR, ENOENT (request gone)
                if e.errno == 19:
                    os._exit(0)
                continue
            raise
        _length, opcode, unique, nodeid = struct.unpack_from('<IIQQ', req)
        if os.environ.get("HOSTILE_DEBUG"):
            print("fuse", opcode, unique, nodeid, req[40:60], file=sys.stderr, flush=True)
        body = None
        error = 0
        if opcode == FUSE_INIT:
            # struct fuse_init_out (64 bytes): protocol 7.31, no features.
            body = struct.pack('<IIIIHHIIHHII6I', 7, 31, 0, 0, 16, 12, 4096, 1, 0, 0, 0, 0, *([0] * 6))
        elif opcode == FUSE_LOOKUP:
            name = req[40:].split(b'\0', 1)[0]
            if nodeid == ROOT and name == b'file':
                # struct fuse_entry_out: the entry cached for an hour, its attributes never.
                body = struct.pack('<QQQQII', FILE, 1, 3600, 0, 0, 0) + attr(FILE, 0o100644, 4096)
            else:
                error = -2  # ENOENT
        elif opcode == FUSE_GETATTR and nodeid == ROOT:
            body = struct.pack('<QII', 3600, 0, 0) + attr(ROOT, 0o040755, 0)
        elif opcode == FUSE_OPEN:
            body = struct.pack('<QIi', 1, 0, 0)  # struct fuse_open_out: fh, open_flags
        elif opcode in (FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT):
            continue  # never answered, by the protocol
        else:
            continue  # the hostile part: never answer
        out = body or b''
        os.write(fd, struct.pack('<IiQ', 16 + len(out), error, unique) + out)


def mount(mnt):
    fd = os.open('/dev/fuse', os.O_RDWR | os.O_CLOEXEC)
    opts = f'fd={fd},rootmode=40000,user_id={os.getuid()},group_id={os.getgid()}'.encode()
    if libc.mount(b'hostile', mnt.encode(), b'fuse', MS_NOSUID | MS_NODEV, opts) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f'mount fuse on {mnt}: {os.strerror(e)}')
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        serve(fd)
        os._exit(0)
    os.close(fd)
    return pid


def main():
    mnt = sys.argv[1] if len(sys.argv) > 1 else None
    daemon = None
    fuse = None
    sock = None
    kept = []

    def reply(line):
        sys.stdout.write(line + '\n')
        sys.stdout.flush()

    def end():
        if sock is not None:
            sock.close()
        if daemon is not None:
            os.kill(daemon, signal.SIGKILL)
            os.waitpid(daemon, 0)
        if mnt is not None:
            libc.umount2(mnt.encode(), MNT_DETACH)

    try:
        if mnt is not None:
            daemon = mount(mnt)
            fuse = os.open(os.path.join(mnt, 'file'), os.O_RDONLY | os.O_CLOEXEC)
        reply(f'ready {os.getpid()}')
        for line in sys.stdin:
            words = line.split(' ', 2)
            cmd = words[0].strip()
            try:
                if cmd == 'connect':
                    kind = socket.SOCK_SEQPACKET if words[2].strip() == 'seqpacket' else socket.SOCK_STREAM
                    sock = socket.socket(socket.AF_UNIX, kind)
                    sock.connect(words[1])
                    reply('ok')
                elif cmd in ('send', 'raw'):
                    if cmd == 'send':
                        n, header = int(words[1]), words[2].rstrip('\n').encode()
                        data = struct.pack('<I', len(header)) + header
                    else:
                        data, n = bytes.fromhex(words[1]), int(words[2])
                    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f'{n}i', *([fuse] * n)))] if n else []
                    sock.sendmsg([data], anc)
                    reply('ok')
                elif cmd == 'empty':
                    sock.send(b'')
                    reply('ok')
                elif cmd == 'fd':
                    reply(f'ok {fuse}')
                elif cmd == 'spoof':
                    kept.append(spoof(words[1], int(words[2])))
                    reply('ok')
                elif cmd == 'comm':
                    name = codecs.escape_decode(line[len('comm '):].rstrip('\n').encode())[0]
                    libc.prctl(PR_SET_NAME, name, 0, 0, 0)
                    reply('ok')
                elif cmd == 'close':
                    sock.close()
                    sock = None
                    reply('ok')
                elif cmd == 'quit':
                    break
                else:
                    reply(f'error unknown command {cmd}')
            except OSError as e:
                reply(f'error {e}')
    finally:
        end()
        reply('bye')


if __name__ == '__main__':
    main()
