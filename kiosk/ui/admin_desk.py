"""The pharmacist's admin behind the welcome screen: a long press (2 s) on its top-left
corner, the pharmacist code (the one gate of :mod:`kiosk.core.code_gate`), then the
figures, payment import, exports and the CPS PIN typed on the keypad. It closes itself
after two minutes untouched. Runs on the Kivy thread; the CPS exchange runs off it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kivy.clock import Clock, ClockEvent

from kiosk.core.code_gate import Accepted, CodeGate, CodeVerdict
from kiosk.core.cps_session import CpsStatus, PinAnswer, PinEntry
from kiosk.ui.kv import load_kv
from kiosk.ui.screens.registry import ADMIN
from kiosk.ui.ui_text import UiText

if TYPE_CHECKING:  # the admin (ledger reports, exports) loads when first opened
    from kivy.uix.screenmanager import ScreenManager

    from kiosk.core.admin_actions import AdminActions
    from kiosk.ui.screens.admin import AdminScreen

log = logging.getLogger(__name__)

LONG_PRESS = 2.0  # seconds on the welcome screen's top-left corner opens the admin
CORNER_DP = 80
ADMIN_IDLE = 120.0  # the admin closes itself after two minutes untouched


@dataclass
class AdminContext:
    gate: CodeGate
    # built when the admin first needs it (payments import, exports, figures), not before
    # the welcome screen: it loads the ledger's reports and exports
    actions: Callable[[], AdminActions]
    cps_state: Callable[[], CpsStatus]
    # one VERIFY of the CPS with the PIN typed (card I/O: called off the Kivy thread)
    enter_cps_pin: Callable[[str], PinAnswer] | None = None


class AdminDesk:
    def __init__(
        self,
        context: AdminContext,
        manager: Callable[[], ScreenManager | None],
        language: Callable[[], str],
        back_to_journey: Callable[[], None],
    ) -> None:
        self.context = context
        self._manager = manager
        self._language = language
        self._back = back_to_journey
        self._arm: ClockEvent | None = None
        self._idle: ClockEvent | None = None

    # -- opening ---------------------------------------------------------------------------

    def arm(self) -> None:
        self._arm = Clock.schedule_once(lambda _dt: self.show(), LONG_PRESS)

    def disarm(self) -> None:
        if self._arm is not None:
            self._arm.cancel()
            self._arm = None

    def show(self) -> None:
        manager = self._manager()
        assert manager is not None
        screen = self.screen()
        screen.language = self._language()
        screen.lock()
        manager.current = ADMIN
        self._touched()

    def screen(self) -> AdminScreen:
        from kiosk.ui.screens.admin import AdminScreen

        manager = self._manager()
        assert manager is not None
        if not manager.has_screen(ADMIN):
            load_kv(ADMIN)
            manager.add_widget(AdminScreen(name=ADMIN))
        widget: AdminScreen = manager.get_screen(ADMIN)
        return widget

    def _touched(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = Clock.schedule_once(lambda _dt: self.command("close", None), ADMIN_IDLE)

    # -- the screen's buttons ---------------------------------------------------------------

    def command(self, name: str, value: object) -> None:
        """open (with the code), close, import, export, cps_pin (the PIN typed)."""
        if self._manager() is None:
            return
        screen, context = self.screen(), self.context
        self._touched()
        if name == "close":
            screen.lock()
            self._back()
            return
        if name == "open":
            self._try_code(str(value))
            return
        if not screen.unlocked:
            return
        elif name in ("import", "export"):
            result = context.actions().import_payments() if name == "import" else (
                context.actions().export()
            )  # fmt: skip
            screen.say(result, error=result.error)
        elif name == "cps_pin" and context.enter_cps_pin is not None:
            self._enter_cps_pin(context.enter_cps_pin, str(value))
            return
        self._show_figures(screen)

    def _try_code(self, code: str) -> None:
        """The code's scrypt check takes a tenth of a second here, more on a Pi: on a
        thread, the verdict back on the Kivy thread."""
        self.screen().say_text(UiText.ADMIN_CODE_CHECKING, error=False)
        gate = self.context.gate

        def work() -> None:
            verdict = gate.try_code(code)
            Clock.schedule_once(lambda _dt: self._code_checked(verdict), 0)

        threading.Thread(target=work, name="admin-code", daemon=True).start()

    def _code_checked(self, verdict: CodeVerdict) -> None:
        if self._manager() is None:
            return
        screen = self.screen()
        if not isinstance(verdict, Accepted):
            screen.say(verdict, error=True)
            return
        screen.message = ""
        self._show_figures(screen)

    def _show_figures(self, screen: AdminScreen) -> None:
        from kiosk.core.admin_figures import AdminFigures, figures

        cps = self.context.cps_state()
        try:
            shown = figures(self.context.actions().ledger(), cps)
        except Exception:  # a damaged ledger must not take the kiosk down with it
            log.exception("the admin could not read the ledger")
            screen.say_text(UiText.ADMIN_LEDGER_UNREADABLE, error=True)
            shown = AdminFigures.unavailable(cps)
        screen.show(shown)

    def _enter_cps_pin(self, enter: Callable[[str], PinAnswer], pin: str) -> None:
        """The VERIFY runs on a thread (a card may take a while); the answer comes back
        to the Kivy thread. The PIN goes to the card once and is not kept."""
        self.screen().say_text(UiText.ADMIN_CPS_CHECKING, error=False)

        def work() -> None:
            answer: PinAnswer
            try:
                answer = enter(pin)
            except Exception:  # the pharmacist must not be left on "Vérification…"
                log.exception("CPS PIN entry failed")
                answer = PinEntry.FAILED
            Clock.schedule_once(lambda _dt: self._cps_pin_checked(answer), 0)

        threading.Thread(target=work, name="cps-pin", daemon=True).start()

    def _cps_pin_checked(self, answer: PinAnswer) -> None:
        if self._manager() is None:
            return
        screen = self.screen()
        screen.say(answer, error=answer is not PinEntry.ACCEPTED)
        if screen.unlocked:
            self._show_figures(screen)
