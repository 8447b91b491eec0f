"""The accusé de création as PDF: one A5 page that says for whom, when, where, by whom,
the choices made and how to manage the DMP, with a QR code to Mon espace santé; the
secrets on paper only, the file private. Read back with pdftotext, pdfinfo, pdftoppm."""

from __future__ import annotations

import datetime as dt
import re
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import qrcode  # type: ignore[import-untyped]
from PIL import Image

from kiosk.dmp.models import Guardian, WebAccess
from kiosk.documents.content import SPACE_URL, receipt_content
from kiosk.documents.facts import ReceiptFacts
from kiosk.documents.receipt import MARGIN, QR_SIZE, write_receipt

AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)  # 10:30 in Paris
ACCESS = WebAccess("P123456789", "s3cr3t-Pw_x")
LONG_PHARMACY = "Grande Pharmacie de la Place de l'Hôtel-de-Ville et des Quatre-Chemins"
DPI = 200


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def flat(text: str) -> str:
    """pdftotext's words on one line: a wrapped paragraph reads as one."""
    return " ".join(text.split())


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    found = re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def child(language: str = "fr", **changes: object) -> ReceiptFacts:
    """A minor's accusé with everything on it: guardian, pharmacist, secrets, handed over."""
    base = ReceiptFacts("created", language, "Léa", "MARTIN", "20150312",
                        Guardian("MARTIN", "Sophie", "mere"), "Claire DUPONT",
                        bris_de_glace=True, centre15=False, web_access_requested=True,
                        web_access=ACCESS, patient_left=True)  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_receipt_with_web_access_prints_both_secrets(tmp_path: Path, language: str) -> None:
    path = write_receipt(tmp_path, child(language), "Pharmacie de démonstration", AT)
    text = pdf_text(path)
    assert "P123456789" in text
    assert "s3cr3t-Pw_x" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "s3cr3t-Pw_x" not in repr(ACCESS)


def test_french_accusé_says_who_when_where_and_the_choices(tmp_path: Path) -> None:
    text = flat(pdf_text(write_receipt(tmp_path, child(), "Pharmacie du Marché", AT)))
    for expected in (
        "Accusé de création de votre DMP",
        "Pour : Léa MARTIN",
        "Date de naissance : 12/03/2015",
        "Parent ou tuteur : Sophie MARTIN (mère)",
        "Date : 23/11/2026 à 10:30",  # Europe/Paris on paper
        "Pharmacie : Pharmacie du Marché",
        "Pharmacien·ne : Claire DUPONT",
        "Ce document vous est remis par votre pharmacien·ne.",
        "Ouverture en cas d'urgence (bris de glace) : oui",
        "Lecture par le médecin du SAMU-Centre 15 : non",
        "Accès en ligne demandé : oui",
        "www.monespacesante.fr",
        "masquer",
        "bloquer un professionnel",
        "voir qui a regardé votre DMP",
        "fermer votre DMP",
    ):
        assert expected in text


def test_english_accusé(tmp_path: Path) -> None:
    receipt = child("en", guardian=Guardian("MARTIN", "Paul", "tuteur"), bris_de_glace=False,
                    web_access_requested=False, web_access=None, patient_left=False)  # fmt: skip
    text = flat(pdf_text(write_receipt(tmp_path, receipt, "Pharmacie du Marché", AT)))
    for expected in (
        "Your DMP has been opened",
        "For: Léa MARTIN",
        "Date of birth: 12/03/2015",
        "Parent or guardian: Paul MARTIN (guardian)",
        "Date: 23/11/2026 at 10:30",
        "Pharmacist: Claire DUPONT",
        "Opening in an emergency (break-the-glass): no",
        "Reading by the SAMU-Centre 15 doctor: no",
        "Online access requested: no",
        "hide a document",
        "block a health professional",
        "see who looked at your DMP",
        "close your DMP",
    ):
        assert expected in text
    assert "hands you" not in text  # the patient was there
    assert "Identifier" not in text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("19750000", "1975"), ("19750300", "03/1975"), ("19800231", "02/1980"),
     ("", "inconnue"), ("1975", "inconnue")],
)  # fmt: skip
def test_lunar_and_unreadable_birth_dates_print(tmp_path: Path, raw: str, shown: str) -> None:
    text = flat(pdf_text(write_receipt(tmp_path, child(birth_date=raw), "Pharmacie", AT)))
    assert f"Date de naissance : {shown}" in text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_one_a5_page_even_with_everything_and_long_names(tmp_path: Path, language: str) -> None:
    receipt = child(language, first_name="Marie-Christine Alexandra Bénédicte",
                    last_name="DE LA ROCHEFOUCAULD-MONTMORENCY D'ARTAGNAN",
                    guardian=Guardian("DE LA ROCHEFOUCAULD-MONTMORENCY", "Anne-Sophie", "mere"),
                    pharmacist="Marie-Charlotte VAN DEN BERGHE-LEFEBVRE")  # fmt: skip
    path = write_receipt(tmp_path, receipt, LONG_PHARMACY, AT)
    assert pages(path) == 1
    size = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert "419.53 x 595.28 pts" in size.stdout  # A5
    text = flat(pdf_text(path))
    assert "ROCHEFOUCAULD-MONTMORENCY D'ARTAGNAN" in text
    assert "s3cr3t-Pw_x" in text
    assert text.rstrip().endswith("Mon espace santé")  # the last line made it onto the page


def test_the_pdf_reads_in_the_content_order(tmp_path: Path) -> None:
    """The ticket prints the same texts in this order (test_receipt_content)."""
    content = receipt_content(child(), "Pharmacie du Marché", AT)
    text = flat(pdf_text(write_receipt(tmp_path, child(), "Pharmacie du Marché", AT)))
    at = 0
    for expected in content.texts():
        found = text.find(flat(expected), at)
        assert found >= 0, expected
        at = found + len(flat(expected))


def test_receipt_without_web_access_has_no_codes(tmp_path: Path) -> None:
    receipt = child(outcome="reactivated", web_access=None, web_access_requested=False)
    text = pdf_text(write_receipt(tmp_path, receipt, "Pharmacie"))
    assert "Réactivation" in text
    assert "Mot de passe" not in text


def test_the_qr_code_opens_mon_espace_sante(tmp_path: Path) -> None:
    """The page as a printer sees it: the code's modules, read back at their centres,
    are the QR code of https://www.monespacesante.fr."""
    path = write_receipt(tmp_path, child(), "Pharmacie", AT)
    subprocess.run(["pdftoppm", "-gray", "-png", "-r", str(DPI), "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(SPACE_URL)
    code.make(fit=True)
    expected: list[list[bool]] = code.get_matrix()
    with Image.open(tmp_path / "page.png") as image:
        page = image.convert("L")
    px = DPI / 25.4
    module = QR_SIZE / len(expected) * px
    left = (148 - MARGIN - QR_SIZE) * px

    def dark(row: float, column: int) -> bool:
        value = page.getpixel((int(left + (column + 0.5) * module), int(row)))
        assert isinstance(value, int)  # a grey level: the page is "L"
        return value < 128

    def read(top: float) -> list[list[bool]]:
        return [[dark(top + (r + 0.5) * module, c) for c in range(len(expected))]
                for r in range(len(expected))]  # fmt: skip

    def first_row_at(y: int) -> bool:
        return all(dark(y + module / 2, c) == cell for c, cell in enumerate(expected[0]))

    tops = [y for y in range(page.height - int(QR_SIZE * px)) if first_row_at(y)]
    assert tops, "no QR code on the page"
    assert read(tops[len(tops) // 2]) == expected
