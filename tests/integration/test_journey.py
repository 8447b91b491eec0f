"""The journey without its UI: flow + real cards (pcscd/vpcd), real sandbox over TLS,
real ledger. Taps are dispatched as the screens will dispatch them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.appliance.wiring import patient_reader
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.reports import report
from kiosk.config import Config
from kiosk.core import flow as f
from kiosk.core.consent_text import consent_text_sha256
from kiosk.dmp.traits import practitioner_from_cps, traits_from_vitale
from kiosk.hardware.cards import vitale_from_profile
from kiosk.ui.i18n import render
from tests.conftest import InsertCard, load_profile
from tests.integration.journey_harness import CODE, CPS, JourneyHarness

pytestmark = pytest.mark.pcsc

MARTIN = load_profile("vitale-famille-martin.json")


class Harness(JourneyHarness):
    def __init__(self, tmp: Path, faults: dict[str, str] | None = None) -> None:
        super().__init__(tmp, patient_reader(Config()), faults)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.close()


def start(h: Harness, insert_card: InsertCard, beneficiary: int) -> None:
    insert_card(MARTIN, slot=0)
    h.journey.dispatch(f.CardInserted("vitale"))
    h.wait(f.Screen.CHOOSE)
    h.tap("choose", beneficiary)


def consent_and_attest(h: Harness, mobile: str | None = None) -> None:
    h.wait(f.Screen.INFORMATION)
    h.tap("next")
    h.tap("toggle", "consent")
    h.tap("next")
    h.wait(f.Screen.CONTACT)
    if mobile:
        h.tap("mobile", mobile)
        h.tap("next")  # the web-access warning
        h.tap("next")  # confirmed
    else:
        h.tap("skip")
    h.wait(f.Screen.ATTESTATION)
    h.tap("attest", CODE)


def test_holder_opens_a_dmp_with_web_access(harness: Harness, insert_card: InsertCard) -> None:
    start(harness, insert_card, 0)
    consent_and_attest(harness, mobile="06 12 34 56 78")
    done = harness.wait(f.Screen.DONE)
    assert done.outcome is f.Outcome.CREATED
    (receipt,) = harness.receipts
    assert (receipt.outcome, receipt.web_access is not None) == (f.Outcome.CREATED, True)
    assert (receipt.first_name, receipt.last_name, receipt.birth_date) == (
        "Jeanne", "MARTIN", "19800512"
    )  # fmt: skip
    assert (receipt.pharmacist, receipt.web_access_requested) == ("Claire DUPONT", True)
    assert not receipt.patient_left
    harness.tap("done")
    welcome = harness.wait(f.Screen.WELCOME)
    assert not welcome.holds_patient_data()
    assert harness.outcomes == [f.Outcome.CREATED]
    figures = report(harness.ledger._conn)
    assert figures["openings"] == 1
    assert figures["amount_due_cents"] == 100
    (dmp,) = harness.server.store.list()
    assert dmp["web_access"] is True
    assert dmp["created_by_rpps"] == CPS.rpps
    assert harness.ledger.verify().ok


def test_child_goes_through_the_legal_representative(
    harness: Harness, insert_card: InsertCard
) -> None:
    """The father, not the card's first beneficiary, picks his own name then "père": he is
    the representative the service records, the ledger's consent hash covers his
    declaration, and the accusé names him."""
    start(harness, insert_card, 2)  # Léo, born 2015
    harness.wait(f.Screen.GUARDIAN)
    harness.tap("guardian", "pere")  # no name picked yet: nothing happens
    assert harness.journey.flow.screen is f.Screen.GUARDIAN
    harness.tap("representative", 1)  # Moussa N'DIAYE
    harness.tap("guardian", "pere")
    consent_and_attest(harness)
    harness.wait(f.Screen.DONE)
    (dmp,) = harness.server.store.list()
    assert dmp["guardian"] == {
        "last_name": "N'DIAYE", "first_name": "Moussa", "role": "pere", "birth_date": "19781103"
    }  # fmt: skip
    (receipt,) = harness.receipts
    assert receipt.guardian is not None
    assert (receipt.guardian.first_name, receipt.first_name) == ("Moussa", "Léo")
    (consent,) = harness.ledger.read(
        lambda conn: conn.execute("SELECT consent FROM entries WHERE seq = 1").fetchone()
    )
    record = json.loads(consent)
    assert record["representative_role"] == "pere"
    assert record["text_sha256"] == consent_text_sha256("fr", "pere")
    assert record["text_sha256"] != consent_text_sha256("fr")
    assert "Moussa" not in consent
    assert "DIAYE" not in consent


def test_card_pulled_during_the_creation_still_gives_the_accuse(
    tmp_path: Path, insert_card: InsertCard
) -> None:
    """The service commits, its answer is late; the patient pulls the card. The DMP is
    created and paid, the accusé prints for the pharmacist to hand over, and the welcome
    screen tells the patient so."""
    h = Harness(tmp_path, faults={"create": "commit_then_timeout"})
    try:
        start(h, insert_card, 0)
        consent_and_attest(h, mobile="0612345678")
        h.wait(f.Screen.CREATING)
        h.journey.dispatch(f.CardRemoved())
        welcome = h.wait(f.Screen.WELCOME, timeout=1.0)
        assert welcome.notice is f.WelcomeNotice.FINISHING
        assert not welcome.holds_patient_data()
        deadline = time.monotonic() + 15
        while h.journey.flow.notice is f.WelcomeNotice.FINISHING:
            assert time.monotonic() < deadline, "the creation never ended"
            time.sleep(0.05)
        assert h.journey.flow.notice is f.WelcomeNotice.RECEIPT_AT_COUNTER
        assert "pharmacien" in render(f.WelcomeNotice.RECEIPT_AT_COUNTER, "fr")
        (receipt,) = h.receipts
        assert receipt.patient_left
        assert (receipt.first_name, receipt.outcome) == ("Jeanne", f.Outcome.CREATED)
        assert receipt.web_access is None  # nobody was there to take the codes
        assert report(h.ledger._conn)["openings"] == 1
        assert h.journey._remote.receipt is None
    finally:
        h.close()


def test_card_pulled_while_the_web_access_is_made_prints_no_codes(
    tmp_path: Path, insert_card: InsertCard
) -> None:
    """TD1.1 succeeded, TD1.5a is slow, the patient leaves: the accusé still prints for
    the pharmacist, without access codes (the paper goes through other hands), and the
    welcome screen says the DMP is open."""
    h = Harness(tmp_path, faults={"web_access": "timeout"})
    try:
        start(h, insert_card, 0)
        consent_and_attest(h, mobile="0612345678")
        deadline = time.monotonic() + 10
        while not h.server.calls("web_access"):
            assert time.monotonic() < deadline, "TD1.5a never sent"
            time.sleep(0.02)
        h.journey.dispatch(f.CardRemoved())
        while h.journey.flow.notice is not f.WelcomeNotice.RECEIPT_AT_COUNTER:
            assert time.monotonic() < deadline + 10, h.journey.flow.notice
            time.sleep(0.05)
        (receipt,) = h.receipts
        assert (receipt.patient_left, receipt.web_access, receipt.web_access_requested) == (
            True, None, True
        )  # fmt: skip
        assert report(h.ledger._conn)["openings"] == 1
    finally:
        h.close()


def test_card_pulled_on_consent_wipes_everything_and_sends_nothing(
    harness: Harness, insert_card: InsertCard
) -> None:
    start(harness, insert_card, 0)
    harness.wait(f.Screen.INFORMATION)
    harness.tap("next")
    harness.tap("toggle", "consent")
    pulled = time.monotonic()
    harness.journey.dispatch(f.CardRemoved())
    flow = harness.wait(f.Screen.WELCOME, timeout=1.0)
    assert time.monotonic() - pulled < 1.0
    assert not flow.holds_patient_data()
    assert harness.journey._remote.identity is None
    assert harness.server.store.list() == []
    assert report(harness.ledger._conn)["openings"] == 0


def test_existing_dmp_is_not_created_again(harness: Harness, insert_card: InsertCard) -> None:
    traits = traits_from_vitale(vitale_from_profile(MARTIN), 0)
    session = harness.client.session(practitioner_from_cps(CPS))
    ins = session.certified_identity(traits).ins
    harness.server.store.seed([{"ins": ins, "status": "active"}])
    start(harness, insert_card, 0)
    harness.wait(f.Screen.EXISTS)
    harness.tap("done")
    harness.wait(f.Screen.WELCOME)
    figures = report(harness.ledger._conn)
    assert figures["already_existed"] == 1
    assert figures["amount_due_cents"] == 0


def test_refusal_sends_nothing_and_pays_nothing(harness: Harness, insert_card: InsertCard) -> None:
    start(harness, insert_card, 1)
    harness.wait(f.Screen.INFORMATION)
    harness.tap("next")
    harness.tap("refuse")
    harness.tap("confirm")  # "Vous refusez ?": yes
    harness.wait(f.Screen.WELCOME)
    assert harness.outcomes == [f.Outcome.REFUSED]
    assert harness.server.store.list() == []
    harness.journey.wait_idle(5)  # the refusal is written by the worker, off the UI thread
    figures = report(harness.ledger._conn)
    assert figures["refused"] == 1
    assert figures["amount_due_cents"] == 0


def test_lost_answer_on_creation_is_resolved_as_created(
    tmp_path: Path, insert_card: InsertCard
) -> None:
    h = Harness(tmp_path, faults={"create": "commit_then_reset"})
    try:
        start(h, insert_card, 0)
        consent_and_attest(h)
        assert h.wait(f.Screen.DONE).outcome is f.Outcome.CREATED
        assert report(h.ledger._conn)["openings"] == 1
        assert h.ledger.unresolved() == []
    finally:
        h.close()


def test_a_crash_before_the_outcome_is_resolved_at_start_up(harness: Harness) -> None:
    traits = traits_from_vitale(vitale_from_profile(MARTIN), 0)
    session = harness.client.session(practitioner_from_cps(CPS))
    identity = session.certified_identity(traits)
    consent = ConsentRecord("v", "ab" * 32, True, True, True, False, "fr", CPS.rpps)
    act = harness.ledger.begin("DMP_OPEN", CPS.rpps, identity.ins, consent)
    from kiosk.dmp.models import Consent

    session.create(identity, Consent(True))  # the DMP was created, then the kiosk died
    assert [a.act_id for a in harness.ledger.unresolved()] == [act]
    assert harness.journey.recover() == 1
    assert harness.ledger.unresolved() == []
    assert report(harness.ledger._conn)["openings"] == 1


def test_creation_timeout_shows_an_error_and_records_a_failure(
    tmp_path: Path, insert_card: InsertCard
) -> None:
    """TD1.1 times out; TD0.2 then says no DMP exists: the patient sees an error, the
    ledger records a failed (unpaid) act, nothing is left pending."""
    h = Harness(tmp_path, faults={"create": "timeout"})
    try:
        start(h, insert_card, 0)
        consent_and_attest(h)
        error = h.wait(f.Screen.ERROR, timeout=15)
        assert error.message
        assert h.server.store.list() == []
        statuses = h.ledger.read(lambda conn: conn.execute("SELECT status FROM acts").fetchall())
        assert statuses == [("failed",)]
        assert h.ledger.unresolved() == []
        assert h.ledger.verify().ok
    finally:
        h.close()


def test_a_ledger_that_cannot_record_means_no_dmp_call(
    harness: Harness, insert_card: InsertCard
) -> None:
    """Nothing is created that the ledger did not record first: with the ledger gone
    (disk full, file damaged: here, its connection closed), the patient is told and the
    DMP service never hears of a creation."""
    start(harness, insert_card, 0)
    harness.wait(f.Screen.INFORMATION)
    harness.tap("next")
    harness.tap("toggle", "consent")
    harness.tap("next")
    harness.wait(f.Screen.CONTACT)
    harness.tap("skip")
    harness.wait(f.Screen.ATTESTATION)
    harness.ledger.close()
    harness.tap("attest", CODE)
    error = harness.wait(f.Screen.ERROR)
    assert error.message is f.JourneyProblem.LEDGER_DOWN
    assert "rien n'a été envoyé" in render(error.message, "fr").lower()
    assert harness.server.store.list() == []
