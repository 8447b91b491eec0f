"""Checking: the DMP service is asked whether a record exists."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class CheckingScreen(KioskScreen):
    flow_screen = Screen.CHECKING
