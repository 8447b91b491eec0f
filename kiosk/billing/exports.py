"""``kiosk ledger export``: a CSV for a French spreadsheet, a one-page PDF for the accountant.

The CSV is ``;``-separated UTF-8 with a BOM (LibreOffice and Excel then open it in the
right encoding), amounts with a decimal comma, dates ``DD/MM/YYYY``, months ``YYYY-MM``,
the status in French beside its stable code (``code_statut``): one line per act,
never the patient key, INS, names or contacts. The PDF (:mod:`kiosk.billing.summary`,
drawn by :mod:`kiosk.billing.summary_pdf`) holds the period's totals written the French
way, per month, the reconciliation with the payments and the ledger's verification
status. Both read a read-only connection.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
from pathlib import Path

from kiosk.billing.french import decimal_comma, french_date

CSV_HEADER = (
    "jour", "mois", "acte", "statut", "code_statut", "montant", "rpps", "doublon", "id_acte"
)  # fmt: skip
# The ledger's status codes in the accountant's words; `code_statut` keeps the code.
STATUS_FR = {
    "pending": "en attente", "confirmed": "ouvert (rémunéré)", "failed": "échec",
    "already_existed": "existait déjà", "refused": "refusé par le patient",
    "uncertain": "à vérifier", "received": "paiement reçu",
}  # fmt: skip


def _bounds(start: dt.date | None, end: dt.date | None) -> tuple[str, str]:
    return (start.isoformat() if start else "0000-00-00", end.isoformat() if end else "9999-99-99")


# -- CSV ------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ (or a tab, a CR) as a formula:
    never from our data."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


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
                    french_date(day), day[:7], _cell(act_code),
                    _cell(STATUS_FR.get(status, status)), _cell(status), decimal_comma(cents),
                    _cell(rpps), "oui" if duplicate_of else "non", act_id,
                ))  # fmt: skip
                count += 1
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return count


def export_xlsx(
    conn: sqlite3.Connection, out: Path, start: dt.date | None, end: dt.date | None
) -> int:
    """The CSV's lines as a workbook (openpyxl) that opens right in any spreadsheet with
    its defaults: dates as dates, amounts as numbers in euros, identifiers (RPPS, act id)
    as text, and no cell a formula (openpyxl writes a string starting with "=" as one,
    so text cells are marked as strings)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING

    low, high = _bounds(start, end)
    rows = conn.execute(
        "SELECT day, act_code, status, amount_cents, rpps, duplicate_of, act_id FROM acts"
        " WHERE day BETWEEN ? AND ? ORDER BY day, opened_utc, act_id",
        (low, high),
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "Registre DMP"
    sheet.append(list(CSV_HEADER))
    count = 0
    for day, act_code, status, cents, rpps, duplicate_of, act_id in rows:
        texts = (
            day[:7], act_code, STATUS_FR.get(status, status), status, rpps,
            "oui" if duplicate_of else "non", act_id,
        )  # fmt: skip
        sheet.append([dt.date.fromisoformat(day), *texts[:4], cents / 100, *texts[4:]])
        row = sheet.max_row
        sheet.cell(row, 1).number_format = "DD/MM/YYYY"
        sheet.cell(row, 6).number_format = '#,##0.00 "€"'
        for column in (2, 3, 4, 5, 7, 8, 9):
            cell = sheet.cell(row, column)
            cell.data_type, cell.number_format = TYPE_STRING, "@"  # text, never a formula
        count += 1
    for letter, width in zip("ABCDEFGHI", (12, 9, 14, 22, 16, 11, 14, 8, 34), strict=True):
        sheet.column_dimensions[letter].width = width
    part = out.with_name(out.name + ".part")  # a failed export leaves no half file
    try:
        book.save(part)
        part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return count


def export_pdf(
    conn: sqlite3.Connection,
    out: Path,
    start: dt.date | None,
    end: dt.date | None,
    state_dir: Path,
    font_dir: Path | None = None,
) -> None:
    """One A4 page; ``font_dir`` holds DejaVuSans(-Bold).ttf (default: Debian's)."""
    from kiosk.billing.summary import summarize
    from kiosk.billing.summary_pdf import FONT_DIR, render

    render(summarize(conn, start, end, state_dir), out, font_dir or FONT_DIR)
