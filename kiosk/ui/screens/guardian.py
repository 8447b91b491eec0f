"""Guardian: a minor's DMP is opened by a legal representative, an adult named on the
card, who touches their own name and then says who they are (mother, father, guardian).
The role buttons wait for a name: nobody is picked for them."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk.core.flow import Flow, Screen
from kiosk.hardware.cards import VitaleCard
from kiosk.ui.formatting import beneficiary_label
from kiosk.ui.i18n import t
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.ui_text import UiText
from kiosk.ui.widgets import ActionButton


class GuardianScreen(KioskScreen):
    flow_screen = Screen.GUARDIAN

    chosen = BooleanProperty(False)  # an adult touched their name: the roles are open
    _shown: tuple[VitaleCard | None, str, int | None] = (None, "", None)

    def render(self, flow: Flow) -> None:
        person = flow.person
        if person is None:
            self.ids.explain.text = t(UiText.GUARDIAN_BODY_ANONYMOUS, flow.language)
        else:
            name = " ".join(p for p in (person.first_name, person.last_name) if p)
            self.ids.explain.text = t(UiText.GUARDIAN_BODY, flow.language, name=name)
        self.chosen = flow.representative is not None
        shown = (flow.card, flow.language, flow.representative)
        if shown == self._shown:
            return  # same buttons: keep them (a finger may be on one)
        self._shown = shown
        adults = self.ids.adults
        adults.clear_widgets()
        if flow.card is None:
            return
        for index in flow.adults:
            adults.add_widget(
                ActionButton(
                    action="representative",
                    value=index,
                    kind="primary" if index == flow.representative else "secondary",
                    halign="left",
                    text=beneficiary_label(flow.card.beneficiaries[index], flow.language),
                )
            )
