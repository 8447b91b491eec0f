"""One benchmark child, waited for with ``wait4``: its output, exit status and the
resources it used (CPU time, peak resident memory), and when it started and ended. The
bench that measures a child's own cost, not the tree's, needs ``wait4``'s ``rusage`` of
that one process (``subprocess`` keeps none)."""

from __future__ import annotations

import compileall
import os
import resource
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

KIOSK_PACKAGE = Path(__file__).resolve().parent.parent / "kiosk"


def compile_as_installed() -> dict[str, object]:
    """Byte-compile the kiosk's modules, as the appliance's install does (``pip install``
    of the wheel writes every ``.pyc``), so the children measured load bytecode like a
    kiosk does and like the libraries they are compared with (compiled when pip installed
    them). A checkout is otherwise compiled at each start wherever PYTHONDONTWRITEBYTECODE
    is set (it is on this machine: 180 ms of every cold start, measured). What was done,
    for the report."""
    ok = bool(compileall.compile_dir(KIOSK_PACKAGE, quiet=1))
    return {
        "kiosk_bytecode": "compiled before the run, as an install does" if ok else "failed",
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
    }


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
