"""One pharmacist-code gate for the admin and the attestation screen: three wrong codes
in all lock both for five minutes, and the lock survives a restart of the kiosk."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.core.code_gate import (
    LOCK_AFTER,
    LOCK_SECONDS,
    STATE_FILE,
    Accepted,
    CodeGate,
    CodeLocked,
    CodeVerdict,
    WrongCode,
)
from kiosk.core.pharmacist_code import hash_code, hashed_code_checker
from kiosk.ui.i18n import render

CHECK = hashed_code_checker(hash_code("2468"))


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def gate(state: Path | None = None, clock: Clock | None = None) -> CodeGate:
    return CodeGate(CHECK, state, clock or Clock())


def said(verdict: CodeVerdict) -> str:
    """What the pharmacist reads, in French."""
    assert not isinstance(verdict, Accepted)
    return render(verdict, "fr")


def test_wrong_codes_lock_for_five_minutes_then_the_right_one_opens() -> None:
    clock = Clock(0.0)
    g = gate(clock=clock)
    assert said(g.try_code("1111")) == "Code incorrect (2 essai(s))."
    clock.now = 1.0
    assert said(g.try_code("1111")) == "Code incorrect (1 essai(s))."
    clock.now = 2.0
    assert "bloquée 5 minutes" in said(g.try_code("1111"))
    clock.now = 3.0
    verdict = g.try_code("2468")
    assert said(verdict) == "Saisie bloquée : patientez quelques minutes."
    assert verdict == CodeLocked(2.0 + LOCK_SECONDS)
    clock.now = 2.0 + LOCK_SECONDS
    assert g.try_code("2468") == Accepted()


def test_the_verdicts_in_english() -> None:
    assert render(WrongCode(1), "en") == "Wrong code (1 try left)."
    assert render(WrongCode(2), "en") == "Wrong code (2 tries left)."
    assert render(CodeLocked(0.0, just_now=True), "en") == (
        "Wrong code 3 times: entry locked for 5 minutes."
    )


def test_attestation_and_admin_share_one_count_and_one_lock() -> None:
    """Three wrong codes in all, wherever typed, lock both: not 3 here and 3 there."""
    clock = Clock(0.0)
    g = gate(clock=clock)
    attest, admin = g.try_code, g.try_code  # what the journey and the admin are given
    assert attest("1111") == WrongCode(2)
    assert attest("2222") == WrongCode(1)
    clock.now = 1.0
    assert isinstance(admin("3333"), CodeLocked)  # the third, on the admin screen
    assert isinstance(attest("2468"), CodeLocked)  # locked: even the right code waits
    clock.now = 2.0
    assert isinstance(admin("2468"), CodeLocked)
    clock.now = 1.0 + LOCK_SECONDS
    assert attest("2468") == Accepted()
    assert g.failures == 0


def test_the_lock_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    first = gate(tmp_path, clock)
    for _ in range(LOCK_AFTER):
        first.try_code("0000")
    restarted = gate(tmp_path, clock)
    assert restarted.locked_until == clock.now + LOCK_SECONDS
    assert isinstance(restarted.try_code("2468"), CodeLocked)
    clock.now += LOCK_SECONDS
    assert gate(tmp_path, clock).try_code("2468") == Accepted()


def test_wrong_codes_count_across_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    first = gate(tmp_path, clock)
    first.try_code("0000")
    first.try_code("0000")
    assert gate(tmp_path, clock).failures == 2
    verdict = gate(tmp_path, clock).try_code("0000")
    assert verdict == CodeLocked(clock.now + LOCK_SECONDS, just_now=True)


def test_the_state_file_is_private_and_holds_no_code(tmp_path: Path) -> None:
    gate(tmp_path).try_code("1357")
    path = tmp_path / STATE_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"failures": 1, "locked_until": 0.0}
    assert "1357" not in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]  # no temporary file left


def test_a_new_kiosk_starts_unlocked_and_keeps_its_state_from_then_on(tmp_path: Path) -> None:
    assert gate(tmp_path / "new" / "state").try_code("2468") == Accepted()  # not made yet
    (tmp_path / "empty").mkdir()
    assert gate(tmp_path / "empty").try_code("2468") == Accepted()
    assert (tmp_path / "empty" / STATE_FILE).exists()  # from the first start: missing locks


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.unlink(),
        lambda path: path.write_text("{not json"),
        lambda path: path.write_text('{"failures": -5, "locked_until": 0}'),
        lambda path: path.write_text('{"failures": "none"}'),
    ],
    ids=["deleted", "garbage", "impossible", "wrong-type"],
)
def test_deleting_or_editing_the_file_locks_instead_of_clearing(
    tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    clock = Clock()
    (tmp_path / "ledger.db").write_bytes(b"")  # the kiosk has run here
    g = gate(tmp_path, clock)
    g.try_code("0000")
    g.try_code("0000")
    damage(tmp_path / STATE_FILE)
    restarted = gate(tmp_path, clock)
    assert restarted.locked_until == clock.now + LOCK_SECONDS
    assert isinstance(restarted.try_code("2468"), CodeLocked)
    assert isinstance(gate(tmp_path, clock).try_code("2468"), CodeLocked)  # written back


@pytest.mark.parametrize("until", ["1e12", "Infinity", "NaN"], ids=["far", "infinite", "nan"])
def test_a_lock_is_never_longer_than_five_minutes_from_now(tmp_path: Path, until: str) -> None:
    """A clock set back at boot, or a hand-edited file, cannot lock the kiosk for good."""
    clock = Clock()
    (tmp_path / STATE_FILE).write_text(f'{{"failures": 0, "locked_until": {until}}}')
    g = gate(tmp_path, clock)
    assert g.locked_until == clock.now + LOCK_SECONDS
    clock.now += LOCK_SECONDS
    assert g.try_code("2468") == Accepted()


def test_the_state_directory_is_made_private(tmp_path: Path) -> None:
    gate(tmp_path / "state").try_code("0000")
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
