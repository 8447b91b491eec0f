"""What the pharmacist-code gate answers (:mod:`kiosk.core.code_gate`): pure values, also
the messages the attestation screen and the admin show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.messages import MessageFields

LOCK_AFTER = 3  # wrong codes in a row, wherever typed
LOCK_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Accepted:
    """The right code: the count of wrong ones starts again."""


@dataclass(frozen=True, slots=True)
class WrongCode(MessageFields):
    tries_left: int
    key = "code.wrong"


@dataclass(frozen=True, slots=True)
class CodeLocked:
    """Nothing is checked until ``until`` (wall-clock seconds); ``just_now``: this very
    code was the last wrong one."""

    until: float
    just_now: bool = False

    @property
    def key(self) -> str:
        return "code.locked_now" if self.just_now else "code.locked"

    def args(self) -> Mapping[str, object]:
        return {"tries": LOCK_AFTER, "minutes": round(LOCK_SECONDS / 60)}


CodeVerdict = Accepted | WrongCode | CodeLocked
