"""Kivy's settings for the kiosk, applied by the app before its window exists, never by
hand in a ``config.ini``.

A kiosk (no size given: the device's own screen) runs full screen with no mouse cursor,
never lets the display blank (SDL's screensaver off), and cannot be quit from the
screen: Escape does nothing and a window-close request is refused
(:meth:`kiosk.ui.app.KioskApp.build`). On a Raspberry Pi with no X or Wayland session,
SDL draws straight to the display through KMS/DRM. A size (demo, tests, screenshots)
gives a window of that size with the cursor shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

DRI = Path("/dev/dri")


def video_driver(environ: Mapping[str, str], dri: Path = DRI) -> str | None:
    """SDL's video driver for a kiosk: KMS/DRM when no display server runs and a DRM
    device exists; None (SDL's own choice) otherwise or when the site chose one."""
    if environ.get("SDL_VIDEODRIVER"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    if not any(dri.glob("card*")):
        return None
    return "kmsdrm"


def kiosk_environment(environ: MutableMapping[str, str], fullscreen: bool) -> None:
    environ.setdefault("KIVY_NO_ARGS", "1")
    environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    environ.setdefault("KIVY_NO_FILELOG", "1")
    environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    # SDL must leave SIGINT and SIGTERM to Python: it would turn them into a window-close
    # request, which a kiosk refuses (the app stops on SIGTERM itself, appliance/device.py)
    environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    if fullscreen:
        environ.setdefault("SDL_VIDEO_ALLOW_SCREENSAVER", "0")
        driver = video_driver(environ)
        if driver is not None:
            environ["SDL_VIDEODRIVER"] = driver


def configure_kivy(size: tuple[int, int] | None) -> None:
    """No argv parsing, logs through ``logging``, a fixed size (demo, tests, shots) or
    the whole screen (a kiosk)."""
    kiosk_environment(os.environ, fullscreen=size is None)
    from kivy.config import Config as KivyConfig

    if size is None:
        KivyConfig.set("graphics", "fullscreen", "auto")
        KivyConfig.set("graphics", "show_cursor", "0")
        KivyConfig.set("graphics", "allow_screensaver", "0")
    else:
        KivyConfig.set("graphics", "width", str(size[0]))
        KivyConfig.set("graphics", "height", str(size[1]))
    KivyConfig.set("kivy", "exit_on_escape", "0")
    KivyConfig.set("kivy", "pause_on_minimize", "0")
