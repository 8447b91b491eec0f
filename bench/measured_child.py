"""One benchmark child, waited for with ``wait4``: its output, exit status and the
resources it used (CPU time, peak resident memory), and when it started and ended. The
bench that measures a child's own cost, not the tree's, needs ``wait4``'s ``rusage`` of
that one process (``subprocess`` keeps none)."""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finished:
    stdout: str
    stderr: str
    returncode: int
    usage: resource.struct_rusage
    spawned: float  # time.monotonic() just before the spawn
    exited: float  # time.monotonic() once it was reaped

    @property
    def cpu_s(self) -> float:
        return self.usage.ru_utime + self.usage.ru_stime


def run_measured(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    preexec_fn: Callable[[], None] | None = None,
) -> Finished:
    """Run ``argv`` to its end (killed after ``timeout`` seconds); stderr goes to a file,
    so a chatty child never blocks on a full pipe while its stdout is read."""
    with tempfile.TemporaryFile() as err:
        spawned = time.monotonic()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, preexec_fn=preexec_fn
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        assert proc.stdout is not None
        stdout = proc.stdout.read().decode()
        _pid, status, usage = os.wait4(proc.pid, 0)
        exited = time.monotonic()
        timer.cancel()
        proc.stdout.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return Finished(stdout, stderr, proc.returncode, usage, spawned, exited)
