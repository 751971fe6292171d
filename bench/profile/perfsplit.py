#!/usr/bin/env python3
"""Sorts `perf report --sort pid,dso,sym --no-children -g none --stdio`
(read from stdin) into where each process's CPU went, by process name
(/proc/PID/comm: bench/js sets it to b-ROLE; the C contenders keep their
program's name). argv[1] is the binding's path, to recognise its samples.

Buckets: the kernel; the binding (our Rust, and the Rust std it links);
Node-API (napi_*, v8impl::); libuv (uv_*); JavaScript (JIT code, named
through --perf-basic-prof, and V8's interpreter and bytecode handlers);
V8 and Node's C++ (the runtime, the builtins JS calls, the GC); libc; the
rest. Shares are of that process name's samples.
"""
import collections
import os
import re
import sys

binding = os.path.basename(sys.argv[1]) if len(sys.argv) > 1 else 'dmabuf.node'
LINE = re.compile(r'^\s*([\d.]+)%\s+(\d+):(\S+)\s+(\[JIT\] tid \d+|\S+)\s+\[(.)\]\s+(.*?)\s*$')
ORDER = ['kernel', 'binding (Rust)', 'Node-API', 'libuv', 'JavaScript', 'V8 + Node C++', 'libc', 'other']


def bucket(dso, kind, sym):
    if kind == 'k' or dso.startswith('[kernel'):
        return 'kernel'
    if dso in (binding, 'dmabuf.node', 'libdmabuf_node.so') or dso.endswith('.node'):
        return 'binding (Rust)'
    if dso.startswith('[JIT]') or dso.startswith('perf-'):
        return 'JavaScript'
    if dso == 'node' or dso.startswith('node'):
        if sym.startswith(('napi_', 'v8impl::', 'node_api_')) or 'napi_env__' in sym or 'node_napi_env' in sym:
            return 'Node-API'
        if sym.startswith('uv_') or sym.startswith('uv__'):
            return 'libuv'
        if 'BytecodeHandler' in sym or sym.startswith(('Builtins_Interpreter', 'Builtins_BaselineOut', 'Builtins_CallFunction', 'Builtins_JSEntry')):
            return 'JavaScript'
        return 'V8 + Node C++'
    if dso.startswith(('libc.so', 'ld-linux', 'libm.so')):
        return 'libc'
    return 'other'


groups = collections.defaultdict(lambda: collections.Counter())
top = collections.defaultdict(lambda: collections.Counter())
total = 0.0
for line in sys.stdin:
    m = LINE.match(line)
    if not m:
        continue
    pct, _pid, comm, dso, kind, sym = m.groups()
    p = float(pct)
    total += p
    b = bucket(dso, kind, sym)
    groups[comm][b] += p
    top[(comm, b)][sym] += p

print(f'# share of samples by process name and bucket (all processes: {total:.1f}% of the machine\'s samples)')
print()
names = sorted(groups, key=lambda c: -sum(groups[c].values()))
print('| process | % of samples | ' + ' | '.join(ORDER) + ' |')
print('|---|---|' + '---|' * len(ORDER))
for c in names:
    g = groups[c]
    s = sum(g.values())
    if s < 0.5:
        continue
    print(f'| {c} | {s:.1f} | ' + ' | '.join(f'{100 * g[b] / s:.1f}' for b in ORDER) + ' |')
print()
for c in names:
    s = sum(groups[c].values())
    if s < 2 or not c.startswith('b-'):
        continue
    for b in ('binding (Rust)', 'Node-API', 'kernel', 'V8 + Node C++', 'JavaScript', 'libc'):
        t = top[(c, b)]
        if not t:
            continue
        print(f'## {c}: top of {b} ({100 * groups[c][b] / s:.1f}% of {c})')
        for sym, p in t.most_common(int(os.environ.get("PERFSPLIT_TOP", "8"))):
            print(f'  {100 * p / s:5.1f}%  {sym[:110]}')
        print()
