"""The patient's paper: the "accusé de création" and, when web access was created, the
access secrets (identifier and provisional password), printed on paper only
[V EX_GEN-1470: never both on one electronic channel]. PDF via fpdf2 into a spool
directory the printer service (CUPS or ESC/POS) prints from, then deletes.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from kiosk.dmp.models import WebAccess

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PARIS = ZoneInfo("Europe/Paris")

TITLES = {
    "created": {"fr": "Accusé de création de votre DMP", "en": "Your DMP has been opened"},
    "reactivated": {"fr": "Réactivation de votre DMP", "en": "Your DMP has been reactivated"},
}


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


def write_receipt(
    spool: Path,
    outcome: str,
    language: str,
    pharmacy: str,
    web_access: WebAccess | None,
    now: dt.datetime | None = None,
) -> Path:
    """Write the receipt PDF (0600: it may hold the password) and return its path."""
    now = now or dt.datetime.now(dt.UTC)
    local = now.astimezone(PARIS)
    pdf, font = _pdf()
    pdf.add_page()
    pdf.set_font(font, "B", 16)
    title = TITLES.get(outcome, TITLES["created"])[language if language == "en" else "fr"]
    line(pdf, 9, title)
    pdf.set_font(font, "", 11)
    when = local.strftime("%d/%m/%Y %H:%M")
    line(pdf, 6, f"{pharmacy} — {when}")
    pdf.ln(3)
    body = (
        "Votre Dossier Médical Partagé est ouvert. Vous pouvez le consulter sur "
        "www.monespacesante.fr et le fermer à tout moment."
        if language != "en"
        else "Your Shared Medical Record is open. You can read it on www.monespacesante.fr "
        "and close it at any time."
    )
    line(pdf, 6, body)
    if web_access is not None:
        pdf.ln(4)
        pdf.set_font(font, "B", 12)
        line(pdf, 7, "Vos codes d'accès en ligne" if language != "en" else "Your online access")
        pdf.set_font(font, "", 12)
        line(pdf, 7, f"Identifiant / Identifier : {web_access.identifier}")
        line(pdf, 7, f"Mot de passe provisoire / Provisional password : {web_access.password}")
        pdf.set_font(font, "", 9)
        line(pdf, 5,
            "Gardez ce papier en lieu sûr. Vous changerez ce mot de passe à la première connexion."
            if language != "en"
            else "Keep this paper safe. You will change the password when you first log in.",
        )  # fmt: skip
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / f"receipt-{local:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.pdf"
    data = bytes(pdf.output())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path
