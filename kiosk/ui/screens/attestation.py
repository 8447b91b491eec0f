"""Attestation: the pharmacist attests that consent was collected and enters the local
pharmacist code (shown as dots); the gate's answer (wrong code, locked) comes as
``flow.message``."""

from __future__ import annotations

from kiosk.core.flow import Flow, Screen
from kiosk.ui.i18n import render, t
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.ui_text import UiText


class AttestationScreen(KioskScreen):
    flow_screen = Screen.ATTESTATION

    def render(self, flow: Flow) -> None:
        keyboard = self.ids.keyboard
        keyboard.busy = flow.attestation_pending
        if flow.attestation_pending:
            self.ids.feedback.text = t(UiText.ATTESTATION_PENDING, flow.language)
        elif flow.message is not None:
            self.ids.feedback.text = render(flow.message, flow.language)
        else:
            self.ids.feedback.text = ""
        if flow.card is None:
            keyboard.clear()

    def on_leave(self, *_args: object) -> None:
        self.ids.keyboard.clear()
