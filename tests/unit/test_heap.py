"""kiosk.heap: the glibc calls do what the kiosk counts on (in a child: they change the
whole process's heap)."""

from __future__ import annotations

import subprocess
import sys

# 64 MiB in 1 KiB blocks (below glibc's mmap threshold: they come from the heap), then
# one block after them that stays, so the freed ones are not at the top of the heap,
# which glibc hands back by itself: only malloc_trim gives them back.
CHILD = """
import ctypes, sys
from kiosk.heap import limit_malloc_arenas, trim_heap

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS"))

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
assert limit_malloc_arenas(1)
blocks = [libc.malloc(1024) for _ in range(64 * 1024)]
for block in blocks:
    ctypes.memset(block, 1, 1024)
keeper = libc.malloc(1024)
for block in blocks:
    libc.free(block)
before = rss_kib()
trimmed = trim_heap()
print(trimmed, before - rss_kib())
"""


def test_trim_heap_hands_freed_pages_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=True
    )
    trimmed, released_kib = done.stdout.split()
    assert trimmed == "True"
    assert int(released_kib) > 48 * 1024, done.stdout
