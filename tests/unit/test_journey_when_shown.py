"""The journey starts a DMP call only once the screen announcing it is drawn: the UI's
``when_shown`` runs it (kiosk.ui.app.KioskApp.when_shown; at once without a UI)."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.core import flow as f
from kiosk.core.journey import Journey, Services
from tests.unit.flow_paths import MARTIN, TO_CHECKING


def unused() -> object:
    raise AssertionError("not called")


def test_the_dmp_check_waits_for_the_checking_screen_to_be_drawn() -> None:
    shown: list[Callable[[], None]] = []
    asked: list[str] = []

    def practitioner() -> None:
        asked.append("practitioner")  # the DMP check's first step, on the worker

    services = Services(
        read_vitale=lambda: MARTIN, client=unused, ledger=unused,  # type: ignore[arg-type]
        practitioner=practitioner, rpps=lambda: "", check_code=unused,  # type: ignore[arg-type]
        when_shown=shown.append,
    )  # fmt: skip
    kiosk = Journey(services)
    try:
        for event in TO_CHECKING:
            if not isinstance(event, f.CardRead):  # the journey reads the card itself
                kiosk.dispatch(event)
            kiosk.wait_idle(5)
        checking = kiosk.flow.screen
        assert checking is f.Screen.CHECKING
        assert len(shown) == 1
        assert asked == []  # nothing sent while the checking screen is not on glass
        shown.pop()()
        kiosk.wait_idle(5)
        assert asked == ["practitioner"]
        # no CPS ready: the check fails as it would have at once, told to the patient
        assert (checking, kiosk.flow.screen) == (f.Screen.CHECKING, f.Screen.ERROR)
    finally:
        kiosk.close()
