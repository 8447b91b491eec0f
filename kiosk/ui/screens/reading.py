"""Reading: the card is being read."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class ReadingScreen(KioskScreen):
    flow_screen = Screen.READING
