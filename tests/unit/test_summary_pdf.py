"""The accountant's PDF summary read as an accountant would: a real ledger (the Ledger
class, SQLite in tmp_path), the PDF drawn, its text read back with poppler's pdftotext
and, for colours, its pixels with pdftoppm."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.french import long_date, paris_moment
from kiosk.billing.keys import PUBLIC_KEY_FILE, load_or_create_keys, public_key_hex
from kiosk.billing.ledger import Ledger, Payment
from kiosk.billing.summary import Check, summarize
from kiosk.billing.summary_pdf import render

RPPS = "10001234567"
CONSENT = ConsentRecord("v1", "ab" * 32, True, True, True, False, "fr", RPPS)
# 08:30 UTC is 09:30 in Paris in winter
GENERATED = dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC)
MONEY = re.compile(r"\d+,\d\d ?€")


def build(state: Path, paid_cents: int = 300, opening_days: int = 5) -> Path:
    """Openings on 3–7 November and 1–2 December 2026 (one a day, so one checkpoint a
    day), and one payment covering all of 2026."""
    keys = load_or_create_keys(state, "kiosk-test")
    days = [dt.datetime(2026, 11, 3 + i, 10, tzinfo=dt.UTC) for i in range(opening_days)]
    days += [dt.datetime(2026, 12, 1 + i, 10, tzinfo=dt.UTC) for i in range(2)]
    with Ledger(state / "ledger.db", keys) as book:
        for i, at in enumerate(days):
            act = book.begin("DMP_OPEN", RPPS, f"2800575{i:06d}42", CONSENT, at=at)
            book.finish(act, "confirmed", at=at + dt.timedelta(seconds=20))
        pay_at = dt.datetime(2026, 12, 2, 15, tzinfo=dt.UTC)
        payment = Payment("2026-12-02", "ROSP-2026", paid_cents, "2026-01-01", "2026-12-31")
        book.import_payments([payment], at=pay_at)
        book.checkpoint(at=pay_at)
    return state / "ledger.db"


@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def write_pdf(
    path: Path, out: Path, start: dt.date | None = None, end: dt.date | None = None
) -> Path:
    with opened(path) as conn:
        render(summarize(conn, start, end, path.parent, generated=GENERATED), out)
    return out


def text_of(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def tamper(path: Path, sql: str, *triggers: str) -> None:
    conn = sqlite3.connect(path)
    for trigger in triggers:
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute(sql)
    conn.commit()
    conn.close()


def checkpoints(path: Path) -> list[tuple[str, int, str]]:
    with opened(path) as conn:
        rows = conn.execute("SELECT day, seq, head FROM checkpoints ORDER BY day").fetchall()
    return [(str(d), int(s), str(h)) for d, s, h in rows]


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return build(tmp_path / "state")


def altered(ledger: Path) -> Path:
    tamper(ledger, "UPDATE entries SET amount_cents = 200 WHERE seq = 2",
           "entries_append_only_update")  # fmt: skip
    return ledger


# -- 1. the verdict first; a ledger that does not verify shows no figure ----------------


def test_the_verdict_comes_before_any_figure(ledger: Path, tmp_path: Path) -> None:
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    verdict = text.index("Registre intact")
    first_figure = min(text.index(word) for word in ("DMP ouverts", "Montant dû", "Payé"))
    assert verdict < first_figure
    assert verdict < MONEY.search(text).start()  # type: ignore[union-attr]


def test_an_altered_ledger_shows_no_figure(ledger: Path, tmp_path: Path) -> None:
    text = text_of(write_pdf(altered(ledger), tmp_path / "s.pdf"))
    assert "Registre altéré à l'entrée n° 2" in text
    assert "Aucun chiffre" in text
    assert not MONEY.search(text), MONEY.findall(text)
    for figure_label in ("Montant dû", "Payé", "Reste à percevoir", "DMP ouverts", "ROSP-2026",
                         "novembre 2026"):  # fmt: skip
        assert figure_label not in text, figure_label
    assert "Registre intact" not in text


@pytest.mark.parametrize(
    ("sql", "trigger", "check"),
    [
        ("UPDATE entries SET amount_cents = 200 WHERE seq = 2", "entries_append_only_update",
         Check.BROKEN),
        ("UPDATE acts SET amount_cents = 500 WHERE rowid = 1", None, Check.TABLES),
        ("UPDATE checkpoints SET signature = '00' || substr(signature, 3)"
         " WHERE day = '2026-11-04'", None, Check.CHECKPOINT),
        ("DELETE FROM entries WHERE seq = (SELECT MAX(seq) - 1 FROM entries)",
         "entries_append_only_delete", Check.BROKEN),
    ],
)  # fmt: skip
def test_each_failure_is_told_by_its_kind_in_french(
    ledger: Path, tmp_path: Path, sql: str, trigger: str | None, check: Check
) -> None:
    tamper(ledger, sql, *([trigger] if trigger else []))
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    assert "Registre altéré" in text
    assert not MONEY.search(text)
    assert_french(text)
    with opened(ledger) as conn:  # told by a typed kind, not by the English message
        assert summarize(conn, None, None, ledger.parent).integrity.check is check


def test_a_key_not_this_ledgers_is_not_called_altered(ledger: Path, tmp_path: Path) -> None:
    other = public_key_hex(Ed25519PrivateKey.generate().public_key())
    (ledger.parent / PUBLIC_KEY_FILE).write_text(other + "\n")
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    assert "clé publique absente ou d'un autre registre" in text
    assert "Registre altéré" not in text
    assert not MONEY.search(text)
    assert_french(text)
    with opened(ledger) as conn:
        assert summarize(conn, None, None, ledger.parent).integrity.check is Check.KEY_MISMATCH


def test_without_a_key_no_figure_is_vouched_for(ledger: Path, tmp_path: Path) -> None:
    """The chain holds (``kiosk ledger verify`` says so), but without the key it is plain
    SHA-256 that whoever edits a copy recomputes: the page shows the verdict, no figure."""
    (ledger.parent / PUBLIC_KEY_FILE).unlink()
    (ledger.parent / "ledger-signing.key").unlink()
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    assert "Chaîne intacte, signatures non vérifiées" in text
    assert "Registre intact" not in text
    assert "Aucun point de contrôle signé vérifié" in text
    assert not MONEY.search(text)


# -- 2. all of it in French, Paris time --------------------------------------------------

ENGLISH = re.compile(  # words of the ledger's English messages that are not French
    r"\b(entry|entries|altered|ledger|checkpoints?|signed|key|given|differs|derived|damaged"
    r"|append-only|missing|unreadable|does not|was|UTC)\b",
    re.IGNORECASE,
)


# Names the technician types, quoted as they are: not English prose.
IDENTIFIERS = re.compile(r"« kiosk ledger verify( --public-key)? »|ledger-signing\.pub")


def assert_french(text: str) -> None:
    prose = IDENTIFIERS.sub("", text)
    assert not ENGLISH.search(prose), ENGLISH.findall(prose)
    assert not re.search(r"\d{4}-\d\d-\d\d", text), "an ISO date"


def test_an_intact_summary_is_in_french_at_paris_time(ledger: Path, tmp_path: Path) -> None:
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    assert_french(text)
    assert "Éditée le 1er décembre 2026 à 09:30 (heure de Paris)" in text


def test_an_altered_summary_is_in_french(ledger: Path, tmp_path: Path) -> None:
    text = text_of(write_pdf(altered(ledger), tmp_path / "s.pdf"))
    assert_french(text)
    assert "la suivante a été modifiée, supprimée, insérée ou déplacée" in text


def test_summer_time_in_paris(ledger: Path, tmp_path: Path) -> None:
    with opened(ledger) as conn:
        summary = summarize(conn, None, None, ledger.parent,
                            generated=dt.datetime(2027, 7, 1, 22, 30, tzinfo=dt.UTC))  # fmt: skip
    render(summary, tmp_path / "s.pdf")
    assert "Éditée le 2 juillet 2027 à 00:30 (heure de Paris)" in text_of(tmp_path / "s.pdf")


# -- 3. an overpayment is not "fine" ------------------------------------------------------


def ink_of(pdf: Path, word: str) -> tuple[int, int, int]:
    """The darkest pixel's colour in the box of the first ``word`` on the page."""
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    found = re.search(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">' + re.escape(word) + "<",
        boxes,
    )
    assert found, word
    x0, y0, x1, y1 = (float(v) for v in found.groups())  # points: 72 dpi gives pixels
    crop = ["-x", str(int(x0)), "-y", str(int(y0)), "-W", str(int(x1 - x0) + 1),
            "-H", str(int(y1 - y0) + 1)]  # fmt: skip
    ppm = subprocess.run(["pdftoppm", "-r", "72", *crop, str(pdf)], capture_output=True,
                         check=True).stdout  # fmt: skip
    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", ppm)
    assert header
    pixels = ppm[header.end() :]
    rgb = [tuple(pixels[i : i + 3]) for i in range(0, len(pixels) - 2, 3)]
    r, g, b = min(rgb, key=sum)
    return r, g, b


def test_an_overpayment_is_called_so_and_not_green(tmp_path: Path) -> None:
    path = build(tmp_path / "state", paid_cents=1000)  # 7,00 € due, 10,00 € paid
    pdf = write_pdf(path, tmp_path / "s.pdf")
    text = text_of(pdf)
    assert "Trop-perçu ou paiement non rapproché : 3,00 €" in text
    assert "-3,00 €" not in text
    assert "Reste à percevoir" not in text
    r, g, _ = ink_of(pdf, "Trop-perçu")
    assert r > g, "drawn in green as if it were fine"


def test_what_is_still_owed_is_red(tmp_path: Path) -> None:
    pdf = write_pdf(build(tmp_path / "state", paid_cents=300), tmp_path / "s.pdf")
    assert "Reste à percevoir (tout le registre) : 4,00 €" in text_of(pdf)
    r, g, b = ink_of(pdf, "Reste")
    assert r > 2 * g
    assert r > 2 * b


# -- 4. the period's figures apart from the whole register's payments ---------------------


def test_the_period_and_the_whole_register_are_apart(ledger: Path, tmp_path: Path) -> None:
    """November only: 5 openings; the payment covers 2026, so it is not the period's."""
    pdf = write_pdf(ledger, tmp_path / "s.pdf", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    text = text_of(pdf)
    period = text.index("Sur la période : du 01/11/2026 au 30/11/2026")
    register = text.index("Paiements reçus et rapprochement — tout le registre")
    assert period < register
    figures = text[period:register]
    assert "5,00 €" in figures  # due for November
    for whole_register_word in ("Payé", "Reste à percevoir", "ROSP-2026", "Trop-perçu"):
        assert whole_register_word not in figures, whole_register_word
    payments = text[register:]
    assert "ROSP-2026" in payments
    assert re.search(r"Tout le registre\s+7\s+7,00 €\s+3,00 €\s+4,00 €", payments), payments


# -- 5. the last checkpoint named is one that verified -------------------------------------


def test_a_checkpoint_that_failed_is_never_named(ledger: Path, tmp_path: Path) -> None:
    day, _seq, head = max(checkpoints(ledger), key=lambda c: (c[1], c[0]))
    tamper(ledger, f"UPDATE checkpoints SET signature = '00' || substr(signature, 3)"
           f" WHERE day = '{day}'")  # fmt: skip
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    assert head[:16] not in text
    assert "Dernier point de contrôle" not in text
    assert "Aucun point de contrôle signé vérifié" in text


def test_an_altered_ledger_names_no_checkpoint(ledger: Path, tmp_path: Path) -> None:
    heads = [head[:16] for _, _, head in checkpoints(ledger)]
    text = text_of(write_pdf(altered(ledger), tmp_path / "s.pdf"))
    assert not [head for head in heads if head in text]
    assert "Dernier point de contrôle" not in text


def test_an_intact_ledger_names_its_last_checkpoint(ledger: Path, tmp_path: Path) -> None:
    day, seq, head = max(checkpoints(ledger), key=lambda c: (c[1], c[0]))
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    expected = f"Dernier point de contrôle signé vérifié : {dt.date.fromisoformat(day):%d/%m/%Y}"
    assert f"{expected}, entrée n° {seq}, empreinte {head[:16]}" in text


def test_an_unreadable_key_is_not_verified(ledger: Path, tmp_path: Path) -> None:
    """As ``kiosk ledger verify`` refuses it, the summary vouches for no figure."""
    (ledger.parent / PUBLIC_KEY_FILE).write_text("not a key\n")
    text = text_of(write_pdf(ledger, tmp_path / "s.pdf"))
    assert "Registre non vérifié : la clé publique est illisible" in text
    assert not MONEY.search(text)
    assert_french(text)


def test_long_dates_and_paris_moments() -> None:
    assert long_date(dt.date(2026, 12, 1)) == "1er décembre 2026"
    assert long_date(dt.date(2027, 8, 15)) == "15 août 2027"
    # the last minute of 2026 in UTC is already 2027 in Paris
    assert paris_moment(dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC)) == (
        "1er janvier 2027 à 00:59"
    )
