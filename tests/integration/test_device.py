"""``kiosk run`` from a config, as on a kiosk: the CPS through pcscd with its PIN typed
once, the DMP sandbox over mutual TLS, the ledger on disk, the real UI under Xvfb."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.core.cps_session import CpsState, pcsc_cps_session
from kiosk.sim.data import JOURNEYS_DIR
from kiosk.sim.demo import demo_config
from kiosk.sim.sandbox.server import SandboxServer
from kiosk.ui.i18n import render
from tests.conftest import READERS, InsertCard, Pcscd, load_profile, run_kiosk, wait_for

pytestmark = pytest.mark.pcsc

CPS = load_profile("cps-dupont-titulaire.json")
MARTIN = load_profile("vitale-famille-martin.json")


def test_cps_session_on_the_real_card(insert_card: InsertCard, pcscd: Pcscd) -> None:
    session = pcsc_cps_session()
    assert session.refresh().state is CpsState.ABSENT
    card = insert_card(CPS, slot=1)
    assert (session.inserted().state, session.status.tries_left) == (CpsState.NEEDS_PIN, 3)
    status, message = session.enter_pin("9999")
    assert (status.state, status.tries_left) == (CpsState.NEEDS_PIN, 2)
    assert "2 essai(s)" in render(message, "fr")
    assert session.refresh().tries_left == 2  # the card itself counts: one VERIFY was sent
    status, message = session.enter_pin(str(CPS["pin"]))
    assert status.state is CpsState.READY
    assert status.tries_left == 3  # a right PIN resets the counter
    # pcscd powers an unused card off after a grace period, which would forget the PIN:
    # the session holds its connection, so the pharmacist stays authenticated
    time.sleep(3)
    practitioner = session.practitioner()  # asks the card again: still verified
    assert practitioner is not None
    assert practitioner.national_id == CPS["national_id"]
    card.pull()
    wait_for(lambda: pcscd.absent(READERS[1]), 5, "the CPS to be pulled")
    assert session.practitioner() is None
    assert session.status.state is CpsState.ABSENT


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(tmp_path / "sandbox", port=0).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def site(tmp_path: Path, sandbox: SandboxServer) -> Path:
    """A kiosk config for the sandbox (certificates, ledger, pharmacist code hash, spool)."""
    return demo_config(tmp_path, sandbox.url, sandbox.pki.root, tmp_path / "out")


def plan(tmp_path: Path, journey: str = "holder-creates.json", **extra: object) -> Path:
    """One of the demo's autopilot plans, with ``extra`` (the CPS PIN, a language)."""
    steps = json.loads((JOURNEYS_DIR / journey).read_text())
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({**steps, **extra}), encoding="utf-8")
    return path


def kiosk_run(config: Path, journey: Path, shots: Path) -> subprocess.CompletedProcess[str]:
    return run_kiosk(
        "run", "--config", str(config), "--autopilot", str(journey), "--shots", str(shots),
        env={"DISPLAY": ""}, timeout=120,
    )  # fmt: skip


def test_kiosk_run_opens_a_dmp_as_the_pharmacist_whose_pin_was_typed(
    site: Path, insert_card: InsertCard, tmp_path: Path
) -> None:
    insert_card(CPS, slot=1)
    insert_card(MARTIN, slot=0)
    result = kiosk_run(site, plan(tmp_path, cps_pin=CPS["pin"]), tmp_path / "shots")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "created"
    assert summary["ledger_entry"]["status"] == "confirmed"
    report = run_kiosk("ledger", "report", "--config", str(site), "--json")
    assert json.loads(report.stdout)["by_pharmacist"] == [{"rpps": CPS["rpps"], "openings": 1}]
    assert list((tmp_path / "out" / "receipts").glob("*.pdf"))
    for secret in (MARTIN["holder_nir"], "Jeanne", "MARTIN", str(CPS["pin"])):
        assert secret not in result.stderr


def test_what_an_earlier_run_left_in_the_spool_is_purged_at_start_up(
    site: Path, insert_card: InsertCard, tmp_path: Path
) -> None:
    """The purge runs once the welcome screen is drawn, not at the first receipt: a
    refusal prints none."""
    spool = tmp_path / "out" / "receipts"
    spool.mkdir(mode=0o700, parents=True)
    left = spool / "earlier.pdf.part"  # what a renderer killed with the last kiosk left
    left.write_bytes(b"%PDF-1.4 cut short")
    insert_card(CPS, slot=1)
    insert_card(MARTIN, slot=0)
    refusal = plan(tmp_path, "refusal.json", cps_pin=CPS["pin"])
    result = kiosk_run(site, refusal, tmp_path / "shots")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["outcome"] == "refused"
    assert not left.exists()
    assert not list(spool.glob("*.pdf"))  # no receipt: the printer was built at start-up


def test_the_first_language_comes_from_the_config(
    site: Path, insert_card: InsertCard, tmp_path: Path
) -> None:
    """``[kiosk] language = "en"``: the kiosk greets in English; the plan says English
    too, so the autopilot never taps "Français"."""
    english = site.parent / "english.toml"
    english.write_text(site.read_text() + '\nlanguage = "en"\n', encoding="utf-8")
    insert_card(CPS, slot=1)
    insert_card(MARTIN, slot=0)
    journey = plan(tmp_path, "refusal.json", cps_pin=CPS["pin"], language="en")
    result = kiosk_run(english, journey, tmp_path / "shots")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["outcome"] == "refused"
    assert "switching the language" not in result.stderr  # it greeted in English


def test_without_the_cps_pin_nothing_is_sent_and_the_patient_is_told(
    site: Path, insert_card: InsertCard, tmp_path: Path
) -> None:
    insert_card(CPS, slot=1)
    insert_card(MARTIN, slot=0)
    result = kiosk_run(site, plan(tmp_path), tmp_path / "shots")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "error"
    assert summary["screens"][-2:] == ["error", "welcome"]
    assert "no pharmacist CPS is ready" in result.stderr
    assert summary["ledger_entry"] is None  # nothing recorded, nothing owed


@pytest.mark.parametrize(
    "card",
    [{"profession": "10"}, {"valid_until": "20251231"}],  # the profile keeps a section
    ids=["a physician's CPS", "an expired CPS"],
)
def test_a_cps_that_may_not_open_dmps_is_refused_before_any_call(
    site: Path, sandbox: SandboxServer, insert_card: InsertCard, tmp_path: Path,
    card: dict[str, str],
) -> None:  # fmt: skip
    """Its PIN is right, but a physician's card (or an expired one) must not sign a
    pharmacy's DMP opening (SA33): refused with the reason on the pharmacist's line, the
    patient told the pharmacist's card is not ready, nothing sent, nothing recorded."""
    insert_card({**CPS, **card}, slot=1)
    insert_card(MARTIN, slot=0)
    result = kiosk_run(site, plan(tmp_path, cps_pin=CPS["pin"]), tmp_path / "shots")
    summary = json.loads(result.stdout)
    assert summary["outcome"] == "error", result.stderr[-2000:]
    assert summary["ledger_entry"] is None
    assert sandbox.store.list() == []
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e for e in events if e.get("event") == "dmp.call"] == []  # not even TD0.0
    states = {e["state"] for e in events if e.get("event") == "cps.state"}
    assert states & {"not_pharmacist", "expired"}
    assert "ready" not in states


def test_an_act_left_pending_by_a_crash_is_resolved_once_the_pin_is_typed(
    site: Path, sandbox: SandboxServer, insert_card: InsertCard, tmp_path: Path
) -> None:
    """The kiosk died after TD1.1 created the DMP and before the ledger heard of it. The
    next start cannot ask TD0.2 until the pharmacist is authenticated: the act is
    resolved (confirmed, paid once) as soon as the CPS PIN is typed."""
    from kiosk.appliance.wiring import open_ledger
    from kiosk.billing.consent_record import ConsentRecord
    from kiosk.config import load_config
    from kiosk.dmp.models import Consent
    from kiosk.dmp.traits import practitioner_from_cps, traits_from_vitale
    from kiosk.hardware.cards import cps_from_profile, vitale_from_profile
    from kiosk.sim.sandbox.client_config import sandbox_client

    cps = cps_from_profile(CPS)[0]
    session = sandbox_client(sandbox).session(practitioner_from_cps(cps))
    identity = session.certified_identity(traits_from_vitale(vitale_from_profile(MARTIN), 0))
    ledger = open_ledger(load_config(site))
    consent = ConsentRecord("v", "ab" * 32, True, True, True, False, "fr", cps.rpps)
    ledger.begin("DMP_OPEN", cps.rpps, identity.ins, consent)
    session.create(identity, Consent(True))
    ledger.close()
    assert (
        json.loads(run_kiosk("ledger", "report", "--config", str(site), "--json").stdout)["pending"]
        == 1
    )
    insert_card(CPS, slot=1)
    insert_card(MARTIN, slot=0)
    refusal = plan(tmp_path, "refusal.json", cps_pin=CPS["pin"])
    result = kiosk_run(site, refusal, tmp_path / "shots")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(run_kiosk("ledger", "report", "--config", str(site), "--json").stdout)
    assert (report["pending"], report["openings"], report["refused"]) == (0, 1, 1)
    assert report["amount_due_cents"] == 100


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("pharmacist_code_hash", "# no code", ["pharmacist_code_hash"]),
        ('sign_key = "', 'sign_key = "missing-', ["sign_key", "missing-"]),
        ("[ledger]", '[printer]\nkind = "cups"\n[ledger]', ["[printer] kind"]),
    ],
)
def test_a_broken_config_is_one_line_before_any_window(
    site: Path, old: str, new: str, words: list[str]
) -> None:
    broken = site.parent / "broken.toml"
    broken.write_text(site.read_text().replace(old, new), encoding="utf-8")
    result = run_kiosk("run", "--config", str(broken), env={"DISPLAY": ""})
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr
