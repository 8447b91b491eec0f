"""The Kivy application: one ScreenManager, screens rendered from the journey's Flow.

Journey callbacks arrive on worker and card-monitor threads; they only pull a Clock
trigger, and rendering happens on the Kivy thread (Kivy must not be touched from other
threads: docs/architecture.md §4). The screen being left is re-rendered with a wiped
Flow, so no patient data stays in a hidden widget. Speech mode (what is said when, the
gestures) is :class:`kiosk.ui.speech_mode.SpeechMode`, told of each render.

Screens are built on first use, and the one a creation goes to next is built ahead: a
moment after a screen is on glass (:data:`PREBUILD_AFTER_S`), while the patient reads
it, one screen per Kivy frame (:data:`LIKELY_NEXT`). Building a screen (its .kv rules,
its widgets) takes a long frame, 30 ms here and over 100 ms on a Raspberry Pi 4 core;
ahead of time it is not in the tap's answer, nor on CREATING's frames while TD1.1 is in
flight. Only the creation's path is built ahead: the rarer screens cost their memory
only when shown. The screens left behind are dropped in turn (:meth:`KioskApp._drop`),
before those ahead are built (their memory is reused: the peak of a journey 1 MiB lower):
once the patient waits on a screen (no DMP call in flight), every screen but the welcome
screen, this one and those likely next goes, with one pass of the garbage collector; a
journey holds three or four screens at a time instead of all it went through, and the
C heap's free pages go back to the kernel (:func:`kiosk.heap.trim_heap`).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core import flow as f
from kiosk.core.cps_session import CpsStatus
from kiosk.core.journey import Journey
from kiosk.heap import trim_heap
from kiosk.messages import Message
from kiosk.ui.admin_desk import CORNER_DP, AdminContext, AdminDesk
from kiosk.ui.i18n import render, t
from kiosk.ui.kv import load_kv
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.registry import ADMIN, SCREENS
from kiosk.ui.speech import Speaker
from kiosk.ui.speech_mode import SpeechMode
from kiosk.ui.ui_text import UiText

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

    from kiosk.ui.screens.admin import AdminScreen

__all__ = ["AdminContext", "KioskApp"]

log = logging.getLogger(__name__)

# the screens built ahead once a screen is shown: the creation's path (DONE before TD1.1)
LIKELY_NEXT: dict[f.Screen, tuple[f.Screen, ...]] = {
    f.Screen.WELCOME: (f.Screen.CHOOSE,),
    f.Screen.READING: (f.Screen.CHOOSE,),
    f.Screen.CHOOSE: (f.Screen.CHECKING,),
    f.Screen.CHECKING: (f.Screen.INFORMATION,),
    f.Screen.INFORMATION: (f.Screen.CONSENT,),
    f.Screen.CONSENT: (f.Screen.CONTACT,),
    f.Screen.CONTACT: (f.Screen.ATTESTATION,),
    f.Screen.ATTESTATION: (f.Screen.CREATING, f.Screen.DONE),
}
PREBUILD_AFTER_S = 0.15  # the new screen's first frames come first
# screens during which the kiosk works (card read, DMP calls): no screen dropped then, the
# collector's pass (a few ms here, more on a Pi) would be a frame gap in that work
BUSY = frozenset({f.Screen.READING, f.Screen.CHECKING, f.Screen.CREATING})
PREBUILD_AFTER_START_S = 2.0  # at start-up, behind the services' loading (READY=1)
# a DMP call waits for the screen that announces it to be drawn at most this long
SHOWN_AT_LATEST_S = 0.25


class KioskManager(ScreenManager):  # type: ignore[misc]
    """Watches for the long press that opens the pharmacist's admin."""

    def on_touch_down(self, touch: object) -> bool:
        app = App.get_running_app()
        x, y = getattr(touch, "pos", (0, 0))
        corner = dp(CORNER_DP)
        in_corner = x < corner and y > self.height - corner
        if self.current == f.Screen.WELCOME.value and in_corner:
            app.arm_admin()
        if self.current != ADMIN:  # the long press that switches speech on
            app.speech_mode.touch_down(touch, in_corner and self.current == f.Screen.WELCOME.value)
        return bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: object) -> bool:
        app = App.get_running_app()
        app.disarm_admin()
        app.speech_mode.touch_up(touch)
        return bool(super().on_touch_up(touch))


class KioskApp(App):  # type: ignore[misc]
    title = "Borne DMP"
    # a line for the pharmacist on the welcome screen ("CPS absente"…); "" when all is well
    staff_notice = StringProperty("")

    def __init__(
        self,
        journey: Journey,
        on_rendered: Callable[[f.Flow, KioskScreen], None] | None = None,
        size: tuple[int, int] | None = None,
        admin: AdminContext | None = None,
        on_first_frame: Callable[[], None] | None = None,
        heartbeat: tuple[float, Callable[[], None]] | None = None,
        speaker: Speaker | None = None,
        **kwargs: object,
    ) -> None:
        """``heartbeat``: (seconds, callback) run on the Kivy loop, the watchdog's ping;
        it stops when the loop is frozen. ``speaker``: where speech goes ([speech])."""
        super().__init__(**kwargs)
        self.size = size
        self.heartbeat = heartbeat
        self.on_first_frame = on_first_frame
        self.journey = journey
        self.admin_desk = None if admin is None else AdminDesk(
            admin, lambda: self.manager, lambda: self.journey.flow.language, self._leave_admin
        )  # fmt: skip
        self._cps_notice: CpsStatus | None = None
        self._printer_notice: tuple[Message, ...] = ()
        self.on_rendered = on_rendered
        self.manager: ScreenManager | None = None
        self._render_trigger = Clock.create_trigger(self._render)
        self.rendered: f.Flow | None = None
        self._patient_screen = f.Screen.WELCOME  # the patient screen last updated
        self._started = False  # the first render done (start-up's prebuild waits longer)
        self.speaker = speaker or Speaker()
        self.speech_mode = SpeechMode(self, self.speaker)
        # everything said, as (screen, text, "speaker"|"headset"): the autopilot's transcript
        self.on_spoken: Callable[[str, str, str], None] | None = None

    def build(self) -> ScreenManager:
        from kivy.core.window import Window

        if self.size is not None:
            Window.size = self.size
        Window.bind(on_flip=self._flipped)
        Window.bind(on_request_close=lambda *_args, **_kwargs: True)  # a kiosk is never closed
        load_kv(f.Screen.WELCOME.value)
        manager = KioskManager(transition=NoTransition())
        # Screens are built on first use (Kivy showcase style): start-up builds one.
        manager.add_widget(SCREENS[f.Screen.WELCOME](name=f.Screen.WELCOME.value))
        self.manager = manager
        previous = self.journey.on_change

        def changed(flow: f.Flow) -> None:  # any thread
            previous(flow)
            self._render_trigger()

        self.journey.on_change = changed
        Clock.schedule_interval(lambda _dt: self.journey.tick(), 1.0)
        if self.heartbeat is not None:
            interval, beat = self.heartbeat
            beat()
            Clock.schedule_interval(lambda _dt: beat(), interval)
        self._render_trigger()
        return manager

    def show_cps_notice(self, status: CpsStatus | None) -> None:
        """The CPS part of the pharmacist's line on the welcome screen (None: all is
        well); from any thread."""
        Clock.schedule_once(lambda _dt: self._notice(status, self._printer_notice), 0)

    def show_printer_notice(self, messages: tuple[Message, ...]) -> None:
        """The receipt printer's part of the pharmacist's line (() when all went well);
        from any thread."""
        Clock.schedule_once(lambda _dt: self._notice(self._cps_notice, messages), 0)

    def _notice(self, cps: CpsStatus | None, printer: tuple[Message, ...]) -> None:
        self._cps_notice, self._printer_notice = cps, printer
        self._render_notice(self.journey.flow.language)

    def _render_notice(self, language: str) -> None:
        parts = []
        if self._cps_notice is not None:
            parts.append(t(UiText.STAFF_CPS, language, cps=self._cps_notice))
        if self._printer_notice:
            parts.append(" ".join(render(message, language) for message in self._printer_notice))
        self.staff_notice = " · ".join(parts)

    def _flipped(self, _window: object) -> None:
        """At each frame's flip until the welcome screen is in one: ``on_first_frame``
        then runs on the next Clock tick. Handlers of ``on_flip`` run before the buffer
        swap itself; what the first frame starts (card monitor, services) must not delay
        it (measured here: the swap 30-50 ms later, the services' loading holding the GIL)."""
        from kivy.core.window import Window

        if self.rendered is None:
            return
        Window.unbind(on_flip=self._flipped)
        first_frame = self.on_first_frame
        if first_frame is not None:
            Clock.schedule_once(lambda _dt: first_frame(), 0)

    def when_shown(self, start: Callable[[], None]) -> None:
        """Run ``start`` on the Kivy thread once the screen being rendered is on glass:
        on the tick after the next flip, or :data:`SHOWN_AT_LATEST_S` from now if no
        flip comes (nothing changed on screen). From any thread. The journey starts its
        DMP calls so (``Services.when_shown``): the "checking" or "creating" screen is
        drawn before the call's first burst of work, not beside it. An app never built
        (a kiosk run without its window: tests/resilience/chaos_site.py) has no screen
        to wait for: ``start`` runs at once."""
        if self.manager is None:
            start()
            return
        Clock.schedule_once(lambda _dt: self._after_next_flip(start), 0)

    def _after_next_flip(self, start: Callable[[], None]) -> None:
        from kivy.core.window import Window

        def run(*_args: object) -> None:
            if not pending:
                return
            pending.clear()
            Window.unbind(on_flip=flipped)
            at_latest.cancel()
            start()

        def flipped(_window: object) -> None:  # before the swap: run on the next tick
            Clock.schedule_once(run, 0)

        pending = [start]
        Window.bind(on_flip=flipped)
        at_latest = Clock.schedule_once(run, SHOWN_AT_LATEST_S)

    def speak(self, _screen: str, _language: str) -> None:
        """The header's "Écouter": the screen aloud (called from the journey; any thread)."""
        Clock.schedule_once(lambda _dt: self.speech_mode.read_aloud(), 0)

    def explore(self, widget: Widget) -> bool:
        """A control released: True when it acts (speech mode: its second touch)."""
        return self.speech_mode.explore(widget)

    def typed(self, widget: Widget) -> None:
        self.speech_mode.typed(widget)

    def speech_command(self, command: str) -> None:
        """The speech bar: repeat, stop, slower, faster, quieter, louder."""
        self.speech_mode.command(command)

    def on_stop(self) -> None:
        self.speaker.close()

    def tap(self, action: str, value: object = None) -> None:
        """Called by every ActionButton (and the autopilot, through those buttons)."""
        self.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    # -- pharmacist admin (kiosk.ui.admin_desk) ---------------------------------------------

    def arm_admin(self) -> None:
        if self.admin_desk is not None:
            self.admin_desk.arm()

    def disarm_admin(self) -> None:
        if self.admin_desk is not None:
            self.admin_desk.disarm()

    def admin(self, command: str, value: object) -> None:
        """The admin screen's buttons."""
        if self.admin_desk is not None:
            self.admin_desk.command(command, value)

    def admin_screen(self) -> AdminScreen:
        assert self.admin_desk is not None
        return self.admin_desk.screen()

    def _leave_admin(self) -> None:
        assert self.manager is not None
        self.manager.current = self.screen(self.journey.flow.screen).name
        self._render_trigger()

    def screen(self, name: f.Screen) -> KioskScreen:
        assert self.manager is not None
        if not self.manager.has_screen(name.value):
            self.manager.add_widget(SCREENS[name](name=name.value))
        widget: KioskScreen = self.manager.get_screen(name.value)
        return widget

    def _render(self, *_args: object) -> None:
        if self.manager is None:
            return
        flow = self.journey.flow
        current = self.manager.current
        self._render_notice(flow.language)
        target = self.screen(flow.screen)
        target.update(flow)
        left, self._patient_screen = self._patient_screen, flow.screen
        if left is not flow.screen and self._built(left):
            # leave nothing of the patient in the screen the flow left, even behind the admin
            self.screen(left).update(f.fresh(flow, flow.last_touch))
        if current == ADMIN:
            if not flow.speech:
                self.speech_mode.silence()
            return  # the patient screens wait behind the admin
        if current != flow.screen.value:
            self.manager.current = flow.screen.value
        self.rendered = flow
        self.speech_mode.rendered(flow)
        if flow.screen not in BUSY:  # the screens left go before those ahead are built
            shown = flow.screen
            Clock.schedule_once(lambda _dt: self._drop(shown), PREBUILD_AFTER_S)
        self._prebuild_after(flow.screen)
        if self.on_rendered is not None:
            self.on_rendered(flow, target)

    def _prebuild_after(self, shown: f.Screen) -> None:
        """Build the screens likely next after ``shown``, on later frames."""
        delay = PREBUILD_AFTER_S if self._started else PREBUILD_AFTER_START_S
        self._started = True
        if any(not self._built(name) for name in LIKELY_NEXT.get(shown, ())):
            Clock.schedule_once(lambda _dt: self._prebuild(shown), delay)

    def _built(self, name: f.Screen) -> bool:
        return self.manager is not None and bool(self.manager.has_screen(name.value))

    def _prebuild(self, shown: f.Screen) -> None:
        """One screen likely next, if the patient is still on ``shown``; the next one on
        the next frame."""
        if self.manager is None or self.journey.flow.screen is not shown:
            return  # moved on: that render prebuilds its own
        missing = [name for name in LIKELY_NEXT.get(shown, ()) if not self._built(name)]
        if missing:
            self.screen(missing[0])
        if len(missing) > 1:
            Clock.schedule_once(lambda _dt: self._prebuild(shown), 0)

    def _drop(self, shown: f.Screen) -> None:
        """If the patient is still on ``shown``: the screens neither shown, nor the
        welcome screen, nor likely next go (each was wiped when left), then one pass of
        the collector frees them (widgets hold cycles), and the C heap's free pages (what
        the screens left drew with, and this one's first frames) go back to the kernel."""
        manager, flow = self.manager, self.journey.flow
        if manager is None or manager.current != shown.value or flow.screen is not shown:
            return  # moved on (or the admin is open): a later render drops
        keep = {ADMIN, f.Screen.WELCOME.value, shown.value}
        keep.update(name.value for name in LIKELY_NEXT.get(shown, ()))
        dropped = [s for s in manager.screens if isinstance(s, KioskScreen) and s.name not in keep]
        for screen in dropped:
            manager.remove_widget(screen)
        if dropped:
            gc.collect()
        trim_heap()
