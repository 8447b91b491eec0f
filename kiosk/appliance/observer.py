"""The public hook for whoever watches a running kiosk from outside its code: the
autopilot and the demo's pharmacist (:mod:`kiosk.sim`), the tests and the benchmarks.
An observer sees what the kiosk shows and does; it acts only as a person would (by
pressing the widgets it is shown, or typing the CPS PIN as the pharmacist does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.core.cps_session import CpsStatus
    from kiosk.core.flow import Flow, Outcome
    from kiosk.ui.screens.base import KioskScreen


class KioskObserver:
    """Override what you need; every method does nothing by default."""

    def rendered(self, flow: Flow, screen: KioskScreen) -> None:
        """A journey state was drawn (the Kivy thread)."""

    def finished(self, outcome: Outcome) -> None:
        """A journey ended (the thread of the event that ended it: Kivy's for a tap or a
        tick, the card monitor's for a card pulled)."""

    def cps_changed(self, status: CpsStatus) -> None:
        """The pharmacist's CPS changed state (the thread that talked to the card)."""

    def ready(self) -> None:
        """Services up and the CPS ready: a patient can be served (any thread)."""
