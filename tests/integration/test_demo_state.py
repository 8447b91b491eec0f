"""`kiosk run --demo` keeps its state in ``out/demo/`` of the directory it runs in: a
second headless run meets the first patient's DMP as already existing (nothing owed),
the ledger kept on disk reports and verifies both acts, and ``--fresh`` forgets it all
(the sandbox's data and PKI, the ledger) so the patient's DMP is created again. The real
stack throughout: pcscd, the emulated cards over vpcd, the sandbox over mutual TLS, the
kiosk's UI under its own Xvfb; the demo pulls its cards at each exit.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import READERS, Pcscd, run_kiosk, wait_for

pytestmark = pytest.mark.pcsc

CONFIG = Path("out/demo/kiosk-demo.toml")  # where the demo writes its config
CA = Path("out/demo/sandbox/ca.pem")  # the sandbox's test PKI, kept with its data


def demo(pcscd: Pcscd, work: Path, *extra: str) -> dict[str, Any]:
    """One headless demo run in ``work``; its summary, once its cards are out."""
    result = run_kiosk("run", "--demo", *extra, env={"DISPLAY": ""}, timeout=120, cwd=work)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert " ERROR " not in result.stderr
    for reader in READERS:  # the demo pulled its cards on exit
        wait_for(partial(pcscd.absent, reader), 2, f"{reader} to be empty")
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def report(work: Path) -> dict[str, Any]:
    result = run_kiosk("ledger", "report", "--config", str(CONFIG), "--json", cwd=work)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_demo_remembers_its_patient_until_fresh(pcscd: Pcscd, tmp_path: Path) -> None:
    first = demo(pcscd, tmp_path)
    assert first["outcome"] == "created"
    assert first["ledger_entry"]["status"] == "confirmed"
    assert first["ledger_entry"]["amount_cents"] > 0
    ca = (tmp_path / CA).read_bytes()

    second = demo(pcscd, tmp_path)
    assert second["outcome"] == "already_exists"
    assert "already_exists" in second["screens"]
    assert "creating" not in second["screens"]  # no TD1.1: the sandbox still knows her
    assert second["ledger_entry"]["status"] == "already_existed"
    assert second["ledger_entry"]["amount_cents"] == 0  # nothing owed for no act
    assert second["ledger_entry"]["seq"] > first["ledger_entry"]["seq"]  # the same ledger
    assert (tmp_path / CA).read_bytes() == ca  # the same sandbox PKI, not a new one

    both = report(tmp_path)
    assert (both["openings"], both["already_existed"]) == (1, 1)
    assert both["amount_due_cents"] == first["ledger_entry"]["amount_cents"]
    verify = run_kiosk("ledger", "verify", "--config", str(CONFIG), cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr

    fresh = demo(pcscd, tmp_path, "--fresh")
    assert fresh["outcome"] == "created"
    assert fresh["ledger_entry"]["status"] == "confirmed"
    assert (tmp_path / CA).read_bytes() != ca  # the sandbox started from nothing
    anew = report(tmp_path)
    assert (anew["openings"], anew["already_existed"]) == (1, 0)
    assert anew["pending"] == 0
