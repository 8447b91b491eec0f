"""One soak journey through the real core: taps dispatched as the screens dispatch them,
screens waited for as the UI sees them. The card comes and goes as ``cards`` says
(:mod:`tests.resilience.soak_cards`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from typing import Any

from kiosk.core import flow as f
from kiosk.core.journey import Journey
from tests.resilience.soak_cards import Cards
from tests.resilience.soak_plan import CODE, MOBILE, Plan

SCREEN_TIMEOUT = 20.0  # a deadline (1 s) and a resolution fit many times over


class Stuck(Exception):
    """A screen that never came."""


class Driver:
    def __init__(self, cards: Cards) -> None:
        self.journey: Journey  # set once built: its callbacks are this driver's
        self.cards = cards
        self.changed = threading.Condition()
        self.outcome: f.Outcome | None = None
        self.stuck_on = ""  # where the last journey stuck, if it did

    # the journey's callbacks
    def on_change(self, _flow: f.Flow) -> None:
        with self.changed:
            self.changed.notify_all()

    def on_finished(self, outcome: f.Outcome) -> None:
        with self.changed:
            self.outcome = outcome
            self.changed.notify_all()

    def ended(self) -> f.Outcome:
        """The journey's outcome, once told: a card pulled is told on the card monitor's
        thread, after the screen is already back to welcome."""
        deadline = time.monotonic() + SCREEN_TIMEOUT
        with self.changed:
            while (outcome := self.outcome) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Stuck("on welcome, the journey's outcome never told")
                self.changed.wait(left)
        return outcome

    def wait(self, screens: Collection[f.Screen]) -> f.Screen:
        deadline = time.monotonic() + SCREEN_TIMEOUT
        with self.changed:
            while (screen := self.journey.flow.screen) not in screens:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Stuck(f"on {screen}, waiting for {'|'.join(sorted(screens))}")
                self.changed.wait(left)
        return screen

    def tap(self, action: str, value: object = None) -> None:
        self.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    def run(self, plan: Plan, profile: dict[str, Any]) -> f.Outcome | None:
        """The journey of ``plan`` with the card ``profile``; its outcome (None: stuck, the
        card pulled to end it)."""
        self.outcome, self.stuck_on = None, ""
        try:
            self._walk(plan, profile)
            self.wait({f.Screen.WELCOME})
            outcome = self.ended()
        except Stuck as exc:
            self.stuck_on = str(exc)
            self.cards.pull(self.journey)
            self.wait({f.Screen.WELCOME})
            self.journey.wait_idle(SCREEN_TIMEOUT)
            return None
        self.journey.wait_idle(SCREEN_TIMEOUT)  # the refusal's entry is the worker's
        if self.cards.inserted:
            self.cards.pull(self.journey)
        return outcome

    def _walk(self, plan: Plan, profile: dict[str, Any]) -> None:
        self.cards.insert(self.journey, profile)
        self.wait({f.Screen.CHOOSE})
        self.tap("choose", 1 if plan.child else 0)
        if plan.child:
            self.wait({f.Screen.GUARDIAN})
            self.tap("representative", 0)
            self.tap("guardian", "mere")
        checked = self.wait(
            {f.Screen.EXISTS, f.Screen.CLOSED, f.Screen.INFORMATION, f.Screen.ERROR}
        )
        if checked in (f.Screen.EXISTS, f.Screen.ERROR):
            self.tap("done")
            return
        if checked is f.Screen.CLOSED:
            self.tap("reactivate", True)
            self.wait({f.Screen.INFORMATION})
        self.tap("next")
        self.wait({f.Screen.CONSENT})
        if plan.kind == "refused":
            self.tap("refuse")
            self.tap("confirm")
            return
        self.tap("toggle", "consent")
        if plan.kind == "pulled":
            self.cards.pull(self.journey)
            return
        self.tap("next")
        self.wait({f.Screen.CONTACT})
        if plan.mobile:
            self.tap("mobile", MOBILE)
            self.tap("next")  # the web-access warning
            self.tap("next")  # confirmed
        else:
            self.tap("skip")
        self.wait({f.Screen.ATTESTATION})
        self.tap("attest", CODE)
        self.wait({f.Screen.DONE, f.Screen.ERROR})
        self.tap("done")
