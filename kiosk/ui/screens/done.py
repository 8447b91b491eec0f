"""Done: the DMP is open (or reactivated), the receipt is printing; when web access was
asked for and created, the identifier and password are on the paper — never on screen;
when it could not be created, the patient is told the DMP is open all the same."""

from __future__ import annotations

from kiosk.core.flow import Flow, Outcome, Screen
from kiosk.ui.i18n import t
from kiosk.ui.screens.base import KioskScreen


class DoneScreen(KioskScreen):
    flow_screen = Screen.DONE

    def render(self, flow: Flow) -> None:
        language = flow.language
        key = "done.reactivated" if flow.outcome is Outcome.REACTIVATED else "done.created"
        self.ids.outcome.text = t(key, language)
        self.ids.receipt.text = t("done.receipt", language)
        asked = bool(flow.choices.mobile or flow.choices.email)
        if not asked:
            self.ids.web_access.text = ""
        else:
            key = "done.web_access" if flow.web_access else "done.web_access_failed"
            self.ids.web_access.text = t(key, language)
        self.ids.remove_card.text = t("done.remove_card", language)
