"""Creating: the DMP is being opened (or reactivated)."""

from __future__ import annotations

from kiosk.flow import Screen
from kiosk.screens.base import KioskScreen


class CreatingScreen(KioskScreen):
    flow_screen = Screen.CREATING
