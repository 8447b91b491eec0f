"""What every screen shares: the header (title, text size, language, read aloud,
cancel), the body its own .kv fills, the "are you still there?" banner, the "do you
really want to stop?" question (:class:`ConfirmBanner`) and, in speech mode, the speech
bar at the bottom (repeat, stop, rate, volume: :mod:`kiosk.ui.speech_mode`).

A screen's .kv rule only describes its body; :class:`KioskScreen` moves that content
into a :class:`KioskFrame` built from base.kv. ``update(flow)`` renders the flow; the
screens never change it, they only send taps through their ActionButtons.

The text step (``Flow.text_size``) is the screen's ``text_step``: every widget of the
screen with a ``step`` property follows it (:meth:`KioskScreen.follow_step`), so a rule
sizes its text with ``theme.body_sp(self.step)`` and the like.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, TypeVar

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.core.flow import Flow
from kiosk.core.flow import Screen as FlowScreen
from kiosk.ui.i18n import t
from kiosk.ui.kv import load_kv
from kiosk.ui.theme import LARGE
from kiosk.ui.ui_text import UiText
from kiosk.ui.widgets import ConfirmBanner, Overlay, SpeechBar, StillThereBanner, step_property

OverlayT = TypeVar("OverlayT", bound=Overlay)


def give_step(root: Widget, step: str, seen: set[int] | None = None) -> None:
    """``step`` to every widget of ``root``'s tree that has a ``step`` property (those
    in ``seen``, widget ids, skipped; the ones given are added to it)."""
    seen = set() if seen is None else seen
    for widget in walk(root):
        if id(widget) not in seen:
            seen.add(id(widget))
            if widget.property("step", quiet=True) is not None:
                widget.step = step


def walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from walk(child)


class KioskFrame(FloatLayout):  # type: ignore[misc]
    """Header + body, with room on top for the banner."""

    language = StringProperty("fr")
    title = StringProperty("")
    show_cancel = BooleanProperty(True)
    step = step_property()

    def on_kv_post(self, _base_widget: object) -> None:
        self._buttons = self.ids.buttons.__self__  # strong refs: ids are weak
        self._button_row = self.ids.button_row.__self__
        self._button_row.parent.remove_widget(self._button_row)
        self._place_buttons()

    def on_step(self, _instance: object, _step: str) -> None:
        self._place_buttons()

    def _place_buttons(self) -> None:
        """Right of the title, or at the large step on their own row under it."""
        target = self._button_row if self.step == LARGE else self.ids.title_row
        if self._buttons.parent is target:
            return
        if self._buttons.parent is not None:
            self._buttons.parent.remove_widget(self._buttons)
        target.add_widget(self._buttons)
        header = self.ids.header
        if self.step == LARGE and self._button_row.parent is None:
            header.add_widget(self._button_row)
        elif self.step != LARGE and self._button_row.parent is not None:
            header.remove_widget(self._button_row)


class KioskScreen(Screen):  # type: ignore[misc]
    """One step of the journey. Subclasses set ``flow_screen`` and override ``render``."""

    flow_screen: ClassVar[FlowScreen]
    language = StringProperty("fr")
    text_step = step_property()

    def __init__(self, **kwargs: object) -> None:
        load_kv(self.flow_screen.value)  # this screen's rules, before it is built
        kwargs.setdefault("name", self.flow_screen.value)
        super().__init__(**kwargs)
        content = list(reversed(self.children))  # what this screen's .kv rule built
        for widget in content:
            self.remove_widget(widget)
        self.frame = KioskFrame(language=self.language)
        if self.flow_screen is FlowScreen.WELCOME:
            self.frame.ids.buttons.remove_widget(self.frame.ids.cancel)
            self.frame.show_cancel = False
        for widget in content:
            self.frame.ids.body.add_widget(widget)
        self.add_widget(self.frame)
        self.bind(language=self.frame.setter("language"))
        # the overlays and the speech bar are built the first time they are shown: most
        # screens never show them, and each is a few dozen widgets more per screen
        self._banner: StillThereBanner | None = None
        self._confirm_banner: ConfirmBanner | None = None
        self._speech_bar: SpeechBar | None = None

    @property
    def banner(self) -> StillThereBanner:
        """The "are you still there?" banner (built on first use)."""
        if self._banner is None:
            self._banner = self._overlay(StillThereBanner(language=self.language))
        return self._banner

    @property
    def confirm_banner(self) -> ConfirmBanner:
        """The "do you really want to stop?" question (built on first use)."""
        if self._confirm_banner is None:
            self._confirm_banner = self._overlay(ConfirmBanner(language=self.language))
        return self._confirm_banner

    @property
    def speech_bar(self) -> SpeechBar:
        """The speech bar (built on first use)."""
        if self._speech_bar is None:
            bar = SpeechBar(language=self.language)
            self.bind(language=bar.setter("language"))
            give_step(bar, self.text_step)  # now, as follow_step gives it later
            self._speech_bar = bar
        return self._speech_bar

    def _overlay(self, overlay: OverlayT) -> OverlayT:
        """``overlay`` following the screen's language and step, below the header."""
        self.bind(language=overlay.setter("language"))
        header = self.frame.ids.header
        header.bind(height=overlay.setter("header_height"))
        overlay.header_height = header.height
        give_step(overlay, self.text_step)
        return overlay

    def update(self, flow: Flow) -> None:
        """Show ``flow``: header texts in its language, the banner, then the body."""
        self.language = flow.language
        self.text_step = flow.text_size
        self.frame.title = self.title_text(flow)
        self.show_banner(flow.warning)
        self.show_confirmation(flow.confirming)
        self.show_speech_bar(flow.speech)
        self.render(flow)
        self.follow_step()

    def title_text(self, flow: Flow) -> str:
        return t(UiText(f"{self.flow_screen.value}.title"), flow.language)

    def render(self, flow: Flow) -> None:
        """Fill the body from ``flow``; a flow without a card must clear patient data."""

    def show_banner(self, shown: bool) -> None:
        if shown or self._banner is not None:
            self._show(self.banner, shown)

    def show_confirmation(self, confirming: str | None) -> None:
        """The question of "Annuler" / "Je refuse" (``confirming``), or none (None)."""
        if confirming is not None:
            self.confirm_banner.question = confirming
        if confirming is not None or self._confirm_banner is not None:
            self._show(self.confirm_banner, confirming is not None)

    def _show(self, overlay: Overlay, shown: bool) -> None:
        if shown and overlay.parent is None:
            self.frame.add_widget(overlay)
        elif not shown and overlay.parent is not None:
            self.frame.remove_widget(overlay)

    def follow_step(self) -> None:
        """Every widget of the screen with a ``step``, shown or kept aside (overlays, an
        editor), takes the screen's text step."""
        seen: set[int] = set()
        for root in [self, *(v for v in vars(self).values() if isinstance(v, Widget))]:
            give_step(root, self.text_step, seen)

    def on_text_step(self, _instance: object, _step: str) -> None:
        self.follow_step()

    def show_speech_bar(self, shown: bool) -> None:
        """At the bottom of the frame's column, under the body, only in speech mode."""
        if not shown and self._speech_bar is None:
            return
        column = self.frame.ids.header.parent
        if shown and self.speech_bar.parent is None:
            column.add_widget(self.speech_bar, index=0)
        elif not shown and self.speech_bar.parent is not None:
            self.speech_bar.parent.remove_widget(self.speech_bar)
