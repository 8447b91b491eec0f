"""Done: the DMP is open (or reactivated), the receipt is printing; when web access was
asked for and created, the identifier and password are on the paper — never on screen;
when it could not be created, the patient is told the DMP is open all the same."""

from __future__ import annotations

from kiosk.core.flow import Flow, Outcome, Screen
from kiosk.ui.i18n import t
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.ui_text import UiText


class DoneScreen(KioskScreen):
    flow_screen = Screen.DONE

    def render(self, flow: Flow) -> None:
        language = flow.language
        reactivated = flow.outcome is Outcome.REACTIVATED
        self.ids.outcome.text = t(
            UiText.DONE_REACTIVATED if reactivated else UiText.DONE_CREATED, language
        )
        self.ids.receipt.text = t(UiText.DONE_RECEIPT, language)
        asked = bool(flow.choices.mobile or flow.choices.email)
        if not asked:
            self.ids.web_access.text = ""
        else:
            made = flow.web_access
            self.ids.web_access.text = t(
                UiText.DONE_WEB_ACCESS if made else UiText.DONE_WEB_ACCESS_FAILED, language
            )
        self.ids.remove_card.text = t(UiText.DONE_REMOVE_CARD, language)
