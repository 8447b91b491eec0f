"""Reading: the card is being read."""

from __future__ import annotations

from kiosk.flow import Screen
from kiosk.screens.base import KioskScreen


class ReadingScreen(KioskScreen):
    flow_screen = Screen.READING
