"""``clock``: the local clock against the DMP server's (its HTTP ``Date``), and NTP.

A wrong clock breaks TLS (certificates look expired or not yet valid) and the VIHF: the
kiosk issues each assertion valid from 60 s before its own time for 5 minutes
(:mod:`kiosk.dmp.vihf`), so a clock more than 60 s off the server's risks every call:
over ``FAIL_SECONDS`` it is a ``fail``, over ``WARN_SECONDS`` a ``warn``. ``Date`` has a
one-second resolution: the offset is measured against the middle of the request and
rounded, so an offset of 1 s is noise. ``timedatectl show -p NTPSynchronized`` is read
when systemd is PID 1; elsewhere the NTP state is unknown and said so.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from kiosk.appliance.doctor.report import Check, Name, ok, warn
from kiosk.appliance.doctor.report import fail as failed
from kiosk.appliance.doctor.service_checks import SYSTEMD_RUNNING

WARN_SECONDS = 10.0
FAIL_SECONDS = 60.0
NTP_FIX = (
    "enable NTP: `timedatectl set-ntp true` (systemd-timesyncd), let UDP 123 out, and check"
    " `timedatectl timesync-status`"
)


@dataclass(frozen=True, slots=True)
class Ntp:
    synchronised: bool | None  # None: cannot tell
    note: str


def ntp_state(timeout: float = 2.0) -> Ntp:
    if not SYSTEMD_RUNNING.is_dir():
        return Ntp(None, "NTP state unknown here (systemd is not PID 1)")
    try:
        answer = subprocess.run(
            ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Ntp(None, f"NTP state unknown (timedatectl: {exc})")
    value = answer.stdout.strip()
    if answer.returncode != 0 or value not in ("yes", "no"):
        return Ntp(None, f"NTP state unknown (timedatectl answered {value or answer.returncode})")
    return Ntp(value == "yes", "NTP synchronised" if value == "yes" else "NTP NOT synchronised")


def clock_check(offset: float | None, unknown_offset: str, ntp: Ntp) -> Check:
    """``offset``: server time minus local time, seconds (None: not measured, because
    ``unknown_offset``)."""
    if offset is None:
        compared = f"not compared with the DMP server ({unknown_offset})"
        if ntp.synchronised is None:
            return warn(
                Name.CLOCK,
                f"cannot tell: {compared}; {ntp.note}",
                "fix dmp_endpoint, or run doctor where systemd runs",
            )
        if not ntp.synchronised:
            return warn(Name.CLOCK, f"{ntp.note}; {compared}", NTP_FIX)
        return ok(Name.CLOCK, f"{ntp.note}; {compared}")
    seconds = round(offset)
    side = "behind" if seconds > 0 else "ahead of"
    facts = f"local clock {abs(seconds)} s {side} the DMP server's; {ntp.note}"
    if abs(seconds) <= 1:
        facts = f"local clock agrees with the DMP server's (within 1 s); {ntp.note}"
    fix = NTP_FIX + "; a wrong clock breaks TLS and the VIHF's validity window"
    if abs(seconds) > FAIL_SECONDS:
        return failed(Name.CLOCK, facts, fix)
    if abs(seconds) > WARN_SECONDS:
        return warn(Name.CLOCK, facts, fix)
    if ntp.synchronised is False:
        return warn(Name.CLOCK, facts, NTP_FIX)
    return ok(Name.CLOCK, facts)
