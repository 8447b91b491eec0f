"""Contact: an optional mobile and/or e-mail for web access, typed on an on-screen
keyboard. The first "Suivant" with a contact shows the web-access warning (the flow
decides); "Passer" goes on without one.

The screen shows either the summary (both fields, the warning, Passer / Suivant) or the
keyboard for one field; the keyboard's "Valider" sends ``Tap("mobile"|"email", text)``.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.core.flow import Flow, Screen
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import acts


class ContactScreen(KioskScreen):
    flow_screen = Screen.CONTACT

    mobile = StringProperty("")
    email = StringProperty("")
    warned = BooleanProperty(False)
    editing = StringProperty("")  # "", "mobile" or "email"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._summary = self.ids.summary.__self__  # strong refs: ids are weak
        self._editor = self.ids.editor.__self__
        self.ids.holder.remove_widget(self._editor)

    def field_released(self, button: Widget, field: str) -> None:
        """A field touched: in speech mode the first touch says it, the second opens its
        keyboard, as for every control."""
        if acts(button):
            self.edit(field)

    def edit(self, field: str) -> None:
        """Open the keyboard for ``field`` with what the flow holds (a plain tap, local)."""
        keyboard = self.ids.keyboard
        keyboard.purpose = field
        keyboard.buffer = self.mobile if field == "mobile" else self.email
        self.editing = field
        self.ids.holder.clear_widgets()
        self.ids.holder.add_widget(self._editor)

    def close_editor(self) -> None:
        self.ids.keyboard.clear()
        self.editing = ""
        self.ids.holder.clear_widgets()
        self.ids.holder.add_widget(self._summary)

    def render(self, flow: Flow) -> None:
        choices = flow.choices
        self.mobile = choices.mobile or ""
        self.email = choices.email or ""
        self.warned = choices.web_access_warned
        if flow.card is None and self.editing:
            self.close_editor()

    def on_leave(self, *_args: object) -> None:
        if self.editing:
            self.close_editor()
