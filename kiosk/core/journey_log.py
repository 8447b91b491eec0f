"""What a technician reads of a patient's journey: an id, each screen with its duration,
the outcome and the error's key — never who the patient was.

:class:`JourneyLog` watches the flow's transitions (the journey calls :meth:`observe`
after each event, under its lock) and writes structured lines (:func:`kiosk.logs.event`):

- ``journey.start`` when a journey leaves the welcome screen, with its ``journey`` id;
- ``journey.step`` each time a screen is left: ``step`` (the screen), ``duration_ms``,
  and ``error`` (the message's key) for an error screen;
- ``journey.end``: ``outcome``, ``duration_ms``, ``steps`` (``screen:ms`` in order).

Work the journey's worker does for the journey (card read, DMP calls, ledger) runs in
:func:`kiosk.logs.context` with the same id, so its lines carry it too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from kiosk.core import flow as f
from kiosk.logs import event

log = logging.getLogger(__name__)


def new_journey_id() -> str:
    return os.urandom(4).hex()  # secrets.token_hex, without hmac/hashlib before the first frame


class JourneyLog:
    def __init__(
        self, clock: Callable[[], float], new_id: Callable[[], str] = new_journey_id
    ) -> None:
        self.clock = clock
        self.new_id = new_id
        self.journey_id: str | None = None
        self._started = 0.0
        self._entered = 0.0
        self._steps: list[str] = []

    def observe(self, before: f.Flow, after: f.Flow) -> None:
        """After one event: log the screen left, if it changed."""
        if before.screen is after.screen:
            return
        now = self.clock()
        if self.journey_id is None:
            if after.screen is f.Screen.WELCOME:
                return
            self.journey_id = self.new_id()
            self._started = self._entered = now
            self._steps = []
            event(log, "journey.start", journey=self.journey_id, step=after.screen.value)
            return
        self._left(before, now)
        self._entered = now

    def _left(self, screen_flow: f.Flow, now: float) -> None:
        duration = round((now - self._entered) * 1000)
        error = _error_key(screen_flow) if screen_flow.screen is f.Screen.ERROR else None
        event(
            log, "journey.step", journey=self.journey_id, step=screen_flow.screen.value,
            duration_ms=duration, error=error,
        )  # fmt: skip
        self._steps.append(f"{screen_flow.screen.value}:{duration}")

    def finished(self, outcome: f.Outcome, last: f.Flow) -> None:
        """The journey ended (``last``: the flow just before it was wiped)."""
        if self.journey_id is None:
            return
        now = self.clock()
        if last.screen is not f.Screen.WELCOME:
            self._left(last, now)
        level = logging.WARNING if outcome is f.Outcome.ERROR else logging.INFO
        event(
            log, "journey.end", level=level, journey=self.journey_id, outcome=outcome.value,
            duration_ms=round((now - self._started) * 1000), steps=list(self._steps),
            error=_error_key(last) if last.screen is f.Screen.ERROR else None,
        )  # fmt: skip
        self.journey_id = None


def _error_key(flow: f.Flow) -> str | None:
    return flow.message.key if flow.message is not None else None
