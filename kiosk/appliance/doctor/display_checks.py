"""``display``: what the kiosk's window will be drawn on, read from the system only (Kivy
is never imported here: only the UI may, and it costs a second).

On the device Kivy draws through SDL2 on KMS/DRM: a ``/dev/dri/card*`` device for the
screen, a ``/dev/dri/renderD*`` node for hardware GL. Without a render node, GL falls
back to software rendering (llvmpipe): a ``warn``, the UI works but slowly. No KMS
device and no display server (``$DISPLAY``, ``$WAYLAND_DISPLAY``) where doctor runs is
a ``warn`` saying so (a container, an SSH session without the screen). The nodes must be
usable by the service user (:mod:`.access`), not only by doctor's root.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from pathlib import Path

from kiosk.appliance.doctor.access import READ, WRITE, denied, service_user
from kiosk.appliance.doctor.report import Check, Name, Run, ok, warn

DRI = Path("/dev/dri")
NAMES = (Name.DISPLAY,)
GPU_FIX = (
    "enable the GPU driver (Raspberry Pi: `dtoverlay=vc4-kms-v3d` in /boot/firmware/config.txt,"
    " then reboot) and put the kiosk user in the video and render groups"
)


def probe(_run: Run) -> list[Check]:
    return [display_check(DRI, os.environ, service_user())]


def display_check(
    dri: Path, env: Mapping[str, str], user: pwd.struct_passwd | None = None
) -> Check:
    """``user``: who must be able to open the nodes (None: the caller)."""
    try:
        nodes = sorted(p.name for p in dri.iterdir())
    except OSError:
        nodes = []
    cards = [n for n in nodes if n.startswith("card")]
    renders = [n for n in nodes if n.startswith("renderD")]
    server = next(
        (f"${key}={env[key]}" for key in ("WAYLAND_DISPLAY", "DISPLAY") if env.get(key)), ""
    )
    if not cards and not server:
        return warn(
            Name.DISPLAY,
            f"no display here: no KMS device in {dri}, no $DISPLAY or $WAYLAND_DISPLAY",
            "run `kiosk doctor` on the kiosk itself, with its screen plugged in",
        )
    where = ", ".join(filter(None, [f"KMS {dri}/{cards[0]}" if cards else "", server]))
    if not renders:
        return warn(
            Name.DISPLAY,
            f"{where}; no render node in {dri}: software rendering (llvmpipe)",
            GPU_FIX,
        )
    refused = [
        why for why in (denied(dri / n, user, READ | WRITE) for n in cards[:1] + renders[:1]) if why
    ]
    if refused:
        return warn(Name.DISPLAY, f"{where}; {'; '.join(refused)}", GPU_FIX)
    return ok(Name.DISPLAY, f"{where}; render node {dri}/{renders[0]}: hardware GL")
