"""The Kivy application: one ScreenManager, screens rendered from the journey's Flow.

Journey callbacks arrive on worker and card-monitor threads; they only pull a Clock
trigger, and rendering happens on the Kivy thread (DESIGN §4: Kivy must not be touched
from other threads). The screen being left is re-rendered with a wiped Flow, so no
patient data stays in a hidden widget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.widget import Widget

from kiosk import flow as f
from kiosk.journey import Journey
from kiosk.screens import SCREENS, load_kv
from kiosk.screens.base import KioskScreen
from kiosk.speech import Speaker

log = logging.getLogger(__name__)


class KioskApp(App):  # type: ignore[misc]
    title = "Borne DMP"

    def __init__(
        self,
        journey: Journey,
        on_rendered: Callable[[f.Flow, KioskScreen], None] | None = None,
        size: tuple[int, int] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.size = size
        self.journey = journey
        self.on_rendered = on_rendered
        self.manager: ScreenManager | None = None
        self._render_trigger = Clock.create_trigger(self._render)
        self.rendered: f.Flow | None = None
        self.speaker = Speaker()

    def build(self) -> ScreenManager:
        if self.size is not None:
            from kivy.core.window import Window

            Window.size = self.size
        load_kv()
        manager = ScreenManager(transition=NoTransition())
        for screen, cls in SCREENS.items():
            manager.add_widget(cls(name=screen.value))
        self.manager = manager
        previous = self.journey.on_change

        def changed(flow: f.Flow) -> None:  # any thread
            previous(flow)
            self._render_trigger()

        self.journey.on_change = changed
        Clock.schedule_interval(lambda _dt: self.journey.tick(), 1.0)
        self._render_trigger()
        return manager

    def speak(self, _screen: str, language: str) -> None:
        """Read the visible screen aloud (called from the journey; any thread)."""
        Clock.schedule_once(lambda _dt: self._speak(language), 0)

    def _speak(self, language: str) -> None:
        if self.manager is None:
            return
        texts: list[str] = []
        stack: list[Widget] = [self.manager.current_screen]
        while stack:
            widget = stack.pop()
            stack.extend(widget.children)
            text = getattr(widget, "text", "")
            if isinstance(text, str) and text.strip() and not getattr(widget, "action", ""):
                texts.append(text)
        self.speaker.say(". ".join(reversed(texts)), language)

    def tap(self, action: str, value: object = None) -> None:
        """Called by every ActionButton (and the autopilot, through those buttons)."""
        self.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    def screen(self, name: f.Screen) -> KioskScreen:
        assert self.manager is not None
        widget: KioskScreen = self.manager.get_screen(name.value)
        return widget

    def _render(self, *_args: object) -> None:
        if self.manager is None:
            return
        flow = self.journey.flow
        current = self.manager.current
        target = self.screen(flow.screen)
        target.update(flow)
        if current != flow.screen.value:
            self.manager.current = flow.screen.value
            if current:
                # leave nothing of the patient in the screen we left
                self.screen(f.Screen(current)).update(f.fresh(flow, flow.last_touch))
        self.rendered = flow
        if self.on_rendered is not None:
            self.on_rendered(flow, target)
