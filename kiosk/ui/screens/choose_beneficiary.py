"""Choose beneficiary: one button per person on the card (holder or dependant)."""

from __future__ import annotations

from kiosk.core.flow import Flow, Screen
from kiosk.hardware.cards import VitaleCard
from kiosk.ui.formatting import beneficiary_label
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import ActionButton


class ChooseBeneficiaryScreen(KioskScreen):
    flow_screen = Screen.CHOOSE

    _shown: tuple[VitaleCard | None, str] = (None, "")

    def render(self, flow: Flow) -> None:
        if (flow.card, flow.language) == self._shown and flow.card is not None:
            return  # same people: keep the buttons (a finger may be on one)
        self._shown = (flow.card, flow.language)
        people = self.ids.people
        people.clear_widgets()
        if flow.card is None:
            return
        for index, person in enumerate(flow.card.beneficiaries):
            people.add_widget(
                ActionButton(
                    action="choose",
                    value=index,
                    kind="secondary",
                    halign="left",
                    text=beneficiary_label(person, flow.language),
                )
            )
