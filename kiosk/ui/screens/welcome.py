"""Welcome: the big "Ouvrir mon DMP" button and a word on privacy."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class WelcomeScreen(KioskScreen):
    flow_screen = Screen.WELCOME
