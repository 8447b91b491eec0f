"""A display for Kivy: the real one when there is one, else our own Xvfb."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import time

from kiosk.children import dies_with_this_process
from kiosk.sim.errors import SimulationError


class NoDisplay(SimulationError):
    pass


NOTIFY_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
START_TIMEOUT = 30.0  # seconds for Xvfb to say its display number (a loaded machine is slow)
EXIT_GRACE = 2.0  # seconds for an Xvfb that closed the pipe to exit


def start_xvfb(size: str = "1280x800x24") -> tuple[subprocess.Popen[bytes], str]:
    """A new Xvfb on a display number it picks itself (``-displayfd``: no race with
    another X server, no range to run out of); the process and its ``:N``. The server
    dies with the thread that started it (``PR_SET_PDEATHSIG``)."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise NoDisplay("no display and no Xvfb (apt-get install xvfb)")
    read_end, write_end = os.pipe()
    try:
        process = subprocess.Popen(
            [binary, "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_end,),
            preexec_fn=dies_with_this_process(),
            # Xvfb speaks systemd's notify protocol too: it must not claim to be the kiosk
            env={k: v for k, v in os.environ.items() if k not in NOTIFY_VARIABLES},
        )
    finally:
        os.close(write_end)
    try:
        number = _read_display(read_end, process)
    finally:
        os.close(read_end)
    return process, f":{number}"


def _read_display(read_end: int, process: subprocess.Popen[bytes]) -> int:
    """The display number Xvfb writes once it listens ("99\n")."""
    deadline = time.monotonic() + START_TIMEOUT
    text = b""
    while not text.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([read_end], [], [], max(left, 0))
        chunk = os.read(read_end, 16) if ready else b""
        if not chunk:  # timed out, or Xvfb closed the pipe: exited without a display
            exited = None
            if ready:  # give its exit a moment to be seen, for its status
                with contextlib.suppress(subprocess.TimeoutExpired):
                    exited = process.wait(EXIT_GRACE)
            process.kill()
            process.wait()
            if exited is None:
                raise NoDisplay(f"Xvfb did not start within {START_TIMEOUT:.0f} s")
            raise NoDisplay(f"Xvfb did not start: it exited (status {exited}) naming no display")
        text += chunk
    return int(text)


def ensure_display(size: str = "1280x800x24") -> subprocess.Popen[bytes] | None:
    """Use $DISPLAY when set; otherwise start Xvfb, set $DISPLAY, return the process."""
    if os.environ.get("DISPLAY"):
        return None
    process, display = start_xvfb(size)
    os.environ["DISPLAY"] = display
    return process
