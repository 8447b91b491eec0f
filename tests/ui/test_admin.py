"""The pharmacist admin in a real Kivy window (Xvfb): long press, code, figures,
payment import and exports, the CPS PIN typed on the keypad (wrong, then right) to the
emulated CPS through pcscd, then closed and locked again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import READERS, Pcscd, wait_for

pytestmark = pytest.mark.pcsc
ROOT = Path(__file__).resolve().parents[2]


def test_admin_long_press_code_figures_import_export_cps_pin(tmp_path: Path, pcscd: Pcscd) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ui" / "admin_driver.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=90, check=False, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["opened"] is True
    assert data["unlocked_with_wrong"] is False
    assert data["checking_code"] == "Vérification du code…"  # scrypt runs off the UI thread
    assert "Code incorrect (2 essai(s))" in data["wrong_code"]
    assert data["unlocked"] is True
    assert "3 DMP ouvert(s)" in data["year_text"]
    assert "1 paiement(s) importé(s)" in data["import_message"]
    assert "payé 2,00 €" in data["money_text"]
    assert "reste 1,00 €" in data["money_text"]
    assert data["exports"] == [".csv", ".pdf"]
    assert data["after_close"] == "welcome"
    assert data["locked_after_close"] is True
    assert Path(data["screenshot"]).exists()
    assert data["cps_before"] == "CPS insérée : code à saisir (3 essai(s) restant(s))"
    assert data["pin_keypad"] is True
    assert data["dots"] is True
    assert Path(data["keypad_screenshot"]).exists()
    assert data["wrong_pin_message"] == "Code CPS incorrect : 2 essai(s) restant(s)."
    assert data["cps_after_wrong"] == "CPS insérée : code à saisir (2 essai(s) restant(s))"
    assert data["right_pin_message"] == "Code CPS accepté."
    assert data["cps_after_right"] == "CPS de Claire DUPONT : insérée, code saisi (3 essais)"
    assert Path(data["pin_screenshot"]).exists()
    assert "1234" not in result.stderr  # the PIN is never logged
    wait_for(lambda: pcscd.absent(READERS[1]), 5, "the driver's CPS to be pulled")
