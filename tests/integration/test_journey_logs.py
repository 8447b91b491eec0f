"""What ``kiosk run`` writes to its log (the journal, on a device), for whole journeys on
the real stack: the cards through pcscd, the DMP sandbox over mutual TLS, the ledger on
disk, the UI under Xvfb driven by the autopilot.

Every line is JSON with the journey's id, its steps and durations, its DMP calls and its
outcome, and `kiosk logs` turns them back into the day's table; no line holds a test
patient's NIR, INS, name, mobile or e-mail, nor the pharmacist's name or PIN."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.appliance.journey_report import parse_line
from kiosk.sim.data import JOURNEYS_DIR
from kiosk.sim.demo import demo_config
from kiosk.sim.sandbox.server import SandboxServer
from tests.conftest import InsertCard, load_profile, run_kiosk

pytestmark = pytest.mark.pcsc

CPS = load_profile("cps-dupont-titulaire.json")
MARTIN = load_profile("vitale-famille-martin.json")
EMAIL = "jeanne.martin@exemple.fr"


def secrets_of(card: dict[str, Any], plan: dict[str, Any], insured: list[str]) -> set[str]:
    """What must never reach a log line: each beneficiary's NIR and names, the INS the
    sandbox holds, the plan's contact; the pharmacist's name, national id and PIN."""
    found = {card["holder_nir"], card["holder_nir"][:13], *insured}
    for person in card["beneficiaries"]:
        found |= {person["last_name"], person["first_name"], person["birth_name"]}
        if person["nir"]:
            found |= {person["nir"], person["nir"][:13]}
    found |= {str(value) for key in ("mobile", "email") if (value := plan.get(key))}
    found |= {CPS["last_name"], CPS["first_name"], CPS["national_id"], str(CPS["pin"])}
    spaced = {" ".join(s[i : i + 2] for i in range(0, len(s), 2)) for s in found if s.isdigit()}
    return found | spaced


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[list[SandboxServer]]:
    started: list[SandboxServer] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def run_journey(
    tmp_path: Path,
    sandboxes: list[SandboxServer],
    insert_card: InsertCard,
    plan: dict[str, Any],
    faults: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], SandboxServer]:
    server = SandboxServer(tmp_path / "sandbox", port=0, faults=faults).start()
    sandboxes.append(server)
    config = demo_config(tmp_path, server.url, server.pki.root, tmp_path / "out")
    journey = tmp_path / "plan.json"
    journey.write_text(json.dumps({**plan, "cps_pin": CPS["pin"]}), encoding="utf-8")
    insert_card(CPS, slot=1)
    insert_card(MARTIN, slot=0)
    result = run_kiosk(
        "run", "--config", str(config), "--autopilot", str(journey),
        "--shots", str(tmp_path / "shots"), env={"DISPLAY": ""}, timeout=120,
    )  # fmt: skip
    return result, server


def plan_named(name: str, **changes: object) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((JOURNEYS_DIR / name).read_text(encoding="utf-8"))
    return {**plan, **changes}


JOURNEYS = {
    "created": (plan_named("holder-creates.json", email=EMAIL), None, "created"),
    "child_with_mobile": (plan_named("child-with-mobile.json"), None, "created"),
    "refused": (plan_named("refusal.json"), None, "refused"),
    "service_error": (plan_named("holder-creates.json"), {"create": "http500"}, "error"),
}


@pytest.mark.parametrize("name", list(JOURNEYS))
def test_a_journey_is_logged_step_by_step_without_patient_data(
    name: str, tmp_path: Path, sandboxes: list[SandboxServer], insert_card: InsertCard
) -> None:
    plan, faults, outcome = JOURNEYS[name]
    result, server = run_journey(tmp_path, sandboxes, insert_card, plan, faults)
    assert json.loads(result.stdout)["outcome"] == outcome, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    records = [parse_line(line) for line in lines]
    assert None not in records, [line for line in lines if parse_line(line) is None][:3]

    insured = [dmp["ins"] for dmp in server.store.list()]
    leaks = [
        (secret, line) for line in lines for secret in secrets_of(MARTIN, plan, insured)
        if secret in line
    ]  # fmt: skip
    assert leaks == []

    events = [r for r in records if r is not None and "event" in r]
    (end,) = [r for r in events if r["event"] == "journey.end"]
    assert end["outcome"] == outcome
    journey = end["journey"]
    steps = [r["step"] for r in events if r["event"] == "journey.step"]
    assert [s.split(":")[0] for s in end["steps"]] == steps
    assert all(r["duration_ms"] >= 0 for r in events if r["event"] == "journey.step")
    calls = [r for r in events if r["event"] == "dmp.call"]
    assert calls
    assert {r["journey"] for r in calls} == {journey}
    assert ("TD1.1" in {r["transaction"] for r in calls}) is (outcome != "refused")
    started = [r for r in events if r["event"] == "kiosk.started"]
    assert started
    assert started[0]["build_to_frame_ms"] > 0
    if name == "service_error":
        (failed,) = [r for r in calls if r["transaction"] == "TD1.1"]
        assert failed["result"] != "ok"
        assert failed["level"] == "warning"
        assert end["level"] == "warning"
        assert end["error"] == failed["result"]

    log_file = tmp_path / "kiosk.log"
    log_file.write_text(result.stderr, encoding="utf-8")
    report = run_kiosk("logs", "--file", str(log_file), "--json")
    assert report.returncode == 0, report.stderr
    (row,) = json.loads(report.stdout)["journeys"]
    assert (row["journey"], row["outcome"]) == (journey, outcome)
    assert [step["step"] for step in row["steps"]] == steps
    assert [call["transaction"] for call in row["dmp_calls"]] == [
        call["transaction"] for call in calls
    ]
    table = run_kiosk("logs", "--file", str(log_file))
    assert journey in table.stdout
    assert "1 journey(s)" in table.stdout


def test_kiosk_logs_reads_the_journal_of_the_unit(tmp_path: Path) -> None:
    """Without --file, `kiosk logs` asks journalctl for the unit's lines since WHEN; a
    stand-in journalctl first on the PATH records its arguments and answers two lines."""
    lines = [
        json.dumps({"ts": "2026-12-01T09:00:00+00:00", "event": "journey.start", "journey": "a1"}),
        json.dumps({"ts": "2026-12-01T09:00:09+00:00", "event": "journey.end", "journey": "a1",
                    "outcome": "refused", "duration_ms": 9000, "steps": []}),
    ]  # fmt: skip
    (tmp_path / "journal.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    fake = tmp_path / "journalctl"
    fake.write_text(
        f'#!/bin/sh\necho "$@" > "{tmp_path}/args"\ncat "{tmp_path}/journal.txt"\n'
        'echo "Hint: You are currently not seeing messages from other users." >&2\n'
    )
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    result = run_kiosk("logs", "--since", "2 hours ago", "--json", env=env)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["journeys"]
    assert (row["journey"], row["outcome"], row["duration_ms"]) == ("a1", "refused", 9000)
    args = (tmp_path / "args").read_text().split()
    assert args[:4] == ["-u", "kiosk.service", "-o", "cat"]
    assert (
        args[-3:] == ["--since", "2", "hours"] or "2 hours ago" in (tmp_path / "args").read_text()
    )
    assert "not seeing messages from other users" in result.stderr  # the hint is passed on
