"""Error: a plain message, what to do, and "Terminer" — never a traceback."""

from __future__ import annotations

from kiosk.core.flow import Flow, Screen
from kiosk.ui.i18n import t, translate_message
from kiosk.ui.screens.base import KioskScreen


class ErrorScreen(KioskScreen):
    flow_screen = Screen.ERROR

    def render(self, flow: Flow) -> None:
        message = translate_message(flow.message, flow.language)
        self.ids.message.text = message or t("error.unknown", flow.language)
