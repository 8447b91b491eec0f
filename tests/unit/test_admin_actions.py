"""The admin's payment import and exports answer with typed results the screen renders:
which file, which line, what is wrong, in the pharmacist's words; and an export that
cannot be written says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.billing.payments import PaymentProblem
from kiosk.core.admin_actions import (
    AdminActions,
    Exported,
    ExportFailed,
    ExportProblem,
    NoPaymentFiles,
    PaymentFileRefused,
    PaymentsImported,
)
from kiosk.core.lazy import Lazy
from kiosk.ui.i18n import render

HEADER = "date_paiement;reference;montant;periode_debut;periode_fin"
GOOD = "2027-04-15;ROSP-2026;12,00;2026-01-01;2026-12-31"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    book = Ledger(tmp_path / "state" / "ledger.db", load_or_create_keys(tmp_path / "state", "k"))
    yield book
    book.close()


def actions(ledger: Ledger, folder: Path) -> AdminActions:
    return AdminActions(Lazy.of(ledger), folder, folder.parent / "state")


def test_no_file_then_a_good_file(ledger: Ledger, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    assert actions(ledger, usb).import_payments() == NoPaymentFiles(str(usb))
    (usb / "paiements.csv").write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    result = actions(ledger, usb).import_payments()
    assert result == PaymentsImported(1, 1)
    assert not result.error
    assert render(result, "fr") == "1 paiement(s) importé(s) depuis 1 fichier(s)."


@pytest.mark.parametrize(
    ("content", "line", "problem", "french"),
    [
        (f"{HEADER}\n{GOOD}\n2027-04-15;R2;douze;2026-01-01;2026-12-31\n", 3,
         PaymentProblem.AMOUNT, "paiements.csv refusé (ligne 3) : montant illisible"),
        (f"{HEADER}\n2027-13-45;R3;1,00;2026-01-01;2026-12-31\n", 2, PaymentProblem.DATE,
         "paiements.csv refusé (ligne 2) : date illisible"),
        ("date;ref\n", 1, PaymentProblem.HEADER, "paiements.csv refusé (ligne 1) : l'en-tête"),
    ],
    ids=["amount", "date", "header"],
)  # fmt: skip
def test_a_bad_line_is_named_and_nothing_is_imported(
    ledger: Ledger, tmp_path: Path, content: str, line: int, problem: PaymentProblem, french: str
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "paiements.csv").write_text(content, encoding="utf-8")
    result = actions(ledger, usb).import_payments()
    assert result == PaymentFileRefused("paiements.csv", line, problem)
    assert result.error
    assert render(result, "fr").startswith(french)
    assert render(result, "fr").endswith("Rien n'a été importé de ce fichier.")
    assert ledger.payments() == []


def test_a_file_not_in_utf8_and_a_conflicting_reference(ledger: Ledger, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "paiements.csv").write_bytes(
        f"{HEADER}\n{GOOD}\n".replace("ROSP", "RÖSP").encode("latin-1")
    )
    assert actions(ledger, usb).import_payments() == PaymentFileRefused(
        "paiements.csv", None, PaymentProblem.ENCODING
    )
    (usb / "paiements.csv").write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    actions(ledger, usb).import_payments()
    (usb / "paiements.csv").write_text(f"{HEADER}\n{GOOD.replace('12,00', '13,00')}\n")
    result = actions(ledger, usb).import_payments()
    assert result == PaymentFileRefused("paiements.csv", None, PaymentProblem.CONFLICT)
    assert "avec d'autres valeurs" in render(result, "fr")
    assert "other values" in render(result, "en")


def test_exports_and_an_export_where_the_key_is_gone(ledger: Ledger, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    result = actions(ledger, usb).export()
    assert isinstance(result, Exported)
    assert sorted(p.suffix for p in usb.iterdir()) == [".csv", ".pdf"]
    (tmp_path / "not-a-folder").write_text("")
    failed = actions(ledger, tmp_path / "not-a-folder" / "usb").export()
    assert failed == ExportFailed(ExportProblem.NO_FOLDER)
    assert failed.error
    assert render(failed, "fr") == (
        "Export impossible : le dossier d'échange est absent (clé USB retirée ?)."
    )
