"""What the pharmacist's admin shows, read from the ledger (the admin screen renders it).

Today's and this year's openings, due / paid / outstanding with openings per month over
the last twelve, the acts waiting for resolution, and the CPS state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kiosk.core.cps_session import CpsStatus

if TYPE_CHECKING:  # reports load when the pharmacist opens the admin
    import sqlite3

    from kiosk.billing.ledger import Ledger

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class AdminFigures:
    cps: CpsStatus
    today: int
    year: int
    due_cents: int
    paid_cents: int
    outstanding_cents: int
    by_month: list[tuple[str, int]]  # last 12 months: (YYYY-MM, openings)
    pending: int

    @classmethod
    def unavailable(cls, cps: CpsStatus) -> AdminFigures:
        """What the screen shows when the ledger cannot be read: the CPS line only."""
        return cls(cps, 0, 0, 0, 0, 0, [], 0)


def figures(ledger: Ledger, cps: CpsStatus, today: dt.date | None = None) -> AdminFigures:
    from kiosk.billing.ledger import unresolved_acts
    from kiosk.billing.reports import report

    today = today or dt.datetime.now(PARIS).date()

    def read(conn: sqlite3.Connection) -> AdminFigures:
        year = report(conn, dt.date(today.year, 1, 1), dt.date(today.year, 12, 31))
        day = report(conn, today, today)
        everything = report(conn)
        months = {m["month"]: m["openings"] for m in everything["by_month"]}
        last12 = [_month(today, back) for back in range(11, -1, -1)]
        return AdminFigures(
            cps=cps,
            today=day["openings"],
            year=year["openings"],
            due_cents=everything["amount_due_cents"],
            paid_cents=everything["amount_paid_cents"],
            outstanding_cents=everything["outstanding_cents"],
            by_month=[(m, months.get(m, 0)) for m in last12],
            pending=len(unresolved_acts(conn)),
        )

    return ledger.read(read)


def _month(today: dt.date, back: int) -> str:
    index = today.year * 12 + today.month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
