"""Recovery on a real ledger file: an act whose outcome was lost is confirmed by TD0.2
only if no later act of the same patient was; of two lost ones, the later owns the DMP;
the record of a DMP that already existed is settled without a call.
The service's answer (TD0.2) is given by a stand-in session: what is tested is the
policy's reading of it, against the real ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.billing.chain import ALREADY_EXISTED, CONFIRMED, FAILED, PENDING
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.billing.lost_outcomes import confirmed_later
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE
from kiosk.core.ledger_policy import LedgerPolicy
from kiosk.core.recovery import recover
from kiosk.dmp.models import CertifiedIdentity, DmpState, DmpStatus

INS, OTHER = "170017512000123", "270017512000145"
RECORD = ConsentRecord("v", "ab" * 32, True, True, False, False, "fr", "10001234567")


class Service:
    """TD0.2 as the service would answer it after the crash: every DMP asked exists, ours."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def recovered_identity(self, ins: str) -> CertifiedIdentity:
        return CertifiedIdentity(ins, "", "", "", session_id="recovered")

    def status_of_recovered(self, identity: CertifiedIdentity) -> DmpStatus:
        self.asked.append(identity.ins)
        return DmpStatus(DmpState.EXISTS, True)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    book = Ledger(tmp_path / "ledger.db", load_or_create_keys(tmp_path, "kiosk-test"))
    yield book
    book.close()


def statuses(ledger: Ledger, *acts: str) -> list[tuple[str, int]]:
    def read(conn: sqlite3.Connection) -> list[tuple[str, int]]:
        query = "SELECT status, amount_cents FROM acts WHERE act_id = ?"
        return [tuple(conn.execute(query, (act,)).fetchone()) for act in acts]

    return ledger.read(read)


def test_an_act_lost_before_a_later_confirmed_one_is_failed(ledger: Ledger) -> None:
    lost = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)  # killed: left pending
    later = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)  # the patient came back
    ledger.finish(later, CONFIRMED)
    other = ledger.begin(DMP_OPEN, "10001234567", OTHER, RECORD)  # someone else's: apart
    assert confirmed_later(ledger._conn, lost)
    assert not confirmed_later(ledger._conn, later)
    assert not confirmed_later(ledger._conn, other)
    service = Service()
    assert recover(LedgerPolicy(lambda: ledger), lambda: service) == 2  # type: ignore[arg-type, return-value]
    assert statuses(ledger, lost, later, other) == [
        (FAILED, 0), (CONFIRMED, 100), (CONFIRMED, 100)
    ]  # fmt: skip
    assert ledger.verify().ok


def test_of_two_lost_acts_the_later_is_confirmed_once(ledger: Ledger) -> None:
    first = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)
    second = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)
    service = Service()
    assert recover(LedgerPolicy(lambda: ledger), lambda: service) == 2  # type: ignore[arg-type, return-value]
    assert service.asked == [INS, INS]
    assert statuses(ledger, first, second) == [(FAILED, 0), (CONFIRMED, 100)]
    assert not ledger.unresolved()


def test_another_act_code_does_not_supersede(ledger: Ledger) -> None:
    lost = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)
    reactivated = ledger.begin(DMP_REACTIVATE, "10001234567", INS, RECORD)
    ledger.finish(reactivated, CONFIRMED)
    assert not confirmed_later(ledger._conn, lost)
    assert statuses(ledger, lost) == [(PENDING, 0)]


def test_the_record_of_an_existing_dmp_is_settled_without_a_call(ledger: Ledger) -> None:
    """A crash between the "already existed" record's two entries: the act had no
    consent, nothing was sent; TD0.2 (which finds the DMP, ours) must not make it paid."""
    existing = replace(RECORD, consent=False)
    act = ledger.begin(DMP_OPEN, "10001234567", INS, existing)  # killed before its outcome
    service = Service()
    assert recover(LedgerPolicy(lambda: ledger), lambda: service) == 1  # type: ignore[arg-type, return-value]
    assert service.asked == []
    assert statuses(ledger, act) == [(ALREADY_EXISTED, 0)]
