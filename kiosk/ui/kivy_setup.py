"""Kivy's settings for the kiosk, applied before its window exists."""

from __future__ import annotations

import os


def configure_kivy(size: tuple[int, int] | None) -> None:
    """No argv parsing, logs through ``logging``, a fixed size (demo, tests, shots) or
    the whole screen (a kiosk)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.config import Config as KivyConfig

    if size is None:
        KivyConfig.set("graphics", "fullscreen", "auto")
    else:
        KivyConfig.set("graphics", "width", str(size[0]))
        KivyConfig.set("graphics", "height", str(size[1]))
    KivyConfig.set("kivy", "exit_on_escape", "0")
