"""What the pharmacist's admin does: import payment files from a folder (a USB key on a
device) and write exports (CSV + PDF) to it. Each result is a typed message the admin
screen renders; ``error`` says whether it is shown as a problem."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from kiosk.billing.chain import LedgerError
from kiosk.messages import MessageFields

if TYPE_CHECKING:  # reports and exports load when the pharmacist opens the admin
    from kiosk.billing.ledger import Ledger

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class AdminResult(MessageFields):
    """Base of the admin's results: the fields are the message's arguments."""

    error: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class NoPaymentFiles(AdminResult):
    folder: str
    key = "admin.no_payment_files"


@dataclass(frozen=True, slots=True)
class PaymentsImported(AdminResult):
    added: int
    files: int
    key = "admin.payments_imported"


@dataclass(frozen=True, slots=True)
class PaymentFileRefused(AdminResult):
    name: str
    reason: str  # what is wrong in the file, as the payment parser says it
    key = "admin.payment_file_refused"
    error = True


@dataclass(frozen=True, slots=True)
class ImportFailed(AdminResult):
    name: str
    kind: str  # the exception type: the USB key pulled, the ledger damaged
    key = "admin.import_failed"
    error = True


@dataclass(frozen=True, slots=True)
class Exported(AdminResult):
    csv: str
    pdf: str
    key = "admin.exported"


@dataclass(frozen=True, slots=True)
class ExportFailed(AdminResult):
    reason: str  # the system's words for why the folder could not be written
    key = "admin.export_failed"
    error = True


@dataclass(frozen=True, slots=True)
class ExportLedgerUnreadable(AdminResult):
    kind: str
    key = "admin.export_ledger_unreadable"
    error = True


@dataclass
class AdminActions:
    ledger: Callable[[], Ledger]  # built on first use (kiosk.core.lazy)
    folder: Path  # where payment files are read and exports written
    state_dir: Path

    def import_payments(self) -> AdminResult:
        from kiosk.billing.payments import PaymentFileError, parse_payments

        files = sorted(self.folder.glob("*.csv"))
        if not files:
            return NoPaymentFiles(str(self.folder))
        added = 0
        for path in files:
            try:
                added += self.ledger().import_payments(parse_payments(path.read_text("utf-8")))
            except (PaymentFileError, LedgerError, UnicodeDecodeError) as exc:
                return PaymentFileRefused(path.name, str(exc))
            except (OSError, sqlite3.Error) as exc:  # the USB key pulled, the ledger damaged
                return ImportFailed(path.name, type(exc).__name__)
        return PaymentsImported(added, len(files))

    def export(self, now: dt.datetime | None = None) -> AdminResult:
        from kiosk.billing.exports import export_csv, export_pdf

        stamp = (now or dt.datetime.now(PARIS)).strftime("%Y%m%d-%H%M")
        csv_path = self.folder / f"dmp-remuneration-{stamp}.csv"
        pdf_path = self.folder / f"dmp-remuneration-{stamp}.pdf"

        def write(conn: sqlite3.Connection) -> None:
            export_csv(conn, csv_path, None, None)
            export_pdf(conn, pdf_path, None, None, self.state_dir)

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.ledger().read(write)
        except OSError as exc:
            return ExportFailed(exc.strerror or str(exc))
        except (sqlite3.Error, LedgerError) as exc:
            return ExportLedgerUnreadable(type(exc).__name__)
        return Exported(csv_path.name, pdf_path.name)
