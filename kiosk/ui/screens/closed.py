"""Closed: the DMP was closed; offer to reactivate it."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class ClosedScreen(KioskScreen):
    flow_screen = Screen.CLOSED
