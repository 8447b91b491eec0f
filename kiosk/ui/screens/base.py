"""What every screen shares: the header (title, language, read aloud, cancel), the body
its own .kv fills, and the "are you still there?" banner.

A screen's .kv rule only describes its body; :class:`KioskScreen` moves that content
into a :class:`KioskFrame` built from base.kv. ``update(flow)`` renders the flow; the
screens never change it, they only send taps through their ActionButtons.
"""

from __future__ import annotations

from typing import ClassVar

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import Screen

from kiosk.core.flow import Flow
from kiosk.core.flow import Screen as FlowScreen
from kiosk.ui.i18n import t
from kiosk.ui.kv import load_kv
from kiosk.ui.ui_text import UiText
from kiosk.ui.widgets import StillThereBanner


class KioskFrame(FloatLayout):  # type: ignore[misc]
    """Header + body, with room on top for the banner."""

    language = StringProperty("fr")
    title = StringProperty("")
    show_cancel = BooleanProperty(True)


class KioskScreen(Screen):  # type: ignore[misc]
    """One step of the journey. Subclasses set ``flow_screen`` and override ``render``."""

    flow_screen: ClassVar[FlowScreen]
    language = StringProperty("fr")

    def __init__(self, **kwargs: object) -> None:
        load_kv(self.flow_screen.value)  # this screen's rules, before it is built
        kwargs.setdefault("name", self.flow_screen.value)
        super().__init__(**kwargs)
        content = list(reversed(self.children))  # what this screen's .kv rule built
        for widget in content:
            self.remove_widget(widget)
        self.frame = KioskFrame(language=self.language)
        if self.flow_screen is FlowScreen.WELCOME:
            self.frame.ids.header.remove_widget(self.frame.ids.cancel)
            self.frame.show_cancel = False
        for widget in content:
            self.frame.ids.body.add_widget(widget)
        self.add_widget(self.frame)
        self.bind(language=self.frame.setter("language"))
        self.banner = StillThereBanner(language=self.language)
        self.bind(language=self.banner.setter("language"))

    def update(self, flow: Flow) -> None:
        """Show ``flow``: header texts in its language, the banner, then the body."""
        self.language = flow.language
        self.frame.title = self.title_text(flow)
        self.show_banner(flow.warning)
        self.render(flow)

    def title_text(self, flow: Flow) -> str:
        return t(UiText(f"{self.flow_screen.value}.title"), flow.language)

    def render(self, flow: Flow) -> None:
        """Fill the body from ``flow``; a flow without a card must clear patient data."""

    def show_banner(self, shown: bool) -> None:
        if shown and self.banner.parent is None:
            self.frame.add_widget(self.banner)
        elif not shown and self.banner.parent is not None:
            self.frame.remove_widget(self.banner)
