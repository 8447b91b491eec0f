"""What the accountant's one-page summary holds, read from the ledger: first whether the
ledger verifies, then (only if it does) the period's totals, openings per month (per year
beyond three years) and, apart, the whole register's payments and their reconciliation
(drawn by :mod:`kiosk.billing.summary_pdf`)."""

from __future__ import annotations

import datetime as dt
import enum
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.billing.chain import COLUMNS, verify_chain
from kiosk.billing.french import french_date
from kiosk.billing.keys import public_key_beside
from kiosk.billing.ledger_verify import LedgerVerdict, verify_file
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


class Check(enum.Enum):
    """What ``verify`` found, as a kind (the PDF words each kind in French; the ledger's
    own messages are English sentences and never reach the page)."""

    INTACT = "intact"  # chain, derived tables and every checkpoint under this kiosk's key
    NO_KEY = "no_key"  # chain and tables hold; no public key beside: signatures unchecked
    KEY_UNREADABLE = "key_unreadable"  # a key file is there but is not a key
    KEY_MISMATCH = "key_mismatch"  # chain holds, checkpoints signed by another key
    BROKEN = "broken"  # the hash chain breaks at ``bad_seq`` (changed, removed, moved)
    TABLES = "tables"  # the derived tables (acts, payments) differ from the chain
    CHECKPOINT = "checkpoint"  # a signed checkpoint does not match its entry or signature
    DAMAGED = "damaged"  # SQLite cannot read the file

    @property
    def reliable(self) -> bool:
        """The figures may be shown: only under this kiosk's key. Without the public key
        the chain is plain SHA-256, which whoever edits a copy can recompute: ``kiosk
        ledger verify`` calls that intact (the chain holds), the accountant's page does
        not vouch for it."""
        return self is Check.INTACT


@dataclass(frozen=True, slots=True)
class Integrity:
    check: Check
    entries: int  # entries that verified (all of them when intact)
    bad_seq: int | None  # the first entry that breaks the chain (BROKEN only)
    checkpoints: int  # checkpoints verified under this kiosk's key
    stored_checkpoints: int  # checkpoints in the file, verified or not
    last_checkpoint: tuple[str, int, str] | None  # day, seq, head: a VERIFIED one only


@dataclass(frozen=True, slots=True)
class Figures:
    """Made only for a ledger that verifies. ``period``: ``report`` over the period;
    ``register``: ``report`` over the whole register, whose payments ``balances`` and
    ``unpaid`` reconcile (payments cover their own periods, not the one asked for)."""

    period: dict[str, Any]
    bars: list[Bar]
    per_year: bool
    register: dict[str, Any]
    balances: list[PeriodBalance]
    unpaid: PeriodBalance | None


@dataclass(frozen=True, slots=True)
class Summary:
    kiosk_id: str
    period: str
    integrity: Integrity
    figures: Figures | None  # None: the ledger does not verify, no figure can be vouched for
    generated: dt.datetime


def _period(
    conn: sqlite3.Connection, start: dt.date | None, end: dt.date | None, reliable: bool
) -> str:
    """The period asked for; its open ends are the first and last act's days, read from
    the ledger only when it verifies."""
    first, last = None, None
    if reliable:
        first, last = conn.execute("SELECT MIN(day), MAX(day) FROM acts").fetchone()
    low = start.isoformat() if start else first
    high = end.isoformat() if end else last
    if low and high:
        return f"du {french_date(low)} au {french_date(high)}"
    if low:
        return f"à partir du {french_date(low)}"
    if high:
        return f"jusqu'au {french_date(high)}"
    return "tout le registre (aucun acte)" if reliable else "tout le registre"


def _failure(conn: sqlite3.Connection, verdict: LedgerVerdict) -> tuple[Check, int | None]:
    """Which kind of failure, from typed results only: ``LedgerVerdict`` carries its
    reason as an English sentence, so the chain is checked again here for the entry
    (``Verdict.bad_seq``), then without the key to tell the tables from a checkpoint.
    Runs only for a ledger that failed."""
    if verdict.key_mismatch:
        return Check.KEY_MISMATCH, None
    select = f"SELECT {', '.join(COLUMNS)} FROM entries ORDER BY seq"  # noqa: S608 (no input)
    try:
        chain = verify_chain(conn.execute(select))
    except sqlite3.DatabaseError:
        return Check.DAMAGED, None
    if not chain.ok:
        return Check.BROKEN, chain.bad_seq
    return (Check.CHECKPOINT if verify_file(conn, None).ok else Check.TABLES), None


def _verified_checkpoint(conn: sqlite3.Connection, verified: int) -> tuple[str, int, str] | None:
    """The latest of the first ``verified`` checkpoints in the order ``verify_file``
    checks them (by day): never one that failed or was not checked."""
    if verified <= 0:
        return None
    rows = conn.execute("SELECT day, seq, head FROM checkpoints ORDER BY day LIMIT ?", (verified,))
    day, seq, head = max(rows, key=lambda row: (int(row[1]), str(row[0])))
    return str(day), int(seq), str(head)


def integrity(conn: sqlite3.Connection, state_dir: Path) -> Integrity:
    try:
        stored = int(conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0])
    except sqlite3.DatabaseError:
        return Integrity(Check.DAMAGED, 0, None, 0, 0, None)
    key: Ed25519PublicKey | None
    try:
        key, unreadable = public_key_beside(state_dir), False
    except (OSError, ValueError, TypeError):
        key, unreadable = None, True
    verdict = verify_file(conn, key)
    if verdict.ok:
        check = (
            Check.INTACT
            if key is not None
            else Check.KEY_UNREADABLE
            if unreadable
            else Check.NO_KEY
        )
        return Integrity(check, verdict.entries, None, verdict.checkpoints, stored,
                         _verified_checkpoint(conn, verdict.checkpoints))  # fmt: skip
    check, bad = _failure(conn, verdict)
    last = _verified_checkpoint(conn, verdict.checkpoints) if check is Check.KEY_MISMATCH else None
    return Integrity(check, verdict.entries, bad, verdict.checkpoints, stored, last)


def _figures(conn: sqlite3.Connection, start: dt.date | None, end: dt.date | None) -> Figures:
    period = report(conn, start, end)
    bars, per_year = series(period["by_month"])
    balances, unpaid = reconciliation(conn)
    return Figures(period, bars, per_year, report(conn), balances, unpaid)


def summarize(
    conn: sqlite3.Connection,
    start: dt.date | None,
    end: dt.date | None,
    state_dir: Path,
    generated: dt.datetime | None = None,
) -> Summary:
    found = integrity(conn, state_dir)
    reliable = found.check.reliable
    try:
        kiosk = conn.execute("SELECT kiosk_id FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    except sqlite3.DatabaseError:
        kiosk = None
    period = _period(conn, start, end, reliable)
    return Summary(
        kiosk_id=str(kiosk[0]) if kiosk else "inconnu",
        period=period,
        integrity=found,
        figures=_figures(conn, start, end) if reliable else None,
        generated=generated or dt.datetime.now(dt.UTC),
    )
