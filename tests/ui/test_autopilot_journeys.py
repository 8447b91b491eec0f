"""Whole journeys tapped through the real UI by the autopilot, on the real services, in
a driver subprocess: a closed DMP reactivated (the demo's sandbox starts empty, so this
one cannot go through `kiosk run --demo`), and a child's DMP with web access."""

from __future__ import annotations

import hashlib
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kiosk.sim.data import JOURNEYS_DIR
from tests.conftest import READERS, Pcscd, wait_for
from tests.ui.driving import SIZE, access_codes, pdf_text, png_size, run_driver

pytestmark = pytest.mark.pcsc

JOURNEYS = JOURNEYS_DIR
MOUSSA = 1  # on the Martin family's card


def autopilot(pcscd: Pcscd, plan: Path, out: Path, *extra: str) -> dict[str, Any]:
    run = run_driver("autopilot", str(plan), str(out), *extra, timeout=60)
    wait_for(partial(pcscd.absent, READERS[0]), 5, "the driver to pull its card")
    return run


def receipt_text(out: Path) -> str:
    (receipt,) = (out / "receipts").glob("*.pdf")
    return pdf_text(receipt)


def assert_secrets_never_shown(run: dict[str, Any], receipt: str) -> None:
    """What is on the paper (identifier, password) was never in a widget nor the flow."""
    identifier, password = access_codes(receipt)
    shown = [text for text in run["texts_seen"] if password in text or identifier in text]
    assert shown == []
    assert run["remote_web_access"] is False  # the journey let go of the secrets
    assert run["flow_holds_patient_data"] is False


def assert_consent_hash_is_of_what_was_seen(run: dict[str, Any]) -> None:
    """EX_1.1-1010: the ledger's consent hash, rebuilt from the texts the widgets showed
    (information, the representative's declaration and the boxes, the web-access warning),
    not from the code's tables."""
    seen = run["consent_seen"]
    parts = [*seen["information"], *seen["consent"], *seen.get("contact", [])]
    digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
    record = run["ledger_last_consent"]
    assert record["text_sha256"] == digest
    assert record["representative_role"] == "mere"
    assert record["warning_language"] == record["language"] == "fr"
    assert record["attestation"] == "site_code"
    assert len(seen["consent"]) == 4  # the declaration, then the three boxes


def assert_screenshots(run: dict[str, Any], out: Path) -> None:
    pngs = sorted((out / "shots").glob("*.png"))
    assert len(pngs) == len(run["screens"])
    assert {png_size(png) for png in pngs} == {SIZE}


def test_a_closed_dmp_is_reactivated(pcscd: Pcscd, tmp_path: Path) -> None:
    plan = tmp_path / "closed-reactivates.json"
    plan.write_text(json.dumps({
        "beneficiary": MOUSSA, "reactivate": True, "consent": True, "bris_de_glace": True,
        "centre15": False, "mobile": None, "email": "moussa.ndiaye@exemple.fr",
        "pharmacist_code": "2468", "language": "en",
    }))  # fmt: skip
    out = tmp_path / "out"
    run = autopilot(pcscd, plan, out, "--seed", f"{MOUSSA}=closed")
    assert run["outcome"] == "reactivated", run["log"]
    assert "closed" in run["screens"]
    assert "information" in run["screens"]
    assert run["screens"][-1] == "welcome"
    assert run["seeded_status"] == "active"
    assert len(run["dmps"]) == 1  # reactivated, not created again
    assert run["ledger_last_act"]["act_code"] == "DMP_REACTIVATE"
    assert run["ledger_last_act"]["status"] == "confirmed"
    assert run["ledger_ok"] is True
    text = receipt_text(out)
    assert "Your DMP has been reactivated" in text
    assert_secrets_never_shown(run, text)
    assert_screenshots(run, out)


def test_a_child_dmp_with_web_access(pcscd: Pcscd, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = autopilot(pcscd, JOURNEYS / "child-with-mobile.json", out)
    assert run["outcome"] == "created"
    for screen in ("guardian", "consent", "contact", "attestation", "done"):
        assert screen in run["screens"]
    (dmp,) = run["dmps"]
    assert dmp["guardian"] == {
        "last_name": "MARTIN", "first_name": "Jeanne", "role": "mere", "birth_date": "19800512"
    }  # fmt: skip
    assert dmp["web_access"] is True
    assert_consent_hash_is_of_what_was_seen(run)
    assert dmp["centre15_allowed"] is False
    assert run["ledger_last_act"]["act_code"] == "DMP_OPEN"
    assert run["ledger_last_act"]["status"] == "confirmed"
    text = receipt_text(out)
    assert "Mot de passe provisoire" in text
    assert_secrets_never_shown(run, text)
    assert_screenshots(run, out)


def test_web_access_refused_by_the_service_still_opens_the_dmp(
    pcscd: Pcscd, tmp_path: Path
) -> None:
    """TD1.5a fails after TD1.1 succeeded: the DMP is open and paid, the Done screen
    says online access could not be created, and no secret is printed."""
    out = tmp_path / "out"
    run = autopilot(
        pcscd, JOURNEYS / "child-with-mobile.json", out, "--fault", "web_access=http500"
    )
    assert run["outcome"] == "created"
    (dmp,) = run["dmps"]
    assert dmp["web_access"] is False
    assert run["ledger_last_act"]["status"] == "confirmed"
    assert any("accès en ligne n'a pas pu être créé" in text for text in run["texts_seen"])
    assert not any("sont imprimés sur papier" in text for text in run["texts_seen"])
    text = receipt_text(out)
    assert "Mot de passe" not in text


def test_a_dmp_that_already_exists_is_shown_not_created_nor_paid(
    pcscd: Pcscd, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run = autopilot(pcscd, JOURNEYS / "holder-creates.json", out, "--seed", "0=active")
    assert run["outcome"] == "already_exists", run["log"]
    assert run["screens"][-2:] == ["already_exists", "welcome"]
    for screen in ("information", "consent", "attestation", "creating"):
        assert screen not in run["screens"]
    assert len(run["dmps"]) == 1  # the seeded one, untouched
    assert run["ledger_last_act"] == {
        "act_code": "DMP_OPEN", "status": "already_existed", "amount_cents": 0,
    }  # fmt: skip
    assert run["ledger_ok"] is True
    assert not list((out / "receipts").glob("*.pdf"))  # nothing to acknowledge
    assert_screenshots(run, out)
