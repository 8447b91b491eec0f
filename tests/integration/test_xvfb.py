"""Issue 14 item 1: a SIGKILLed `kiosk run --autopilot` left its Xvfb running, and after
forty of them no display number was free. Xvfb now picks its own number (-displayfd)
and dies with the process that started it (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = """
import sys, time
from kiosk.sim.xvfb import start_xvfb
process, display = start_xvfb("320x240x24")
print(process.pid, display, flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("run", range(3))
def test_a_killed_parent_takes_its_xvfb_along(run: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env
    )
    assert parent.stdout is not None
    pid_text, display = parent.stdout.readline().split()
    xvfb = int(pid_text)
    assert display.startswith(":")
    assert alive(xvfb)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 5
    while alive(xvfb):
        assert time.monotonic() < deadline, f"Xvfb {xvfb} outlived its parent"
        time.sleep(0.05)
    socket = Path("/tmp/.X11-unix") / f"X{display[1:]}"
    deadline = time.monotonic() + 5
    while socket.exists():  # Xvfb removes its socket as it goes
        assert time.monotonic() < deadline, f"{socket} left behind"
        time.sleep(0.05)
