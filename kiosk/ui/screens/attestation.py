"""Attestation: the pharmacist attests that consent was collected and enters the local
pharmacist code (shown as dots); wrong-code feedback comes from ``flow.message``."""

from __future__ import annotations

from kiosk.core.flow import Flow, Screen
from kiosk.ui.i18n import t, translate_message
from kiosk.ui.screens.base import KioskScreen


class AttestationScreen(KioskScreen):
    flow_screen = Screen.ATTESTATION

    def render(self, flow: Flow) -> None:
        keyboard = self.ids.keyboard
        keyboard.busy = flow.attestation_pending
        if flow.attestation_pending:
            self.ids.feedback.text = t("attestation.pending", flow.language)
        else:
            self.ids.feedback.text = translate_message(flow.message, flow.language)
        if flow.card is None:
            keyboard.clear()

    def on_leave(self, *_args: object) -> None:
        self.ids.keyboard.clear()
