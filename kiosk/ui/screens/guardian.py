"""Guardian: a minor's DMP is opened by a legal representative, who says who they are."""

from __future__ import annotations

from kiosk.core.flow import Flow, Screen
from kiosk.ui.i18n import t
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.ui_text import UiText


class GuardianScreen(KioskScreen):
    flow_screen = Screen.GUARDIAN

    def render(self, flow: Flow) -> None:
        person = flow.person
        if person is None:
            self.ids.explain.text = t(UiText.GUARDIAN_BODY_ANONYMOUS, flow.language)
        else:
            name = " ".join(p for p in (person.first_name, person.last_name) if p)
            self.ids.explain.text = t(UiText.GUARDIAN_BODY, flow.language, name=name)
