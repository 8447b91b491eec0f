"""`kiosk cards emulate` and `kiosk run --demo`, run as the README and technicians do."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from kiosk.sim.data import JOURNEYS_DIR
from tests.conftest import CARDS, READERS, Pcscd, load_profile, run_kiosk, wait_for

pytestmark = pytest.mark.pcsc


def test_emulate_inserts_until_sigterm(pcscd: Pcscd) -> None:
    profile = CARDS / "vitale-famille-casanova.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "cards", "emulate", str(profile), "--reader", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: pcscd.present(READERS[0]), 10, "the emulated card")
        result = run_kiosk("card", "read", "--reader", "patient", "--json")
        assert json.loads(result.stdout) == load_profile(profile.name)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    wait_for(lambda: pcscd.absent(READERS[0]), 5, "the card to be pulled by SIGTERM")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"card": "vitale"}', "missing key"),
        ("{not json", "not JSON, line 1"),
        ('{"card": "passport"}', "expected 'vitale' or 'cps'"),
    ],
)
def test_emulate_rejects_an_invalid_profile(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_kiosk("cards", "emulate", str(bad))
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_emulate_names_the_bad_field(tmp_path: Path) -> None:
    profile = load_profile("vitale-famille-martin.json")
    profile["beneficiaries"][1]["nir"] = "178117505601299"  # wrong key
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(profile))
    result = run_kiosk("cards", "emulate", str(bad))
    assert result.returncode != 0
    assert "beneficiaries[1].nir: NIR key does not match" in result.stderr
    assert "178117505601299" not in result.stderr


@pytest.mark.parametrize(
    ("plan", "outcome", "status"),
    [("holder-creates.json", "created", "confirmed"), ("refusal.json", "refused", "refused")],
)
def test_demo_autopilot_taps_through_the_real_ui(
    pcscd: Pcscd, tmp_path: Path, plan: str, outcome: str, status: str
) -> None:
    """The README's run command, headless: its own Xvfb, the autopilot, the real stacks."""
    plan_path = JOURNEYS_DIR / plan
    shots = tmp_path / "shots"
    result = run_kiosk(
        "run", "--demo", "--autopilot", str(plan_path), "--shots", str(shots),
        env={"DISPLAY": ""}, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["outcome"] == outcome
    assert "choose_beneficiary" in summary["screens"]  # "reading" may be too quick to draw
    assert summary["screens"][-1] == "welcome"
    assert summary["ledger_entry"]["status"] == status
    assert "Traceback" not in result.stderr  # a technician reads this log: no alarm
    assert " ERROR " not in result.stderr
    pngs = sorted(p.name for p in shots.glob("*.png"))
    assert len(pngs) == len(summary["screens"])
    # privacy: nothing of the patient in what the kiosk logged
    martin = load_profile("vitale-famille-martin.json")
    for secret in (martin["holder_nir"], "Jeanne", "Moussa", "MARTIN"):
        assert secret not in result.stderr
    for reader in READERS:  # the demo pulled its cards on exit
        wait_for(partial(pcscd.absent, reader), 2, f"{reader} to be empty")


def test_demo_autopilot_child_with_mobile_prints_the_access_codes_on_paper_only(
    pcscd: Pcscd, tmp_path: Path
) -> None:
    """A child's DMP opened by the mother, with a mobile: created, and the identifier and
    password exist only on the printed receipt (not in what the kiosk prints or logs).
    That no widget ever showed them is checked in tests/ui (the CLI gives no widgets)."""
    plan_path = JOURNEYS_DIR / "child-with-mobile.json"
    shots = tmp_path / "shots"
    result = run_kiosk(
        "run", "--demo", "--autopilot", str(plan_path), "--shots", str(shots),
        env={"DISPLAY": ""}, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "created"
    for screen in ("guardian", "contact", "done"):
        assert screen in summary["screens"]
    assert summary["ledger_entry"]["act_code"] == "DMP_OPEN"
    assert summary["ledger_entry"]["status"] == "confirmed"
    (receipt,) = (shots / "receipts").glob("*.pdf")
    text = subprocess.run(
        ["pdftotext", "-raw", str(receipt), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = " ".join(text.split())  # the password line wraps on the A5 page
    identifier = re.search(r"Identifiant / Identifier : (P\d{9})\b", text)
    password = re.search(r"Mot de passe provisoire / Provisional password : (\S+)", text)
    assert identifier, text
    assert password, text
    for secret in (identifier.group(1), password.group(1), "0612345678", "Léo"):
        assert secret not in result.stdout
        assert secret not in result.stderr
    for reader in READERS:
        wait_for(partial(pcscd.absent, reader), 2, f"{reader} to be empty")
