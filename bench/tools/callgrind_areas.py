#!/usr/bin/env python3
"""Instructions per message by area, from two callgrind runs of a benchmark
child with n and 2n messages: each function's exclusive cost, grouped by
the crate or module its symbol names, (run 2n - run n) / n.

usage: callgrind_areas.py RUN_N.out RUN_2N.out N

Make the runs with the bench's child (echo server from `echo_server ws`):
  valgrind --tool=callgrind --callgrind-out-file=a.out \
    target/release/wsnova-bench --child wsnova-mio --ws PORT --raw PORT \
    --workload rtt --count 2000
  (the same with --count 4000 into b.out), then
  callgrind_areas.py a.out b.out 2000
"""
import re, subprocess, sys, collections
def buckets(path):
    out = subprocess.run(['callgrind_annotate', '--auto=no', '--threshold=100', path], capture_output=True, text=True).stdout
    b = collections.Counter()
    for line in out.splitlines():
        m = re.match(r'^\s*([\d,]+) \([ \d.]+%\)\s+(\S.*)$', line)
        if not m or 'PROGRAM TOTALS' in line: continue
        ir = int(m.group(1).replace(',', '')); where = m.group(2)
        fn_ = where.split(':', 1)[1] if ':' in where else where
        fn_ = re.sub(r'^<', '', fn_)
        rules = [
            (r'^wsnova_core::wire', 'core wire (framing, decode)'),
            (r'^wsnova_core::session', 'core session (events, routing, timers)'),
            (r'^wsnova_core::driver', 'core driver kit (waiters, event queue)'),
            (r'^wsnova_(tokio|mio)', 'driver'),
            (r'^wsnova_bench', 'benchmark harness'),
            (r'^(tokio|futures)', 'tokio runtime'),
            (r'^mio::', 'mio'),
            (r'^bytes::', 'bytes (BytesMut)'),
            (r'^tungstenite', 'tungstenite (header, UTF-8)'),
            (r'^simdutf8', 'simdutf8'),
            (r'converts::from_utf8', 'std UTF-8 check'),
            (r'memmove|memcpy|memset', 'memcpy/memset'),
            (r'malloc|free|_int_|realloc', 'malloc/free'),
        ]
        k = next((name for pat, name in rules if re.search(pat, fn_)), None)
        if k is None:
            k = 'libc (syscall wrappers)' if re.search(r'libc\.so', where) else 'other'
        b[k] += ir
    return b
a, bb, n = buckets(sys.argv[1]), buckets(sys.argv[2]), int(sys.argv[3])
rows = sorted(((bb[k]-a[k])/n, k) for k in set(a)|set(bb))
total = sum(r[0] for r in rows)
for v, k in reversed(rows):
    if abs(v) >= 5: print(f"| {k} | {v:,.0f} |")
print(f"| **total** | **{total:,.0f}** |")
