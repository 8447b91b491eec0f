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
from kiosk.billing.ledger import Ledger, OpenAct
from kiosk.billing.lost_outcomes import _LATER_CONFIRMED, _PENDING_ENTRY, confirmed_later
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE
from kiosk.core.ledger_policy import LedgerPolicy
from kiosk.core.recovery import recover
from kiosk.dmp.models import CertifiedIdentity, DmpState, DmpStatus
from kiosk.dmp.service_errors import DmpRejected, PharmacistNotReady

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


def test_a_later_reactivation_supersedes_a_lost_opening(ledger: Ledger) -> None:
    """The opening's outcome was lost; the DMP was later found closed and reactivated by
    this kiosk: TD0.2's "exists, ours" is the reactivation's doing, the opening unproven."""
    lost = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)
    reactivated = ledger.begin(DMP_REACTIVATE, "10001234567", INS, RECORD)
    ledger.finish(reactivated, CONFIRMED)
    service = Service()
    assert recover(LedgerPolicy(lambda: ledger), lambda: service) == 1  # type: ignore[arg-type, return-value]
    assert statuses(ledger, lost, reactivated) == [(FAILED, 0), (CONFIRMED, 0)]


def test_one_refused_act_does_not_hold_back_the_others(ledger: Ledger) -> None:
    """TD0.2 refused for the newest act (this patient's, not the service's fault): the
    older acts are still resolved, and the refused one waits for the next try."""
    older = ledger.begin(DMP_OPEN, "10001234567", OTHER, RECORD)
    newest = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)

    class Refusing(Service):
        def status_of_recovered(self, identity: CertifiedIdentity) -> DmpStatus:
            if identity.ins == INS:
                raise DmpRejected("Sender:IDENTITY_NOT_FOUND", "no such INS")
            return super().status_of_recovered(identity)

    assert recover(LedgerPolicy(lambda: ledger), lambda: Refusing()) == 1  # type: ignore[arg-type, return-value]
    assert statuses(ledger, older, newest) == [(CONFIRMED, 100), (PENDING, 0)]


def test_no_pin_still_settles_what_needs_no_call(ledger: Ledger) -> None:
    existing = ledger.begin(DMP_OPEN, "10001234567", OTHER, replace(RECORD, consent=False))
    lost = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)  # newest, needs TD0.2

    def no_pin() -> Service:
        raise PharmacistNotReady("no pharmacist CPS is ready (PIN not entered)")

    assert recover(LedgerPolicy(lambda: ledger), no_pin) == 1  # type: ignore[arg-type]
    assert statuses(ledger, existing, lost) == [(ALREADY_EXISTED, 0), (PENDING, 0)]


def test_the_lookups_never_scan_the_entries(ledger: Ledger) -> None:
    """Recovery runs at every start-up: on a million entries a scan costs seconds."""
    for sql in (_PENDING_ENTRY, _LATER_CONFIRMED):
        values = {"act": "x", "begun": 1, "confirmed": CONFIRMED, "pending": PENDING}
        plan = [row[-1] for row in ledger._conn.execute(f"EXPLAIN QUERY PLAN {sql}", values)]
        assert not [step for step in plan if step.startswith(("SCAN e", "SCAN entries"))], plan


def test_the_record_of_an_existing_dmp_is_settled_without_a_call(ledger: Ledger) -> None:
    """A crash between the "already existed" record's two entries: the act had no
    consent, nothing was sent; TD0.2 (which finds the DMP, ours) must not make it paid."""
    existing = replace(RECORD, consent=False)
    act = ledger.begin(DMP_OPEN, "10001234567", INS, existing)  # killed before its outcome
    service = Service()
    assert recover(LedgerPolicy(lambda: ledger), lambda: service) == 1  # type: ignore[arg-type, return-value]
    assert service.asked == []
    assert statuses(ledger, act) == [(ALREADY_EXISTED, 0)]


def test_an_act_another_process_settles_meanwhile_keeps_that_outcome(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Two writers on one file (a second kiosk process, a technician's command): each act
    is read as open, then the other connection settles it before this one's TD0.2 answer
    (or its no-call settlement) is written. Recovery keeps the other's outcome, does not
    count the act, goes on with the rest, and the ledger verifies."""
    other = Ledger(ledger.path, load_or_create_keys(tmp_path, "kiosk-test"))
    existing = ledger.begin(DMP_OPEN, "10001234567", OTHER, replace(RECORD, consent=False))
    raced = ledger.begin(DMP_OPEN, "10001234567", INS, RECORD)
    alone = ledger.begin(DMP_REACTIVATE, "10001234567", "190017512000167", RECORD)

    class Racing(Service):
        def status_of_recovered(self, identity: CertifiedIdentity) -> DmpStatus:
            if identity.ins == INS:
                other.finish(raced, FAILED)  # while TD0.2 was in flight
            return super().status_of_recovered(identity)

    class Policy(LedgerPolicy):
        def unresolved(self) -> list[tuple[OpenAct, str]]:
            found = super().unresolved()
            other.finish(existing, ALREADY_EXISTED)  # right after this read
            return found

    try:
        assert recover(Policy(lambda: ledger), lambda: Racing()) == 1  # type: ignore[arg-type, return-value]
        assert statuses(ledger, existing, raced, alone) == [
            (ALREADY_EXISTED, 0), (FAILED, 0), (CONFIRMED, 0)
        ]  # fmt: skip
        assert ledger.verify().ok
    finally:
        other.close()
