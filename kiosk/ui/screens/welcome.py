"""Welcome: the big "Ouvrir mon DMP" button, how to switch speech on (a long press
anywhere), a word on privacy and, after a patient pulled the card during a creation,
where their accusé is."""

from __future__ import annotations

from kiosk.core.flow import Flow, Screen
from kiosk.ui.i18n import render
from kiosk.ui.screens.base import KioskScreen


class WelcomeScreen(KioskScreen):
    flow_screen = Screen.WELCOME

    def render(self, flow: Flow) -> None:
        notice = flow.notice
        self.ids.notice.text = render(notice, flow.language) if notice is not None else ""
