"""A display for Kivy: the real one when there is one, else our own Xvfb."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from kiosk.sim.errors import SimulationError


class NoDisplay(SimulationError):
    pass


X_SOCKETS = Path("/tmp/.X11-unix")  # noqa: S108 - where X servers put their sockets
X_LOCKS = Path("/tmp")  # noqa: S108 - and their lock files


def free_display() -> int:
    for number in range(99, 140):
        if not (X_SOCKETS / f"X{number}").exists() and not (X_LOCKS / f".X{number}-lock").exists():
            return number
    raise NoDisplay("no free X display number between :99 and :139")


NOTIFY_VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def start_xvfb(size: str = "1280x800x24") -> tuple[subprocess.Popen[bytes], str]:
    """A new Xvfb on a free display number; the process and its ``:N``."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise NoDisplay("no display and no Xvfb (apt-get install xvfb)")
    number = free_display()
    process = subprocess.Popen(
        [binary, f":{number}", "-screen", "0", size, "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Xvfb speaks systemd's notify protocol too: it must not claim to be the kiosk
        env={k: v for k, v in os.environ.items() if k not in NOTIFY_VARIABLES},
    )
    deadline = time.monotonic() + 10
    while not (X_SOCKETS / f"X{number}").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise NoDisplay(f"Xvfb :{number} did not start")
        time.sleep(0.05)
    return process, f":{number}"


def ensure_display(size: str = "1280x800x24") -> subprocess.Popen[bytes] | None:
    """Use $DISPLAY when set; otherwise start Xvfb, set $DISPLAY, return the process."""
    if os.environ.get("DISPLAY"):
        return None
    process, display = start_xvfb(size)
    os.environ["DISPLAY"] = display
    return process
