"""``kiosk ledger export`` end to end: a real ledger, the CLI in a subprocess, and the
files checked with independent tools (Python's csv module, poppler's pdfinfo/pdftotext)."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.exports import CSV_HEADER, STATUS_FR, export_pdf
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger, Payment
from tests.conftest import run_kiosk

RPPS = "10001234567"
CONSENT = ConsentRecord("v1", "ab" * 32, True, True, True, False, "fr", RPPS)
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Book:
    state: Path
    ins: list[str]

    @property
    def path(self) -> Path:
        return self.state / "ledger.db"

    def query(self, sql: str) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def _ins(i: int) -> str:
    return f"2800575{i:06d}42"


def build(state: Path) -> Book:
    """1,240 openings Jan–Sep 2026 and 4 in Jan 2027 (1 244,00 € due), a paid 2026, and
    one act of every other kind."""
    keys = load_or_create_keys(state, "kiosk-test")
    used: list[str] = []
    with Ledger(state / "ledger.db", keys) as book:
        start = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)
        moments = [start + dt.timedelta(hours=5 * i) for i in range(1240)]
        moments += [dt.datetime(2027, 1, 5 + i, 10, tzinfo=dt.UTC) for i in range(4)]
        for i, at in enumerate(moments):
            used.append(_ins(i))
            act = book.begin("DMP_OPEN", RPPS, used[-1], CONSENT, at=at)
            book.finish(act, "confirmed", at=at + dt.timedelta(seconds=20))
        at = dt.datetime(2026, 10, 2, 9, tzinfo=dt.UTC)
        for i, status in enumerate(("failed", "already_existed", "confirmed")):
            used.append(_ins(2000 + i) if status != "confirmed" else _ins(7))  # 7: a duplicate
            act = book.begin("DMP_OPEN", RPPS, used[-1], CONSENT, at=at)
            book.finish(act, status, at=at)
        used.append(_ins(3000))
        book.begin("DMP_OPEN", RPPS, used[-1], CONSENT, at=at)  # left pending
        book.record_refusal("DMP_OPEN", RPPS, CONSENT, at=at)
        book.import_payments([Payment("2027-04-15", "ROSP-2026", 4100, "2026-01-01", "2026-12-31")])
    return Book(state, used)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    return build(tmp_path_factory.mktemp("ledger") / "state")


def export(book: Book, fmt: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_kiosk(
        "ledger", "export", "--format", fmt, "--out", str(out), "--ledger", str(book.path), *extra
    )


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    return list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=";"))


# -- CSV --------------------------------------------------------------------------------------


def test_csv_opens_in_a_french_spreadsheet(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "registre.csv"
    result = export(book, "csv", out)
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert raw.startswith(
        BOM + b"jour;mois;acte;statut;code_statut;montant;rpps;doublon;id_acte\r\n"
    )
    header, *rows = read_csv(out)
    assert tuple(header) == CSV_HEADER
    assert len(rows) == book.query("SELECT COUNT(*) FROM acts")[0][0] == 1249
    for day, month, act, status, code, amount, rpps, duplicate, act_id in rows:
        assert re.fullmatch(r"\d\d/\d\d/\d{4}", day)
        assert month == f"{day[6:]}-{day[3:5]}"  # 2026-01
        assert re.fullmatch(r"\d+,\d\d", amount), amount
        assert (act, rpps, duplicate in ("oui", "non")) == ("DMP_OPEN", RPPS, True)
        assert re.fullmatch(r"[0-9a-f]{32}", act_id)
        assert code in ("confirmed", "failed", "already_existed", "refused", "pending")
        assert status == STATUS_FR[code]  # French words for the accountant
    assert sum(int(r[5].replace(",", "")) for r in rows) == 124400
    assert [r[4] for r in rows if r[7] == "oui"] == ["confirmed"]
    assert rows[0][:6] == ["05/01/2026", "2026-01", "DMP_OPEN", "ouvert (rémunéré)",
                           "confirmed", "1,00"]  # fmt: skip


def test_csv_holds_no_patient_data(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "registre.csv"
    assert export(book, "csv", out).returncode == 0
    text = out.read_text(encoding="utf-8-sig")
    keys = [str(k) for (k,) in book.query("SELECT patient_key FROM acts WHERE patient_key != ''")]
    assert len(keys) == 1248
    assert len(book.ins) == 1248
    assert not [ins for ins in book.ins if ins in text]
    assert not [key for key in keys if key in text or key[:16] in text]


def test_csv_period_filter(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "janvier.csv"
    result = export(book, "csv", out, "--from", "2027-01-01", "--to", "2027-01-31")
    assert result.returncode == 0, result.stderr
    _header, *rows = read_csv(out)
    assert [r[0] for r in rows] == ["05/01/2027", "06/01/2027", "07/01/2027", "08/01/2027"]


# -- PDF --------------------------------------------------------------------------------------


def test_pdf_is_one_a4_page_with_french_totals(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "synthese.pdf"
    result = export(book, "pdf", out)
    assert result.returncode == 0, result.stderr
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M)
    assert "(A4)" in info.stdout
    text = pdf_text(out)
    for expected in ("kiosk-test", "du 05/01/2026 au 08/01/2027", "1 244,00 €", "41,00 €",
                     "1 203,00 €", "1 244", "janvier 2026", "septembre 2026", "décembre 2026",
                     "janvier 2027", "ROSP-2026", "1 199,00 €", "Registre intact"):  # fmt: skip
        assert expected in text, expected
    day, head = book.query("SELECT day, head FROM checkpoints ORDER BY seq DESC, day DESC")[0]
    assert f"{dt.date.fromisoformat(str(day)):%d/%m/%Y}" in text
    assert str(head)[:16] in text
    assert not [ins for ins in book.ins if ins in text]


def test_pdf_period_filter(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "2027.pdf"
    result = export(book, "pdf", out, "--from", "2027-01-01", "--to", "2027-12-31")
    assert result.returncode == 0, result.stderr
    text = pdf_text(out)
    assert "du 01/01/2027 au 31/12/2027" in text
    assert "janvier 2027" in text
    assert "janvier 2026" not in text
    assert re.search(r"DMP ouverts sur la période\s+Montant dû pour la période\s*\n\s*4\s+4,00 €",
                     text)  # fmt: skip
    # what was paid is the whole register's, in its own section, never the period's
    register = text.index("Paiements reçus et rapprochement — tout le registre")
    assert "Payé" not in text[:register]
    assert re.search(r"Tout le registre\s+1 244\s+1 244,00 €\s+41,00 €\s+1 203,00 €", text)


def test_pdf_of_a_tampered_ledger_says_not_intact(book: Book, tmp_path: Path) -> None:
    copy = Book(tmp_path / "state", book.ins)
    shutil.copytree(book.state, copy.state)
    conn = sqlite3.connect(copy.path)
    conn.execute("DROP TRIGGER entries_append_only_update")
    conn.execute("UPDATE entries SET amount_cents = 200 WHERE seq = 2")
    conn.commit()
    conn.close()
    out = tmp_path / "synthese.pdf"
    result = export(copy, "pdf", out)
    assert result.returncode == 0, result.stderr
    text = pdf_text(out)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[3] == "Registre altéré à l'entrée n° 2"  # under the title, before anything
    assert "entry" not in text  # the ledger's English reason never reaches the page
    assert "Registre intact" not in text
    assert "€" not in text.replace("1 € par DMP ouvert", "")  # no figure at all


def test_pdf_without_dejavu_writes_eur(book: Book, tmp_path: Path) -> None:
    """The CLI always uses Debian's DejaVu: the fallback is exercised directly."""
    out = tmp_path / "core.pdf"
    conn = sqlite3.connect(f"file:{book.path}?mode=ro", uri=True)
    try:
        export_pdf(conn, out, None, None, book.state, font_dir=tmp_path / "no-fonts")
    finally:
        conn.close()
    text = pdf_text(out)
    assert "1 244,00 EUR" in text
    assert "€" not in text
    assert "Registre intact" in text
    assert "février 2026" in text


# -- failures ---------------------------------------------------------------------------------


def test_unknown_format_is_a_one_line_error(book: Book, tmp_path: Path) -> None:
    out = tmp_path / "registre.xml"
    result = export(book, "xml", out)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "csv, xlsx or pdf" in result.stderr
    assert not out.exists()


def test_damaged_ledger_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "ledger.db"
    bad.write_bytes(b"not a database" * 400)
    out = tmp_path / "registre.csv"
    result = run_kiosk(
        "ledger", "export", "--format", "csv", "--out", str(out), "--ledger", str(bad)
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "cannot read the ledger" in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("*.part"))


def test_xlsx_opens_right_with_dates_numbers_and_text(book: Book, tmp_path: Path) -> None:
    """What LibreOffice or Excel show with their defaults: a date cell, a number in euros,
    the RPPS and the act id as text (an 11-digit number would turn into 1,00012E+10)."""
    from openpyxl import load_workbook

    out = tmp_path / "registre.xlsx"
    result = export(book, "xlsx", out)
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out).active
    header, first, *rest = list(sheet.iter_rows())
    assert tuple(cell.value for cell in header) == CSV_HEADER
    assert len(rest) + 1 == 1249
    day, month, act, status, code, amount, rpps, duplicate, act_id = first
    assert day.is_date
    assert day.value.date() == dt.date(2026, 1, 5)
    assert day.number_format == "DD/MM/YYYY"
    assert (month.value, act.value, status.value, code.value) == (
        "2026-01",
        "DMP_OPEN",
        "ouvert (rémunéré)",
        "confirmed",
    )
    assert amount.value == 1.0
    assert "€" in amount.number_format
    assert (rpps.value, rpps.data_type, rpps.number_format) == (RPPS, "s", "@")
    assert duplicate.value == "non"
    assert act_id.data_type == "s"
    assert sum(round(row[5].value * 100) for row in [first, *rest]) == 124400
