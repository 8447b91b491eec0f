"""The paper receipt: the secrets are on paper only, and the file is private."""

from __future__ import annotations

import datetime as dt
import stat
import subprocess
from pathlib import Path

import pytest

from kiosk.dmp.models import WebAccess
from kiosk.documents.receipt import write_receipt


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


@pytest.mark.parametrize("language", ["fr", "en"])
def test_receipt_with_web_access_prints_both_secrets(tmp_path: Path, language: str) -> None:
    access = WebAccess("P123456789", "s3cr3t-Pw_x")
    at = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    path = write_receipt(tmp_path, "created", language, "Pharmacie de démonstration", access, at)
    text = pdf_text(path)
    assert "P123456789" in text
    assert "s3cr3t-Pw_x" in text
    assert "23/11/2026 10:30" in text  # Europe/Paris on paper
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "s3cr3t-Pw_x" not in repr(access)


def test_receipt_without_web_access_has_no_codes(tmp_path: Path) -> None:
    text = pdf_text(write_receipt(tmp_path, "reactivated", "fr", "Pharmacie", None))
    assert "Réactivation" in text
    assert "Mot de passe" not in text
