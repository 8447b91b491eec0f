"""Creating: the DMP is being opened (or reactivated)."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class CreatingScreen(KioskScreen):
    flow_screen = Screen.CREATING
