"""Error: a plain message, what to do, and "Terminer" — never a traceback."""

from __future__ import annotations

from kiosk.flow import Flow, Screen
from kiosk.screens.base import KioskScreen
from kiosk.screens.i18n import t, translate_message


class ErrorScreen(KioskScreen):
    flow_screen = Screen.ERROR

    def render(self, flow: Flow) -> None:
        message = translate_message(flow.message, flow.language)
        self.ids.message.text = message or t("error.unknown", flow.language)
