"""Consent: "I agree" (required, unticked), emergency and SAMU-centre 15 access (ticked
by default), "Je refuse", and "Suivant" only once consent is ticked."""

from __future__ import annotations

from kiosk.core.consent_text import declaration
from kiosk.core.flow import Flow, Screen
from kiosk.ui.screens.base import KioskScreen


class ConsentScreen(KioskScreen):
    flow_screen = Screen.CONSENT

    def render(self, flow: Flow) -> None:
        choices = flow.choices
        role = flow.guardian_role if flow.needs_guardian else None
        self.ids.declaration.text = declaration(role, flow.language) if role else ""
        self.ids.consent.checked = choices.consent
        self.ids.bris_de_glace.checked = choices.bris_de_glace
        self.ids.centre15.checked = choices.centre15
        self.ids.next.disabled = not choices.consent
