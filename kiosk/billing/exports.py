"""``kiosk ledger export``: a CSV for a French spreadsheet, a one-page PDF for the accountant.

The CSV is ``;``-separated UTF-8 with a BOM (LibreOffice and Excel then open it in the
right encoding), amounts with a decimal comma, dates ``DD/MM/YYYY``: one line per act,
never the patient key, INS, names or contacts. The PDF (drawn by :mod:`summary_pdf`)
holds the period's totals written the French way, per month, the reconciliation with
the payments and the ledger's verification status. Both read a read-only connection.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.billing.keys import PUBLIC_KEY_FILE, load_public_key
from kiosk.billing.ledger import LedgerVerdict, verify_file
from kiosk.billing.payments import PeriodBalance
from kiosk.billing.reports import reconciliation, report

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip
SHORT_MONTHS = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                "oct.", "nov.", "déc.")  # fmt: skip
CSV_HEADER = ("jour", "mois", "acte", "statut", "montant", "rpps", "doublon", "id_acte")
MAX_MONTHS = 36  # beyond that the PDF counts per year, so the page never overflows


# -- French formatting (pure) -------------------------------------------------------------


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


def month_label(key: str) -> str:
    """``"2026-11"`` → ``"novembre 2026"``; a year ``"2026"`` stays as it is."""
    return key if len(key) == 4 else f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}"


def short_label(key: str) -> tuple[str, str]:
    """Two lines under a bar: ``("nov.", "2026")``, or ``("2026", "")`` for a year."""
    return (key, "") if len(key) == 4 else (SHORT_MONTHS[int(key[5:7]) - 1], key[:4])


@dataclass(frozen=True, slots=True)
class Bar:
    key: str  # "YYYY-MM", or "YYYY" when counted per year
    openings: int
    due_cents: int


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    keys = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        keys.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def series(by_month: list[dict[str, Any]], limit: int = MAX_MONTHS) -> tuple[list[Bar], bool]:
    """Every month from the first to the last with openings (empty ones at zero); per
    year instead when that is more than ``limit`` months. Returns (bars, per_year)."""
    known = {row["month"]: (row["openings"], row["amount_due_cents"]) for row in by_month}
    if not known:
        return [], False
    keys = _months(min(known), max(known))
    if len(keys) <= limit:
        return [Bar(k, *known.get(k, (0, 0))) for k in keys], False
    years: dict[str, list[int]] = {}
    for key in keys:
        totals = years.setdefault(key[:4], [0, 0])
        n, cents = known.get(key, (0, 0))
        totals[0] += n
        totals[1] += cents
    return [Bar(year, n, cents) for year, (n, cents) in years.items()], True


def _bounds(start: dt.date | None, end: dt.date | None) -> tuple[str, str]:
    return (start.isoformat() if start else "0000-00-00", end.isoformat() if end else "9999-99-99")


# -- CSV ------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """A spreadsheet runs a cell starting with = + @ as a formula: never from our data."""
    return f"'{text}" if text[:1] in ("=", "+", "@", "\t", "\r") else text


def export_csv(
    conn: sqlite3.Connection, out: Path, start: dt.date | None, end: dt.date | None
) -> int:
    """One line per act whose (Paris) day is in the range; returns how many."""
    low, high = _bounds(start, end)
    rows = conn.execute(
        "SELECT day, act_code, status, amount_cents, rpps, duplicate_of, act_id FROM acts"
        " WHERE day BETWEEN ? AND ? ORDER BY day, opened_utc, act_id",
        (low, high),
    )
    count = 0
    part = out.with_name(out.name + ".part")  # a failed export leaves no half file
    try:
        with part.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
            writer.writerow(CSV_HEADER)
            for day, act_code, status, cents, rpps, duplicate_of, act_id in rows:
                writer.writerow((
                    french_date(day), f"{day[5:7]}/{day[:4]}", _cell(act_code), _cell(status),
                    decimal_comma(cents), _cell(rpps), "oui" if duplicate_of else "non", act_id,
                ))  # fmt: skip
                count += 1
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return count


# -- PDF summary ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Summary:
    kiosk_id: str
    period: str
    figures: dict[str, Any]
    bars: list[Bar]
    per_year: bool
    balances: list[PeriodBalance]
    unpaid: PeriodBalance | None
    verdict: LedgerVerdict
    key_note: str  # how the signed checkpoints were (or were not) checked
    checkpoint: tuple[str, int, str] | None  # day, seq, head of the last one
    generated: dt.datetime


def _period(conn: sqlite3.Connection, start: dt.date | None, end: dt.date | None) -> str:
    first, last = conn.execute("SELECT MIN(day), MAX(day) FROM acts").fetchone()
    low = start.isoformat() if start else first
    high = end.isoformat() if end else last
    if low is None or high is None:
        return "tout le registre (aucun acte)"
    return f"du {french_date(low)} au {french_date(high)}"


def _verify(conn: sqlite3.Connection, state_dir: Path) -> tuple[LedgerVerdict, str]:
    key_file = state_dir / PUBLIC_KEY_FILE
    if not key_file.exists():
        return verify_file(conn, None), "chaîne seule : pas de clé publique à côté du registre"
    try:
        key = load_public_key(key_file)
    except (OSError, ValueError):
        return verify_file(conn, None), f"chaîne seule : {PUBLIC_KEY_FILE} illisible"
    verdict = verify_file(conn, key)
    return verdict, f"{verdict.checkpoints} points de contrôle signés vérifiés ({PUBLIC_KEY_FILE})"


def summarize(
    conn: sqlite3.Connection,
    start: dt.date | None,
    end: dt.date | None,
    state_dir: Path,
    generated: dt.datetime | None = None,
) -> Summary:
    figures = report(conn, start, end)
    bars, per_year = series(figures["by_month"])
    balances, unpaid = reconciliation(conn)
    verdict, key_note = _verify(conn, state_dir)
    kiosk = conn.execute("SELECT kiosk_id FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    last = conn.execute(
        "SELECT day, seq, head FROM checkpoints ORDER BY seq DESC, day DESC LIMIT 1"
    ).fetchone()
    return Summary(
        kiosk_id=kiosk[0] if kiosk else "inconnu",
        period=_period(conn, start, end),
        figures=figures, bars=bars, per_year=per_year, balances=balances, unpaid=unpaid,
        verdict=verdict, key_note=key_note,
        checkpoint=(str(last[0]), int(last[1]), str(last[2])) if last else None,
        generated=generated or dt.datetime.now(dt.UTC),
    )  # fmt: skip


def export_pdf(
    conn: sqlite3.Connection,
    out: Path,
    start: dt.date | None,
    end: dt.date | None,
    state_dir: Path,
    font_dir: Path | None = None,
) -> None:
    """One A4 page; ``font_dir`` holds DejaVuSans(-Bold).ttf (default: Debian's)."""
    from kiosk.billing.summary_pdf import FONT_DIR, render

    render(summarize(conn, start, end, state_dir), out, font_dir or FONT_DIR)
