"""What the pharmacist's admin does: import payment files from a folder (a USB key on a
device) and write exports (CSV + PDF) to it. Each result is a typed message the admin
screen renders; ``error`` says whether it is shown as a problem."""

from __future__ import annotations

import datetime as dt
import errno
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from kiosk.billing.chain import LedgerError
from kiosk.messages import MessageEnum, MessageFields

if TYPE_CHECKING:  # reports and exports load when the pharmacist opens the admin
    from kiosk.billing.ledger import Ledger
    from kiosk.billing.payments import PaymentProblem

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
    line: int | None  # where in the file, when the problem is on one line
    problem: PaymentProblem

    error = True

    @property
    def key(self) -> str:  # type: ignore[override]  # the line, when known, is named
        return "admin.payment_file_refused" if self.line is None else "admin.payment_line_refused"


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


class ExportProblem(MessageEnum):
    """Why an export could not be written to the exchange folder."""

    NO_SPACE = "admin.export_no_space"
    NOT_WRITABLE = "admin.export_not_writable"
    NO_FOLDER = "admin.export_no_folder"
    OTHER = "admin.export_other"


_EXPORT_PROBLEMS = {
    errno.ENOSPC: ExportProblem.NO_SPACE, errno.EDQUOT: ExportProblem.NO_SPACE,
    errno.EACCES: ExportProblem.NOT_WRITABLE, errno.EPERM: ExportProblem.NOT_WRITABLE,
    errno.EROFS: ExportProblem.NOT_WRITABLE, errno.ENOENT: ExportProblem.NO_FOLDER,
    errno.ENOTDIR: ExportProblem.NO_FOLDER, errno.ENODEV: ExportProblem.NO_FOLDER,
    errno.ENXIO: ExportProblem.NO_FOLDER,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExportFailed(AdminResult):
    problem: ExportProblem
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
        from kiosk.billing.payments import PaymentFileError, PaymentProblem, parse_payments

        files = sorted(self.folder.glob("*.csv"))
        if not files:
            return NoPaymentFiles(str(self.folder))
        added = 0
        for path in files:
            try:
                added += self.ledger().import_payments(parse_payments(path.read_text("utf-8")))
            except PaymentFileError as exc:
                return PaymentFileRefused(path.name, exc.line, exc.problem)
            except LedgerError:  # a reference already imported, with other values
                return PaymentFileRefused(path.name, None, PaymentProblem.CONFLICT)
            except UnicodeDecodeError:
                return PaymentFileRefused(path.name, None, PaymentProblem.ENCODING)
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
            return ExportFailed(_EXPORT_PROBLEMS.get(exc.errno or 0, ExportProblem.OTHER))
        except (sqlite3.Error, LedgerError) as exc:
            return ExportLedgerUnreadable(type(exc).__name__)
        return Exported(csv_path.name, pdf_path.name)
