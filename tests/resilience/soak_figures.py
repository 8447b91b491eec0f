"""What the soak measures of the kiosk's process, and the slope it reports. Pure but for
:func:`sample`, which reads ``/proc/self``."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _sqlite_memory() -> Callable[[], int]:
    """SQLite's own count of the bytes it holds (its page caches above all), from the
    library Python's sqlite3 is linked to; 0 when it cannot be asked."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        used = lib.sqlite3_memory_used
    except (OSError, AttributeError):
        return lambda: 0
    used.restype = ctypes.c_int64
    return lambda: int(used())


SQLITE_MEMORY = _sqlite_memory()


@dataclass(frozen=True, slots=True)
class Sample:
    journeys: int  # journeys done when it was taken
    rss_kib: int  # VmRSS
    fds: int  # open file descriptors
    threads: int  # OS threads (the kernel's count: C threads included)
    sqlite_kib: int = 0  # what SQLite holds of it (page caches: they fill, then stay)

    @property
    def rss_less_sqlite_kib(self) -> int:
        return self.rss_kib - self.sqlite_kib


def sample(journeys: int) -> Sample:
    fields: dict[str, int] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "Threads"):
                fields[name] = int(value.split()[0])
    fds = len(os.listdir("/proc/self/fd"))
    return Sample(journeys, fields["VmRSS"], fds, fields["Threads"], SQLITE_MEMORY() // 1024)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs`` (0 with fewer than two distinct xs)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def resource(samples: list[Sample], warm_up: int, name: str, scale: float = 1.0) -> dict[str, Any]:
    """First (after warm-up), last, min and max of one figure, and its slope per 1,000
    journeys over the samples taken after ``warm_up`` journeys, and over the second half
    of the run only (``slope_per_1000_second_half``: what still grows once caches are
    full)."""
    kept = [s for s in samples if s.journeys >= warm_up] or samples
    values = [getattr(s, name) * scale for s in kept]
    xs = [float(s.journeys) for s in kept]
    half = samples[-1].journeys / 2
    late = [(x, v) for x, v in zip(xs, values, strict=True) if x >= half]
    return {
        "first": round(values[0], 2),
        "last": round(values[-1], 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "slope_per_1000": round(slope(xs, values) * 1000, 4),
        "slope_per_1000_second_half": round(
            slope([x for x, _ in late], [v for _, v in late]) * 1000, 4
        ),
        "samples": len(values),
    }


def figures(samples: list[Sample], warm_up: int) -> dict[str, Any]:
    """RSS (MiB), descriptors and threads after ``warm_up`` journeys, plus the process's
    state before any journey (``at_start``)."""
    start = samples[0]
    return {
        "warm_up_journeys": warm_up,
        "at_start": {"rss_mib": round(start.rss_kib / 1024, 2), "fds": start.fds,
                     "threads": start.threads},
        "rss_mib": resource(samples, warm_up, "rss_kib", 1 / 1024),
        "sqlite_mib": resource(samples, warm_up, "sqlite_kib", 1 / 1024),
        "rss_less_sqlite_mib": resource(samples, warm_up, "rss_less_sqlite_kib", 1 / 1024),
        "fds": resource(samples, warm_up, "fds"),
        "threads": resource(samples, warm_up, "threads"),
    }  # fmt: skip
