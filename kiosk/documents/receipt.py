"""The patient's paper: the "accusé de création" and, when web access was created, the
access secrets (identifier and provisional password), printed on paper only
[V EX_GEN-1470: never both on one electronic channel]. PDF via fpdf2 into a spool
directory the printer service (CUPS or ESC/POS) prints from, then deletes.

fpdf2 costs the process that imports it ~34 MiB: the kiosk does not import this module,
``kiosk.documents.printing`` runs it in a child process (``kiosk.documents.render``).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

from fpdf import FPDF

from kiosk.dmp.models import WebAccess
from kiosk.documents.content import PARIS, TITLES, receipt_content

__all__ = ["FONT_DIR", "PARIS", "TITLES", "line", "render_pdf", "write_receipt"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def line(pdf: FPDF, height: float, text: str) -> None:
    """A paragraph, then back to the left margin for the next one."""
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _pdf() -> tuple[FPDF, str]:
    pdf = FPDF(format=(148, 210))  # A5 in mm
    pdf.set_auto_page_break(auto=True, margin=12)
    if (FONT_DIR / "DejaVuSans.ttf").exists():
        pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        return pdf, "DejaVu"
    return pdf, "Helvetica"  # core font: Latin-1 only, enough for French


def render_pdf(
    outcome: str,
    language: str,
    pharmacy: str,
    web_access: WebAccess | None,
    now: dt.datetime,
) -> bytes:
    """The receipt as PDF bytes."""
    content = receipt_content(outcome, language, pharmacy, web_access, now)
    pdf, font = _pdf()
    pdf.add_page()
    pdf.set_font(font, "B", 16)
    line(pdf, 9, content.title)
    pdf.set_font(font, "", 11)
    line(pdf, 6, f"{content.pharmacy} — {content.when}")
    pdf.ln(3)
    line(pdf, 6, content.next_steps)
    access = content.access
    if access is not None:
        pdf.ln(4)
        pdf.set_font(font, "B", 12)
        line(pdf, 7, access.heading)
        pdf.set_font(font, "", 12)
        line(pdf, 7, f"{access.identifier_label} : {access.identifier}")
        line(pdf, 7, f"{access.password_label} : {access.password}")
        pdf.set_font(font, "", 9)
        line(pdf, 5, access.advice)
    return bytes(pdf.output())


def write_receipt(
    spool: Path,
    outcome: str,
    language: str,
    pharmacy: str,
    web_access: WebAccess | None,
    now: dt.datetime | None = None,
) -> Path:
    """Write the receipt PDF (0600: it may hold the password) and return its path.

    The file appears under its final name only once complete (written as a hidden
    ``.part`` file, then renamed), so a spool watcher never prints half a receipt.
    """
    now = now or dt.datetime.now(dt.UTC)
    data = render_pdf(outcome, language, pharmacy, web_access, now)
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
