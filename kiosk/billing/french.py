"""Money, dates and months written the French way, for the admin screen, the exports and
the accountant's PDF. Pure: no ledger, no I/O."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip
SHORT_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                "oct.", "nov.", "déc.")  # fmt: skip


def group(number: int) -> str:
    """``1244`` → ``"1 244"`` (a normal space between thousands)."""
    sign = "-" if number < 0 else ""
    return sign + f"{abs(number):,}".replace(",", " ")


def decimal_comma(cents: int) -> str:
    """``124400`` → ``"1244,00"``: what a French spreadsheet reads as a number."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units},{rest:02d}"


def euros(cents: int, symbol: str = "€") -> str:
    """``124400`` → ``"1 244,00 €"``, ``-500`` → ``"-5,00 €"``."""
    units, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{group(units)},{rest:02d} {symbol}"


def french_date(iso_day: str) -> str:
    """``"2026-11-05"`` → ``"05/11/2026"``."""
    return dt.date.fromisoformat(iso_day).strftime("%d/%m/%Y")


def long_date(day: dt.date) -> str:
    """``2026-12-01`` → ``"1er décembre 2026"``, ``2026-12-05`` → ``"5 décembre 2026"``."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def paris_moment(moment: dt.datetime) -> str:
    """An aware moment at Paris's wall-clock time: ``"1er décembre 2026 à 09:05"``."""
    local = moment.astimezone(PARIS)
    return f"{long_date(local.date())} à {local:%H:%M}"


def month_label(key: str) -> str:
    """``"2026-11"`` → ``"novembre 2026"``; a year ``"2026"`` stays as it is."""
    return key if len(key) == 4 else f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"


def short_label(key: str) -> tuple[str, str]:
    """Two lines under a bar: ``("nov.", "2026")``, or ``("2026", "")`` for a year."""
    return (key, "") if len(key) == 4 else (SHORT_MONTHS[int(key[5:7]) - 1], key[:4])
