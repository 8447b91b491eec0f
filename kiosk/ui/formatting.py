"""Pure helpers (no Kivy) that turn card and contact data into what a screen shows."""

from __future__ import annotations

import calendar
import re

from kiosk.billing.french import euros
from kiosk.hardware.cards import Beneficiary
from kiosk.ui.i18n import t
from kiosk.ui.ui_text import UiText

MOBILE_LENGTH = 10
EMAIL_MAX = 80
_EMAIL = re.compile(r"^[a-z0-9._-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")


def display_birth_date(raw: str, language: str) -> str:
    """The card's raw ``YYYYMMDD`` as ``DD/MM/YYYY``; a "lunar" date shows only its
    known part: ``19500000`` → ``1950``, ``20120400`` → ``04/2012``, an impossible day
    (``19800231``) → ``02/1980``. Anything unreadable → "date inconnue"."""
    unknown = t(UiText.DATE_UNKNOWN, language)
    if len(raw) != 8 or not raw.isascii() or not raw.isdigit():
        return unknown
    year, month, day = int(raw[:4]), int(raw[4:6]), int(raw[6:8])
    if year == 0:
        return unknown
    if not 1 <= month <= 12:
        return raw[:4]
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return f"{raw[4:6]}/{raw[:4]}"
    return f"{raw[6:8]}/{raw[4:6]}/{raw[:4]}"


def beneficiary_label(person: Beneficiary, language: str) -> str:
    """``Jeanne MARTIN — 12/05/1980``: first name, last name, birth date."""
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    return f"{name} — {display_birth_date(person.birth_date, language)}"


def valid_mobile(number: str) -> bool:
    """A French mobile: 10 digits starting 06 or 07 [V REC_1.5-1100]."""
    return (
        len(number) == MOBILE_LENGTH and number.isascii() and number.isdigit()
        and number[:2] in ("06", "07")
    )  # fmt: skip


def valid_email(address: str) -> bool:
    """A plausible address as the on-screen keyboard can type it."""
    return len(address) <= EMAIL_MAX and _EMAIL.match(address) is not None


def spaced_mobile(number: str) -> str:
    """``0612345678`` → ``06 12 34 56 78`` (any partial entry too)."""
    return " ".join(number[i : i + 2] for i in range(0, len(number), 2))


def money(cents: int, language: str) -> str:
    """``124400`` → ``1 244,00 €`` in French, ``€1,244.00`` in English."""
    if language == "fr":
        return euros(cents)
    units, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}€{units:,}.{rest:02d}"


def masked(code: str) -> str:
    """A secret code as dots, one per digit typed."""
    return "●" * len(code)
