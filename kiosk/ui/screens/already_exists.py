"""Already exists: nothing created; a QR code to the patient's online space."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.base import KioskScreen


class AlreadyExistsScreen(KioskScreen):
    flow_screen = Screen.EXISTS

    QR_URL = "https://www.monespacesante.fr"
