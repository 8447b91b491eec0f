"""A card that lies: an honest emulator behind a script of hostile answers.

Each APDU goes to the honest card (so its state moves as a real card's would), then the
answer the reader gets is the script's: the honest one, another status word, truncated
or overlong data, garbage, ``61xx``/``6Cxx`` chaining, a huge answer, nothing at all, or
the honest answer late. After the script, ``then`` answers every further APDU (honest,
or a loop such as an endless ``61xx``). Files of the honest card can be rewritten with
any bytes (:meth:`HostileCard.rewrite`). Used by the hostile-peer tests, over vpcd and
pcscd or fed directly to the card readers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from kiosk.sim.emulators.emulated_card import EmulatedCard

MAX_ANSWER = 65_000  # a vpcd frame carries at most 65,535 bytes


class Move(StrEnum):
    HONEST = "honest"
    STATUS = "status"  # the honest data with another status word
    TRUNCATE = "truncate"  # the honest answer cut after ``size`` bytes (status included)
    EXTEND = "extend"  # ``data`` appended to the honest data, then its status word
    GARBAGE = "garbage"  # ``data`` and ``sw`` instead of the honest answer
    MORE = "more"  # the honest data, then ``61xx``: "more to come, GET RESPONSE"
    WRONG_LE = "wrong_le"  # ``6Cxx``: "send again with Le = xx"
    HUGE = "huge"  # ``size`` bytes of data, then ``sw``
    EMPTY = "empty"  # a zero-byte answer
    SLOW = "slow"  # the honest answer after ``delay`` seconds
    SILENT = "silent"  # no answer until released (or ``delay`` seconds), then the honest one


@dataclass(frozen=True, slots=True)
class Answer:
    move: Move = Move.HONEST
    sw: int = 0x9000
    data: bytes = b""
    size: int = 0
    delay: float = 0.0

    @property
    def waits(self) -> bool:
        return self.move in (Move.SLOW, Move.SILENT)

    def apply(self, honest: bytes) -> bytes:
        body, status = honest[:-2], honest[-2:]
        sw = (self.sw & 0xFFFF).to_bytes(2, "big")
        if self.move is Move.STATUS:
            return body + sw
        if self.move is Move.TRUNCATE:
            return honest[: self.size]
        if self.move is Move.EXTEND:
            return (body + self.data)[: MAX_ANSWER - 2] + status
        if self.move is Move.GARBAGE:
            return self.data[: MAX_ANSWER - 2] + sw
        if self.move is Move.MORE:
            return body + bytes([0x61, self.sw & 0xFF])
        if self.move is Move.WRONG_LE:
            return bytes([0x6C, self.sw & 0xFF])
        if self.move is Move.HUGE:
            return bytes(min(self.size, MAX_ANSWER - 2)) + sw
        if self.move is Move.EMPTY:
            return b""
        return honest


HONEST = Answer()


class HostileCard(EmulatedCard):
    """``honest``'s ATR and state, the script's answers. ``real_time=False`` skips the
    waits (for a reader fed directly, where time does not matter)."""

    def __init__(
        self,
        honest: EmulatedCard,
        script: Sequence[Answer] = (),
        then: Answer = HONEST,
        *,
        real_time: bool = True,
    ) -> None:
        self.honest = honest
        self.script = tuple(script)
        self.then = then
        self.real_time = real_time
        self.released = threading.Event()  # ends a SILENT wait (the test is over)
        self.rewritten: list[int] = []  # the files given other bytes
        # vpcd takes an answer of no bytes for a card that will never answer: pcscd then
        # waits until the card is pulled (a test re-inserts the card after one)
        self.answered_nothing = False
        self.atr = honest.atr
        super().__init__([])

    def power_on(self) -> None:
        if hasattr(self, "honest"):
            self.honest.power_on()

    def is_verified(self) -> bool:
        return self.honest.is_verified()

    def rewrite(self, ef: int, data: bytes) -> None:
        """Give the honest card's file ``ef`` (in whichever application holds it) ``data``."""
        for app in self.honest.applications.values():
            if ef in app.files:
                app.files[ef].data = data
                self.rewritten.append(ef)

    def process(self, raw: bytes) -> bytes:
        answer = self.script[self.apdu_count] if self.apdu_count < len(self.script) else self.then
        self.apdu_count += 1
        honest = self.honest.process(raw)
        if self.real_time and answer.move is Move.SLOW:
            time.sleep(answer.delay)
        elif self.real_time and answer.move is Move.SILENT:
            self.released.wait(answer.delay)
        answered = answer.apply(honest)
        self.answered_nothing = self.answered_nothing or not answered
        return answered
