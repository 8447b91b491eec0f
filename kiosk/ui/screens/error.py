"""Error: a plain message, what to do, and "Terminer" — never a traceback."""

from __future__ import annotations

from kiosk.core.flow import Flow, Screen
from kiosk.ui.i18n import render, t
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.ui_text import UiText


class ErrorScreen(KioskScreen):
    flow_screen = Screen.ERROR

    def render(self, flow: Flow) -> None:
        if flow.message is None:
            self.ids.message.text = t(UiText.ERROR_UNKNOWN, flow.language)
        else:
            self.ids.message.text = render(flow.message, flow.language)
