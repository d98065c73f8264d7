#!/usr/bin/env python3
"""scripts/fresh_memory.py: what 240 MB of new page cache costs on this machine, with memory just
freed and after an idle spell (BENCHMARKS.md, session 12). On a virtual machine whose balloon
device reports free pages to the host, memory free for a few seconds may be the host's again,
and taking it back cost ten times more in some spells here (not in others): genoptag's pass 1
writes ~240 MB of lists.

    python3 scripts/fresh_memory.py [FILE] [ROUNDS] [IDLE_SECONDS]

FILE (default /tmp/genoptag-bench/synth-10m.csv) gives the 240 MB written; files are written
under /tmp and removed. Prints, per round, the wall and processor time of each write.
"""
import os
import sys
import time

src = sys.argv[1] if len(sys.argv) > 1 else "/tmp/genoptag-bench/synth-10m.csv"
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
idle = float(sys.argv[3]) if len(sys.argv) > 3 else 8.0
with open(src, "rb") as f:
    data = f.read(240 << 20)


def write(path):
    """Writes the data to a new file in 1 MiB writes: (wall, processor) seconds."""
    c0, w0 = os.times(), time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for i in range(0, len(data), 1 << 20):
        os.write(fd, data[i:i + (1 << 20)])
    os.close(fd)
    c1, w1 = os.times(), time.perf_counter()
    return w1 - w0, (c1.user + c1.system) - (c0.user + c0.system)


def drop(path):
    """Writes the file to disk, drops its pages (freed now) and removes it."""
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    os.unlink(path)


for _ in range(rounds):
    write("/tmp/fresh-memory-a")
    drop("/tmp/fresh-memory-a")
    hot = write("/tmp/fresh-memory-b")
    drop("/tmp/fresh-memory-b")
    time.sleep(idle)
    cold = write("/tmp/fresh-memory-c")
    drop("/tmp/fresh-memory-c")
    print(f"just freed: {hot[0]:.3f} s wall, {hot[1]:.2f} s cpu;  "
          f"after {idle:g} s idle: {cold[0]:.3f} s wall, {cold[1]:.2f} s cpu")
