"""The patient's paper: the "accusé de création" and, when web access was created, the
access secrets (identifier and provisional password), printed on paper only
[V EX_GEN-1470: never both on one electronic channel]. One A5 page, PDF via fpdf2, into
a spool directory the printer service (CUPS or ESC/POS) prints from, then deletes.

fpdf2 costs the process that imports it ~34 MiB: the kiosk does not import this module,
``kiosk.documents.printing`` runs it in a child process (``kiosk.documents.render``).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import qrcode  # type: ignore[import-untyped]
from fpdf import FPDF

from kiosk.documents.content import PARIS, TITLES, Entry, ReceiptContent, receipt_content
from kiosk.documents.facts import ReceiptFacts

__all__ = ["FONT_DIR", "PARIS", "TITLES", "line", "render_pdf", "write_receipt"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MARGIN = 12.0  # mm, every side of the A5 page
QR_SIZE = 30.0  # mm: the QR code beside "see and manage"
QR_GAP = 5.0  # mm between the text and the code
BODY = 9.5  # pt: the body text
LINE = 4.6  # mm: its line height


def line(pdf: FPDF, height: float, text: str) -> None:
    """A paragraph, then back to the left margin for the next one."""
    pdf.multi_cell(0, height, text, align="L", new_x="LMARGIN", new_y="NEXT")


def _pdf() -> tuple[FPDF, str]:
    pdf = FPDF(format=(148, 210))  # A5 in mm
    pdf.set_margins(MARGIN, 10, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    if (FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        return pdf, "DejaVu"
    return pdf, "Helvetica"  # core font: Latin-1 only, enough for French


def _entries(pdf: FPDF, font: str, entries: tuple[Entry, ...]) -> None:
    """``label : value``, the value in bold, wrapped at the right margin."""
    for entry in entries:
        pdf.set_font(font, "", BODY)
        pdf.write(LINE, f"{entry.label}{entry.separator}")
        pdf.set_font(font, "B", BODY)
        pdf.write(LINE, entry.value)
        pdf.ln(LINE)


def _heading(pdf: FPDF, font: str, text: str) -> None:
    pdf.ln(2.5)
    pdf.set_font(font, "B", 11)
    line(pdf, 6, text)


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """The code as filled squares (qrcode's matrix): sharp at any printer resolution."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        column = 0
        while column < len(cells):  # one rectangle per run of dark modules
            if not cells[column]:
                column += 1
                continue
            start = column
            while column < len(cells) and cells[column]:
                column += 1
            pdf.rect(
                x + start * module,
                y + row * module,
                (column - start) * module,
                module * 1.02,
                style="F",
            )  # fmt: skip  (1.02: no hairline between rows)


def _access(pdf: FPDF, font: str, content: ReceiptContent) -> None:
    access = content.access
    if access is None:
        return
    pdf.ln(3)
    top = pdf.get_y()
    pdf.set_x(MARGIN + 3)
    pdf.set_font(font, "B", 12)
    pdf.set_left_margin(MARGIN + 3)
    line(pdf, 7, access.heading)
    pdf.set_font(font, "", 11)
    line(pdf, 6, f"{access.identifier_label} :")
    pdf.set_font(font, "B", 13)
    line(pdf, 7, access.identifier)
    pdf.set_font(font, "", 11)
    line(pdf, 6, f"{access.password_label} :")
    pdf.set_font(font, "B", 13)
    line(pdf, 7, access.password)
    pdf.set_font(font, "", 9)
    line(pdf, 4.5, access.advice)
    pdf.set_left_margin(MARGIN)
    pdf.rect(MARGIN, top - 1.5, pdf.epw, pdf.get_y() - top + 3)  # a frame: keep this part
    pdf.ln(2)


def _manage(pdf: FPDF, font: str, content: ReceiptContent) -> None:
    _heading(pdf, font, content.manage_heading)
    top = pdf.get_y()
    qr_x = pdf.w - MARGIN - QR_SIZE
    pdf.set_right_margin(MARGIN + QR_SIZE + QR_GAP)
    pdf.set_font(font, "", BODY)
    line(pdf, LINE, content.manage_intro)
    bullet = "•" if font == "DejaVu" else "-"
    for item in content.manage_items:
        pdf.set_x(MARGIN + 1)
        pdf.cell(4, LINE, bullet)
        pdf.multi_cell(0, LINE, item, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_right_margin(MARGIN)
    text_bottom = pdf.get_y()
    _qr(pdf, content.qr_url, qr_x, top, QR_SIZE)
    pdf.set_xy(qr_x - 4, top + QR_SIZE + 1)
    pdf.set_font(font, "", 8)
    pdf.cell(QR_SIZE + 8, 4, content.qr_caption, align="C")
    pdf.set_xy(MARGIN, max(text_bottom, top + QR_SIZE + 5))


def render_pdf(facts: ReceiptFacts, pharmacy: str, now: dt.datetime) -> bytes:
    """The accusé as PDF bytes: one A5 page."""
    content = receipt_content(facts, pharmacy, now)
    pdf, font = _pdf()
    pdf.add_page()
    pdf.set_font(font, "B", 15)
    line(pdf, 7.5, content.title)
    pdf.ln(1)
    pdf.set_font(font, "", BODY)
    line(pdf, LINE, content.lead)
    pdf.ln(2.5)
    _entries(pdf, font, content.person)
    pdf.ln(2)
    _entries(pdf, font, content.visit)
    if content.handed_over:
        pdf.set_font(font, "", BODY)
        line(pdf, LINE, content.handed_over)
    _heading(pdf, font, content.choices_heading)
    _entries(pdf, font, content.choices)
    _access(pdf, font, content)
    _manage(pdf, font, content)
    return bytes(pdf.output())


def write_receipt(
    spool: Path, facts: ReceiptFacts, pharmacy: str, now: dt.datetime | None = None
) -> Path:
    """Write the receipt PDF (0600: it holds the patient's name and may hold the password)
    and return its path.

    The file appears under its final name only once complete (written as a hidden
    ``.part`` file, then renamed), so a spool watcher never prints half a receipt.
    """
    now = now or dt.datetime.now(dt.UTC)
    data = render_pdf(facts, pharmacy, now)
    spool.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"receipt-{now.astimezone(PARIS):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.pdf"
    path = spool / name
    partial = spool / f".{name}.part"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path
