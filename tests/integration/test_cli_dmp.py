"""`kiosk dmp sandbox|list|status|create` as a field technician runs them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.sim.sandbox.client_config import CLIENT_CONFIG
from tests.conftest import CARDS, run_kiosk, wait_for

MARTIN = str(CARDS / "vitale-famille-martin.json")
CPS = str(CARDS / "cps-dupont-titulaire.json")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Path]:
    """A `kiosk dmp sandbox` process on a free port; yields its data directory."""
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps([{"ins": "250032A00402145", "status": "closed"}]))
    data = tmp_path / "sandbox"
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "dmp", "sandbox", "--data", str(data),
         "--port", "0", "--seed", str(seed)],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: (data / CLIENT_CONFIG).exists(), 20, "the sandbox to start")
        yield data
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def dmp(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return run_kiosk(
        "dmp", *args, "--config", str(data / CLIENT_CONFIG), "--profile", MARTIN,
        "--cps-profile", CPS, "--json",
    )  # fmt: skip


def test_status_create_list_through_the_cli(sandbox: Path) -> None:
    first = dmp("status", "--beneficiary", "2", data=sandbox)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["status"] == "not_found"
    assert "ins" not in first.stdout  # the INS is not printed by a diagnosis command

    created = dmp("create", "--beneficiary", "2", "--consent", "--no-centre15",
                  "--email", "leo@example.fr", "--guardian", "MARTIN:Jeanne:mere:19800512",
                  data=sandbox)  # fmt: skip
    assert created.returncode == 0, created.stderr
    answer = json.loads(created.stdout)
    assert answer["outcome"] == "created"
    assert answer["web_access_identifier"].startswith("P")
    assert "password" not in created.stdout

    again = dmp("create", "--beneficiary", "2", "--consent", "--guardian",
                "MARTIN:Jeanne:mere:19800512", data=sandbox)  # fmt: skip
    assert json.loads(again.stdout)["outcome"] == "already_exists"

    listed = run_kiosk("dmp", "list", "--data", str(sandbox), "--json")
    dmps = json.loads(listed.stdout)["dmps"]
    opened = [d for d in dmps if d["status"] == "active"]
    assert len(opened) == 1
    assert opened[0]["created_by_rpps"] == "10001234567"
    assert opened[0]["centre15_allowed"] is False
    assert opened[0]["bris_de_glace_allowed"] is True
    assert opened[0]["web_access"] is True
    assert {d["status"] for d in dmps} == {"active", "closed"}  # the seeded one is there


def test_a_child_is_opened_with_the_legal_representative(sandbox: Path) -> None:
    result = dmp("create", "--beneficiary", "4", "--consent",
                 "--guardian", "MARTIN:Jeanne:mere:19800512", data=sandbox)  # fmt: skip
    assert json.loads(result.stdout)["outcome"] == "created", result.stderr
    listed = json.loads(run_kiosk("dmp", "list", "--data", str(sandbox), "--json").stdout)
    child = next(d for d in listed["dmps"] if d["status"] == "active")
    assert child["guardian"] == {
        "last_name": "MARTIN",
        "first_name": "Jeanne",
        "role": "mere",
        "birth_date": "19800512",
    }
    bad = dmp("create", "--beneficiary", "4", "--consent", "--guardian", "MARTIN", data=sandbox)
    assert bad.returncode != 0
    assert "LAST_NAME:FIRST_NAME:ROLE" in bad.stderr


def test_create_without_consent_sends_nothing(sandbox: Path) -> None:
    result = dmp("create", "--beneficiary", "0", data=sandbox)
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        == "kiosk: the patient's consent is required to open or reactivate a DMP"
    )
    listed = json.loads(run_kiosk("dmp", "list", "--data", str(sandbox), "--json").stdout)
    assert all(d["status"] == "closed" for d in listed["dmps"])


def test_bad_fault_spec_and_missing_data_are_one_line(tmp_path: Path) -> None:
    result = run_kiosk("dmp", "sandbox", "--data", str(tmp_path), "--fault", "create=explode")
    assert result.returncode != 0
    assert "expected OP=KIND" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    listed = run_kiosk("dmp", "list", "--data", str(tmp_path / "nothing"), "--json")
    assert listed.returncode != 0
    assert "no sandbox data here" in listed.stderr


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[dmp]\nendpoint = "http://dmp.example"\n')
    result = run_kiosk("dmp", "status", "--config", str(config), "--profile", MARTIN,
                       "--cps-profile", CPS)  # fmt: skip
    assert result.returncode != 0
    assert "endpoint: expected an https:// URL" in result.stderr
    config.write_text('[dmp]\nendpoint = "https://127.0.0.1:9"\n')
    result = run_kiosk("dmp", "status", "--config", str(config), "--profile", MARTIN,
                       "--cps-profile", CPS)  # fmt: skip
    assert "[dmp] ca is not set" in result.stderr


def test_create_applies_the_kiosks_rules_or_sends_nothing(sandbox: Path, tmp_path: Path) -> None:
    """A diagnosis, not a second kiosk: a minor without a representative, a CPS that is not
    a pharmacist's, or an endpoint that is not a sandbox on this machine: refused in one
    line before any DMP call, and nothing recorded."""
    minor = dmp("create", "--beneficiary", "4", "--consent", data=sandbox)
    assert minor.returncode != 0
    assert "legal representative" in minor.stderr
    physician = tmp_path / "cps-physician.json"
    physician.write_text(json.dumps({**json.loads(Path(CPS).read_text()), "profession": "10"}))
    result = run_kiosk(
        "dmp", "create", "--beneficiary", "0", "--consent", "--config",
        str(sandbox / CLIENT_CONFIG), "--profile", MARTIN, "--cps-profile", str(physician),
    )  # fmt: skip
    assert result.returncode != 0
    assert "not_pharmacist" in result.stderr
    remote = tmp_path / "remote.toml"
    remote.write_text((sandbox / CLIENT_CONFIG).read_text().replace("127.0.0.1", "dmp.example.fr"))
    far = run_kiosk("dmp", "create", "--beneficiary", "0", "--consent", "--config",
                    str(remote), "--profile", MARTIN, "--cps-profile", CPS)  # fmt: skip
    assert far.returncode != 0
    assert "only on a loopback sandbox, not dmp.example.fr" in far.stderr
    for refused in (minor, result, far):
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    listed = json.loads(run_kiosk("dmp", "list", "--data", str(sandbox), "--json").stdout)
    assert all(d["status"] == "closed" for d in listed["dmps"])  # only the seeded one
    assert not (sandbox / "ledger.db").exists()  # nothing recorded: nothing was tried
