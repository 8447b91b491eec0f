"""One pharmacist-code gate for the admin and the attestation screen."""

from __future__ import annotations

from kiosk.core.admin_actions import LOCK_SECONDS, AdminGate
from kiosk.core.pharmacist_code import hash_code, hashed_code_checker


def gate() -> AdminGate:
    return AdminGate(hashed_code_checker(hash_code("2468")))


def test_wrong_codes_lock_for_five_minutes_then_the_right_one_opens() -> None:
    g = gate()
    assert g.try_code("1111", 0.0) == "Code incorrect (2 essai(s))."
    assert g.try_code("1111", 1.0) == "Code incorrect (1 essai(s))."
    assert "bloquée 5 minutes" in (g.try_code("1111", 2.0) or "")
    assert g.try_code("2468", 3.0) == "Saisie bloquée : patientez quelques minutes."
    assert g.try_code("2468", 2.0 + LOCK_SECONDS) is None


def test_attestation_and_admin_share_one_count_and_one_lock() -> None:
    """Three wrong codes in all, wherever typed, lock both: not 3 here and 3 there."""
    g = gate()
    now = [0.0]
    attest = g.checker(lambda: now[0])
    assert attest("1111") is False
    assert attest("2222") is False
    assert g.try_code("3333", 1.0) is not None  # the third, on the admin screen
    assert attest("2468") is False  # locked: even the right code waits
    assert g.try_code("2468", 2.0) is not None
    now[0] = 1.0 + LOCK_SECONDS
    assert attest("2468") is True
    assert g.failures == 0
