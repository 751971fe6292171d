#!/usr/bin/env python3
"""Per-operation cost from two callgrind runs of N1 < N2 operations:
(cost(N2) - cost(N1)) / (N2 - N1), total and per function (self cost, or
inclusive with --inclusive). Start-up and teardown cancel out.

  cgdiff.py [--inclusive] [--top 30] OUT1 N1 OUT2 N2
"""
import re, subprocess, sys

def costs(path, inclusive):
    args = ['callgrind_annotate', '--threshold=100']
    if inclusive:
        args.append('--inclusive=yes')
    text = subprocess.run(args + [path], capture_output=True, text=True, check=True).stdout
    total, per = 0, {}
    for line in text.splitlines():
        m = re.match(r'\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$', line)
        if not m:
            continue
        n = int(m.group(1).replace(',', ''))
        name = m.group(2).strip()
        if name.startswith('PROGRAM TOTALS'):
            total = n
        elif ':' in name:
            # "file:function [object]" -> "function [object]"
            fn = re.sub(r'^(\?\?\?|[^:]*):', '', name, count=1)
            per[fn] = per.get(fn, 0) + n
    return total, per

def main():
    a = sys.argv[1:]
    inclusive = '--inclusive' in a
    if inclusive:
        a.remove('--inclusive')
    top = 30
    if '--top' in a:
        i = a.index('--top'); top = int(a[i + 1]); del a[i:i + 2]
    f1, n1, f2, n2 = a[0], int(a[1]), a[2], int(a[3])
    t1, p1 = costs(f1, inclusive)
    t2, p2 = costs(f2, inclusive)
    d = n2 - n1
    print(f'instructions per operation: {(t2 - t1) / d:,.0f}  ({"inclusive" if inclusive else "self"} cost by function below)')
    rows = sorted(((p2.get(k, 0) - p1.get(k, 0)) / d, k) for k in set(p1) | set(p2))
    rows.reverse()
    for v, k in rows[:top]:
        if v < 1:
            break
        print(f'{v:10,.1f}  {k}')

main()
