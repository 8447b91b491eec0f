"""Welcome: the big "Ouvrir mon DMP" button and a word on privacy."""

from __future__ import annotations

from kiosk.flow import Screen
from kiosk.screens.base import KioskScreen


class WelcomeScreen(KioskScreen):
    flow_screen = Screen.WELCOME
