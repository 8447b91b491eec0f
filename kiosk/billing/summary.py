"""What the accountant's one-page summary holds, read from the ledger: the period's totals,
openings per month (per year beyond three years), the reconciliation with the payments,
and the ledger's verification status (drawn by :mod:`kiosk.billing.summary_pdf`)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.billing.french import french_date
from kiosk.billing.keys import PUBLIC_KEY_FILE, load_public_key
from kiosk.billing.ledger import LedgerVerdict, verify_file
from kiosk.billing.payments import PeriodBalance
from kiosk.billing.reports import reconciliation, report

MAX_MONTHS = 36  # beyond that the PDF counts per year, so the page never overflows


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
