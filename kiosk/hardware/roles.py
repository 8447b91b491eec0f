"""Which card an ATR belongs to, and which reader plays which role. Pure logic.

Counters use multi-slot readers that show one PC/SC reader per slot; the slot holding a
Carte Vitale is the patient's, the one holding a CPS the pharmacist's. A site can pin a
role to a reader name in the config instead (``[readers] patient = "…"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class CardKind(StrEnum):
    VITALE = "vitale"
    CPS = "cps"
    UNKNOWN = "unknown"


class Role(StrEnum):
    PATIENT = "patient"
    PROFESSIONAL = "professional"


ROLE_CARD = {Role.PATIENT: CardKind.VITALE, Role.PROFESSIONAL: CardKind.CPS}

# Vitale 2: 3B 75 13 00 00 4x 09 EA 90 00 with x from 3 to C.
_VITALE_PREFIX = bytes.fromhex("3B75130000")
_VITALE_SUFFIX = bytes.fromhex("09EA9000")
_CPS3_ATR = bytes.fromhex("3BAC00402A001225006480000310009000")


def classify_atr(atr: bytes) -> CardKind:
    if (
        len(atr) == 10
        and atr[:5] == _VITALE_PREFIX
        and 0x43 <= atr[5] <= 0x4C
        and atr[6:] == _VITALE_SUFFIX
    ):
        return CardKind.VITALE
    if atr == _CPS3_ATR:
        return CardKind.CPS
    return CardKind.UNKNOWN


def reader_for_role(
    role: Role,
    inserted: Mapping[str, CardKind],
    overrides: Mapping[Role, str] | None = None,
) -> str | None:
    """The reader serving ``role``: the configured one, else the one holding that role's
    card (the first by name if several do). ``inserted`` maps reader → kind of card in it."""
    if overrides and role in overrides:
        return overrides[role]
    wanted = ROLE_CARD[role]
    matches = sorted(reader for reader, kind in inserted.items() if kind == wanted)
    return matches[0] if matches else None


def match_reader_name(spec: str, readers: list[str]) -> str | None:
    """A reader given by exact name, else by a unique case-insensitive substring."""
    if spec in readers:
        return spec
    found = [r for r in readers if spec.lower() in r.lower()]
    return found[0] if len(found) == 1 else None
