"""``service``: kiosk.service installed, enabled and running, as systemd says.

Only when systemd is PID 1 (``/run/systemd/system`` exists): elsewhere (a container, a
development machine) it is a ``warn`` saying so, with whether a unit file is installed.
A unit that is not installed is a ``warn`` too (doctor may run before the install); a
failed unit is a ``fail``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from kiosk.appliance.doctor.report import Check, Name, Run, fail, ok, warn

UNIT = "kiosk.service"
UNIT_DIRS = (
    Path("/etc/systemd/system"),
    Path("/usr/lib/systemd/system"),
    Path("/lib/systemd/system"),
)
SYSTEMD_RUNNING = Path("/run/systemd/system")
PROPERTIES = ("LoadState", "ActiveState", "SubState", "UnitFileState")
NAMES = (Name.SERVICE,)
INSTALL_FIX = "install it: `sudo deploy/install.sh` (see README, Install)"
LOGS_FIX = f"`journalctl -u {UNIT} -b` tells why; then `systemctl restart {UNIT}`"


def probe(_run: Run) -> list[Check]:
    return [service_check()]


def unit_file() -> Path | None:
    return next((d / UNIT for d in UNIT_DIRS if (d / UNIT).is_file()), None)


def service_check(timeout: float = 2.0) -> Check:
    installed = unit_file()
    if not SYSTEMD_RUNNING.is_dir():
        where = f"unit file {installed}" if installed else "no unit file installed"
        return warn(
            Name.SERVICE,
            f"systemd is not PID 1 here: {UNIT} state not read ({where})",
            f"on the kiosk itself: `systemctl status {UNIT}`",
        )
    try:
        answer = subprocess.run(
            ["systemctl", "show", UNIT, "-p", ",".join(PROPERTIES)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return warn(Name.SERVICE, f"systemctl did not answer ({exc})", f"`systemctl status {UNIT}`")
    state = dict(line.partition("=")[::2] for line in answer.stdout.splitlines() if "=" in line)
    facts = ", ".join(f"{key}={state.get(key, '?')}" for key in PROPERTIES)
    if state.get("LoadState") == "not-found":
        return warn(Name.SERVICE, f"{UNIT} is not installed ({facts})", INSTALL_FIX)
    if state.get("ActiveState") == "failed":
        return fail(Name.SERVICE, f"{UNIT} failed ({facts})", LOGS_FIX)
    if state.get("ActiveState") != "active":
        return warn(
            Name.SERVICE,
            f"{UNIT} is not running ({facts})",
            f"`systemctl start {UNIT}`; if it stops again, {LOGS_FIX}",
        )
    if state.get("UnitFileState") != "enabled":
        return warn(
            Name.SERVICE,
            f"{UNIT} runs but does not start at boot ({facts})",
            f"`systemctl enable {UNIT}`",
        )
    return ok(Name.SERVICE, f"{UNIT} running and enabled ({facts})")
