"""Insert card: how to put the Carte Vitale in the reader."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class InsertCardScreen(KioskScreen):
    flow_screen = Screen.INSERT_CARD
