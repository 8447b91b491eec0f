"""The journey without its UI: flow + real cards (pcscd/vpcd), real sandbox over TLS,
real ledger. Taps are dispatched as the screens will dispatch them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.appliance.wiring import patient_reader
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.billing.reports import report
from kiosk.config import Config
from kiosk.core import flow as f
from kiosk.core.code_gate import CodeGate
from kiosk.core.journey import Journey, Services
from kiosk.core.lazy import Lazy
from kiosk.core.pharmacist_code import hash_code, hashed_code_checker
from kiosk.dmp.traits import practitioner_from_cps, traits_from_vitale
from kiosk.hardware.cards import cps_from_profile, vitale_from_profile
from kiosk.sim.sandbox.client_config import sandbox_client
from kiosk.sim.sandbox.server import SandboxServer
from kiosk.ui.i18n import render
from tests.conftest import InsertCard, load_profile

pytestmark = pytest.mark.pcsc

CODE = "2468"
CPS = cps_from_profile(load_profile("cps-dupont-titulaire.json"))[0]
MARTIN = load_profile("vitale-famille-martin.json")


class Harness:
    def __init__(self, tmp: Path, faults: dict[str, str] | None = None) -> None:
        self.server = SandboxServer(tmp / "sandbox", port=0, faults=faults, fault_delay=30).start()
        self.client = sandbox_client(self.server, deadline=2.0)
        self.ledger = Ledger(
            tmp / "state" / "ledger.db", load_or_create_keys(tmp / "state", "kiosk-test")
        )
        self.changed = threading.Condition()
        self.outcomes: list[f.Outcome] = []
        self.receipts: list[tuple[f.Outcome, bool]] = []

        services = Services(
            read_vitale=patient_reader(Config()),
            client=Lazy.of(self.client),
            ledger=Lazy.of(self.ledger),
            practitioner=lambda: practitioner_from_cps(CPS),
            rpps=lambda: CPS.rpps,
            check_code=CodeGate(hashed_code_checker(hash_code(CODE))).try_code,
            print_receipt=lambda outcome, _language, access: self.receipts.append(
                (outcome, access is not None)
            ),
        )
        self.journey = Journey(services, on_change=self._changed, on_finished=self.outcomes.append)

    def _changed(self, _flow: f.Flow) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait(self, screen: f.Screen, timeout: float = 8.0) -> f.Flow:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.journey.flow.screen is not screen:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"still on {self.journey.flow.screen}, wanted {screen}")
                self.changed.wait(left)
        return self.journey.flow

    def tap(self, action: str, value: object = None) -> None:
        self.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    def close(self) -> None:
        self.journey.close()
        self.ledger.close()
        self.server.shutdown()
        self.server.server_close()


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
    assert harness.receipts == [(f.Outcome.CREATED, True)]
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
    start(harness, insert_card, 2)  # Léo, born 2015
    harness.wait(f.Screen.GUARDIAN)
    harness.tap("guardian", "mere")
    consent_and_attest(harness)
    harness.wait(f.Screen.DONE)
    (dmp,) = harness.server.store.list()
    assert dmp["guardian"] == {"last_name": "MARTIN", "first_name": "Jeanne", "role": "mere"}


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
    assert "rien n'a été envoyé" in render(error.message, "fr")
    assert harness.server.store.list() == []
