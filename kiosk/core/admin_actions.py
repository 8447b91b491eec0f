"""The pharmacist's admin: what it shows and does, without Kivy (the screen renders it).

Opened by a long press on the welcome screen's top-left corner, then the pharmacist
code (3 wrong codes lock it for 5 minutes). Shows the CPS state, today's and this
year's openings, due / paid / outstanding with openings per month, the acts waiting for
resolution; imports payment files and writes exports (CSV + PDF) to a folder (a USB key
on a device).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kiosk.billing.chain import LedgerError

if TYPE_CHECKING:  # reports and exports load when the pharmacist opens the admin
    from kiosk.billing.ledger import Ledger

PARIS = ZoneInfo("Europe/Paris")

LOCK_AFTER = 3
LOCK_SECONDS = 300.0


@dataclass
class AdminFigures:
    cps: str  # "CPS de Claire DUPONT : code saisi" …
    today: int
    year: int
    due_cents: int
    paid_cents: int
    outstanding_cents: int
    by_month: list[tuple[str, int]]  # last 12 months: (YYYY-MM, openings)
    pending: int

    @classmethod
    def unavailable(cls, cps: str) -> AdminFigures:
        """What the screen shows when the ledger cannot be read: the CPS line only."""
        return cls(cps, 0, 0, 0, 0, 0, [], 0)


@dataclass
class AdminGate:
    """The pharmacist code, with a lock after repeated wrong codes."""

    check: Callable[[str], bool]  # kiosk.core.pharmacist_code: against the hash in the config
    failures: int = 0
    locked_until: float = 0.0

    def try_code(self, attempt: str, now: float) -> str | None:
        """None when accepted, else the French message to show."""
        if now < self.locked_until:
            return "Saisie bloquée : patientez quelques minutes."
        if self.check(attempt):
            self.failures = 0
            return None
        self.failures += 1
        if self.failures >= LOCK_AFTER:
            self.failures, self.locked_until = 0, now + LOCK_SECONDS
            return "Code incorrect 3 fois : saisie bloquée 5 minutes."
        return f"Code incorrect ({LOCK_AFTER - self.failures} essai(s))."

    def checker(self, clock: Callable[[], float]) -> Callable[[str], bool]:
        """The same gate for the attestation screen: one count of wrong codes, one lock,
        wherever the pharmacist code is typed (else 3 guesses here and 3 there)."""
        return lambda attempt: self.try_code(attempt, clock()) is None


def figures(ledger: Ledger, cps_state: str, today: dt.date | None = None) -> AdminFigures:
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
            cps=cps_state,
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


@dataclass
class AdminActions:
    ledger: Callable[[], Ledger]  # built on first use (kiosk.core.lazy)
    folder: Path  # where payment files are read and exports written
    state_dir: Path
    done: list[str] = field(default_factory=list)

    def import_payments(self) -> str:
        from kiosk.billing.payments import PaymentFileError, parse_payments

        files = sorted(self.folder.glob("*.csv"))
        if not files:
            return f"Aucun relevé (.csv) dans {self.folder}."
        added = 0
        for path in files:
            try:
                added += self.ledger().import_payments(parse_payments(path.read_text("utf-8")))
            except (PaymentFileError, LedgerError, UnicodeDecodeError) as exc:
                return f"{path.name} refusé : {exc}. Rien n'a été importé de ce fichier."
            except (OSError, sqlite3.Error) as exc:  # the USB key pulled, the ledger damaged
                kind = type(exc).__name__
                return f"Import impossible ({kind}) : rien n'a été importé de {path.name}."
        return f"{added} paiement(s) importé(s) depuis {len(files)} fichier(s)."

    def export(self, now: dt.datetime | None = None) -> str:
        from kiosk.billing.exports import export_csv, export_pdf

        stamp = (now or dt.datetime.now(PARIS)).strftime("%Y%m%d-%H%M")
        self.folder.mkdir(parents=True, exist_ok=True)
        csv_path = self.folder / f"dmp-remuneration-{stamp}.csv"
        pdf_path = self.folder / f"dmp-remuneration-{stamp}.pdf"

        def write(conn: sqlite3.Connection) -> None:
            export_csv(conn, csv_path, None, None)
            export_pdf(conn, pdf_path, None, None, self.state_dir)

        try:
            self.ledger().read(write)
        except OSError as exc:
            return f"Export impossible : {exc.strerror or exc}."
        except (sqlite3.Error, LedgerError) as exc:
            return f"Export impossible : registre illisible ({type(exc).__name__})."
        return f"Exporté : {csv_path.name} et {pdf_path.name}."
