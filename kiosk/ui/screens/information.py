"""Information: what the DMP is, before the consent."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class InformationScreen(KioskScreen):
    flow_screen = Screen.INFORMATION
