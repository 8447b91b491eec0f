"""The Kivy application: one ScreenManager, screens rendered from the journey's Flow.

Journey callbacks arrive on worker and card-monitor threads; they only pull a Clock
trigger, and rendering happens on the Kivy thread (DESIGN §4: Kivy must not be touched
from other threads). The screen being left is re-rendered with a wiped Flow, so no
patient data stays in a hidden widget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager
from kivy.uix.widget import Widget

from kiosk.core import flow as f
from kiosk.core.cps_session import ACCEPTED
from kiosk.core.journey import Journey
from kiosk.ui.kv import load_kv
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.registry import ADMIN, SCREENS
from kiosk.ui.speech import Speaker
from kiosk.ui.widgets import StaffLabel

if TYPE_CHECKING:  # the admin (ledger reports, exports) loads when first opened
    from kiosk.core.admin_actions import AdminActions, AdminGate
    from kiosk.ui.screens.admin import AdminScreen


log = logging.getLogger(__name__)


LEDGER_UNREADABLE = "Registre illisible : appelez le technicien (kiosk ledger verify)."
LONG_PRESS = 2.0  # seconds on the welcome screen's top-left corner opens the admin
CORNER_DP = 80
ADMIN_IDLE = 120.0  # the admin closes itself after two minutes untouched


@dataclass
class AdminContext:
    gate: AdminGate
    actions: AdminActions
    cps_state: Callable[[], str]
    # one VERIFY of the CPS with the PIN typed (card I/O: called off the Kivy thread);
    # returns the French message to show
    enter_cps_pin: Callable[[str], str] | None = None


class KioskManager(ScreenManager):  # type: ignore[misc]
    """Watches for the long press that opens the pharmacist's admin."""

    def on_touch_down(self, touch: object) -> bool:
        app = App.get_running_app()
        x, y = getattr(touch, "pos", (0, 0))
        corner = dp(CORNER_DP)
        if self.current == f.Screen.WELCOME.value and x < corner and y > self.height - corner:
            app.arm_admin()
        return bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: object) -> bool:
        App.get_running_app().disarm_admin()
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
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.size = size
        self.on_first_frame = on_first_frame
        self.admin_context = admin
        self._admin_arm: ClockEvent | None = None
        self._admin_idle: ClockEvent | None = None
        self.journey = journey
        self.on_rendered = on_rendered
        self.manager: ScreenManager | None = None
        self._render_trigger = Clock.create_trigger(self._render)
        self.rendered: f.Flow | None = None
        self.speaker = Speaker()

    def build(self) -> ScreenManager:
        from kivy.core.window import Window

        if self.size is not None:
            Window.size = self.size
        Window.bind(on_flip=self._flipped)
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
        self._render_trigger()
        return manager

    def show_staff_notice(self, text: str) -> None:
        """Set the pharmacist's line on the welcome screen (from any thread)."""
        Clock.schedule_once(lambda _dt: setattr(self, "staff_notice", text), 0)

    def _flipped(self, _window: object) -> None:
        """After each buffer swap, until the welcome screen has been shown once."""
        from kivy.core.window import Window

        if self.rendered is None:
            return
        Window.unbind(on_flip=self._flipped)
        if self.on_first_frame is not None:
            self.on_first_frame()

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
            if isinstance(widget, StaffLabel):
                continue  # for the pharmacist, not read to the patient
            if isinstance(text, str) and text.strip() and not getattr(widget, "action", ""):
                texts.append(text)
        self.speaker.say(". ".join(reversed(texts)), language)

    def tap(self, action: str, value: object = None) -> None:
        """Called by every ActionButton (and the autopilot, through those buttons)."""
        self.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    # -- pharmacist admin -------------------------------------------------------------------

    def arm_admin(self) -> None:
        if self.admin_context is not None:
            self._admin_arm = Clock.schedule_once(lambda _dt: self.show_admin(), LONG_PRESS)

    def disarm_admin(self) -> None:
        if self._admin_arm is not None:
            self._admin_arm.cancel()
            self._admin_arm = None

    def show_admin(self) -> None:
        assert self.manager is not None
        self.admin_screen().lock()
        self.manager.current = ADMIN
        self._touch_admin()

    def _touch_admin(self) -> None:
        if self._admin_idle is not None:
            self._admin_idle.cancel()
        self._admin_idle = Clock.schedule_once(lambda _dt: self.admin("close", None), ADMIN_IDLE)

    def admin(self, command: str, value: object) -> None:
        """Buttons of the admin screen: open (with the code), close, import, export,
        cps_pin (the CPS PIN typed on the keypad)."""
        if self.manager is None or self.admin_context is None:
            return
        screen = self.admin_screen()
        context = self.admin_context
        self._touch_admin()
        if command == "close":
            screen.lock()
            self.manager.current = self.screen(self.journey.flow.screen).name
            self._render_trigger()
            return
        if command == "open":
            problem = context.gate.try_code(str(value), time.monotonic())
            if problem is not None:
                screen.message, screen.message_is_error = problem, True
                return
            screen.message = ""
        elif not screen.unlocked:
            return
        elif command == "import":
            screen.message = context.actions.import_payments()
            screen.message_is_error = "refusé" in screen.message
        elif command == "export":
            screen.message = context.actions.export()
            screen.message_is_error = "impossible" in screen.message
        elif command == "cps_pin" and context.enter_cps_pin is not None:
            self._enter_cps_pin(context.enter_cps_pin, str(value))
            return
        self._show_figures(screen, context)

    def _show_figures(self, screen: AdminScreen, context: AdminContext) -> None:
        from kiosk.core.admin_actions import AdminFigures
        from kiosk.core.admin_actions import figures as admin_figures

        try:
            figures = admin_figures(context.actions.ledger(), context.cps_state())
        except Exception:  # a damaged ledger must not take the kiosk down with it
            log.exception("the admin could not read the ledger")
            screen.message, screen.message_is_error = LEDGER_UNREADABLE, True
            figures = AdminFigures.unavailable(context.cps_state())
        screen.show(figures)

    def _enter_cps_pin(self, enter: Callable[[str], str], pin: str) -> None:
        """The VERIFY runs on a thread (a card may take a while); the answer comes back
        to the Kivy thread. The PIN goes to the card once and is not kept."""
        screen = self.admin_screen()
        screen.message, screen.message_is_error = "Vérification du code CPS…", False

        def work() -> None:
            try:
                message = enter(pin)
            except Exception:  # the pharmacist must not be left on "Vérification…"
                log.exception("CPS PIN entry failed")
                message = "La CPS n'a pas pu être lue. Réessayez."
            Clock.schedule_once(lambda _dt: self._cps_pin_checked(message), 0)

        threading.Thread(target=work, name="cps-pin", daemon=True).start()

    def _cps_pin_checked(self, message: str) -> None:
        if self.admin_context is None or self.manager is None:
            return
        screen = self.admin_screen()
        screen.message, screen.message_is_error = message, message != ACCEPTED
        if screen.unlocked:
            self._show_figures(screen, self.admin_context)

    def screen(self, name: f.Screen) -> KioskScreen:
        assert self.manager is not None
        if not self.manager.has_screen(name.value):
            self.manager.add_widget(SCREENS[name](name=name.value))
        widget: KioskScreen = self.manager.get_screen(name.value)
        return widget

    def admin_screen(self) -> AdminScreen:
        from kiosk.ui.screens.admin import AdminScreen

        assert self.manager is not None
        if not self.manager.has_screen(ADMIN):
            load_kv(ADMIN)
            self.manager.add_widget(AdminScreen(name=ADMIN))
        widget: AdminScreen = self.manager.get_screen(ADMIN)
        return widget

    def _render(self, *_args: object) -> None:
        if self.manager is None:
            return
        flow = self.journey.flow
        current = self.manager.current
        target = self.screen(flow.screen)
        target.update(flow)
        if current == ADMIN:
            return  # the patient screens wait behind the admin
        if current != flow.screen.value:
            self.manager.current = flow.screen.value
            if current:
                # leave nothing of the patient in the screen we left
                self.screen(f.Screen(current)).update(f.fresh(flow, flow.last_touch))
        self.rendered = flow
        if self.on_rendered is not None:
            self.on_rendered(flow, target)
