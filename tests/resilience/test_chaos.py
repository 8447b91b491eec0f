"""Chaos during a journey, on one running kiosk (``kiosk run``'s DeviceKiosk without its
window, :mod:`tests.resilience.chaos_site`): each fault hits a patient's journey, then the
next patient is served by the same kiosk, never restarted. For each: what the patient saw
(the screens and their message keys, the French text), what the ledger holds (the acts'
statuses, ``verify``), what the sandbox holds, and the next patient's outcome; one table
in the CI log.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from kiosk.billing import ledger as ledger_module
from kiosk.billing.ledger import paris_day
from kiosk.core import flow as f
from kiosk.dmp import vihf as vihf_module
from kiosk.dmp.service_errors import DmpProblem
from kiosk.messages import Message
from kiosk.ui.i18n import render
from tests.conftest import wait_for
from tests.resilience.chaos_links import SlowService
from tests.resilience.chaos_site import DEADLINE, Site, fill
from tests.resilience.tables import table

pytestmark = pytest.mark.pcsc

CHAOS = table(
    "chaos", "Chaos during a journey: fault x outcome",
    "fault", "patient sees", "ledger holds", "next patient",
)  # fmt: skip


def key(flow: f.Flow) -> str | None:
    return flow.message.key if flow.message is not None else None


class Row:
    """One fault: marks what the patient saw and the ledger held before it."""

    def __init__(self, site: Site, fault: str) -> None:
        self.site, self.fault = site, fault
        self.seen = site.seen.mark()
        self.acts = len(site.statuses())
        self.held = site.sandbox.held()
        self.creates = site.sandbox.server.calls("create")

    def sees(self) -> list[str]:
        return self.site.seen.since(self.seen)

    def new_acts(self) -> list[str]:
        return self.site.statuses()[self.acts :]

    def done(self, message: Message | None = None, after: str = "") -> None:
        """The ledger intact, the next patient served, and the row in the table
        (``after``: what became of the fault's act once the next patient was served)."""
        site = self.site
        sees, acts = self.sees(), self.new_acts()
        assert site.ledger.verify().ok
        held = site.sandbox.held() - self.held
        served = site.serve()
        assert served is f.Outcome.CREATED
        assert site.ledger.verify().ok
        said = f' "{render(message, "fr")}"' if message is not None else ""
        CHAOS.add(
            self.fault,
            " → ".join(sees) + said,
            f"{', '.join(acts) or 'nothing'}{after}; DMPs +{held}; verify intact",
            f"{served.value} (no restart)",
        )


def test_pcscd_killed_and_restarted(site: Site) -> None:
    """pcscd dies on the consent screen: both cards vanish for the kiosk (the journey ends,
    the CPS forgets its PIN); pcscd comes back: the card monitor sees the cards again, the
    patient's card starts a new journey, the CPS asks for its PIN."""
    row = Row(site, "pcscd killed, restarted")
    card = site.new_card()
    site.to_consent(card)
    site.pcscd.kill()
    assert not site.wait(f.Screen.WELCOME, timeout=5).holds_patient_data()
    site.pcscd.start()
    site.wait(f.Screen.CHOOSE, timeout=15)  # the card still in: read again
    site.enter_pin()  # the card was powered off: the PIN again
    site.leave(card)
    assert row.new_acts() == []
    row.done()


def test_card_pulled_between_two_apdus(site: Site) -> None:
    """The card goes after its third APDU: the read ends in "card removed" or the removal
    ends the journey first; either way back to welcome, nothing kept, nothing sent."""
    row = Row(site, "Vitale pulled between two APDUs")
    card = site.new_card(pull_after=3)
    card.insert()
    wait_for(lambda: len(row.sees()) > 1, 5, "the read to start and end")
    assert not site.wait(f.Screen.WELCOME, timeout=5).holds_patient_data()
    site.leave(card)
    assert row.sees()[0] == "reading"
    assert row.new_acts() == []
    row.done()


def test_vitale_in_the_pharmacists_reader(site: Site) -> None:
    """The CPS is out; the patient puts the Vitale in the pharmacist's reader: not read,
    the patient is told to use the other one. In the right reader, with the CPS still
    out: the DMP is not called, the patient is sent to the counter."""
    row = Row(site, "Vitale in the pharmacist's reader (CPS out)")
    site.pull_cps()
    card = site.new_card(slot=1)
    card.insert()
    error = site.wait(f.Screen.ERROR, timeout=5)
    assert error.message is f.JourneyProblem.WRONG_READER
    assert error.card is None
    card.pull()
    site.wait(f.Screen.WELCOME, timeout=5)
    moved = site.new_card(slot=0)
    refused = site.to_error(moved)
    assert key(refused) == "dmp.pharmacist_not_ready"
    site.leave(moved)
    site.insert_cps()
    site.enter_pin()
    assert row.new_acts() == []
    row.done(f.JourneyProblem.WRONG_READER)


def test_cps_pulled_during_the_journey(site: Site) -> None:
    """The CPS leaves while the patient reads the consent: the attestation sends nothing
    (the pharmacist who checked the DMP is gone), the patient is sent to the counter."""
    row = Row(site, "CPS pulled mid-journey")
    card = site.new_card()
    site.to_consent(card)
    site.pull_cps()
    held = site.sandbox.held()
    site.consent_and_attest()
    error = site.wait(f.Screen.ERROR)
    assert key(error) == "dmp.pharmacist_not_ready"
    assert site.sandbox.held() == held
    site.leave(card)
    site.insert_cps()
    site.enter_pin()
    assert row.new_acts() == []
    row.done(error.message)


@contextmanager
def slow_sandbox(site: Site, delay: float) -> Iterator[None]:
    server = site.sandbox.server
    fast, server.service = server.service, SlowService(server.service, delay)
    try:
        yield
    finally:
        server.service = fast


def test_sandbox_slow_just_under_the_deadline(site: Site) -> None:
    """Every call answered 0.5 s before the client's deadline: the journey goes through."""
    row = Row(site, f"sandbox slow: {DEADLINE - 0.5:g} s per call, deadline {DEADLINE:g} s")
    with slow_sandbox(site, DEADLINE - 0.5):
        assert site.serve() is f.Outcome.CREATED
    assert row.new_acts() == ["confirmed"]
    row.done()


def test_sandbox_slow_just_over_the_deadline(site: Site) -> None:
    """From the consent screen on, every call answered 0.4 s after the deadline: TD1.1 is
    committed but its answer is late, and TD0.2, asked what became of it, is late too.
    The patient is told the DMP may be open and will be checked; the act is left uncertain (its INS
    sealed) until the journey ends, when TD0.2 (fast again) resolves it as created, paid
    once, without waiting for a restart or the next CPS PIN."""
    row = Row(site, f"sandbox slow: {DEADLINE + 0.4:g} s per call, deadline {DEADLINE:g} s")
    card = site.new_card()
    site.to_consent(card)
    with slow_sandbox(site, DEADLINE + 0.4):
        site.consent_and_attest()
        error = site.wait(f.Screen.ERROR, timeout=3 * DEADLINE + 2)
    assert key(error) == "journey.outcome_unknown"  # not "too slow": it may be open
    assert site.statuses()[row.acts :] == ["uncertain"]  # while the patient reads the error
    site.leave(card)
    site.kiosk.journey.wait_idle(10)  # the journey's end: TD0.2 on the worker
    assert site.ledger.unresolved() == []
    assert row.new_acts() == ["confirmed"]
    row.done(error.message, " (left uncertain, resolved by TD0.2 when the patient left)")


def test_sandbox_refusing_connections(site: Site) -> None:
    """The service's port refuses connections (and the open ones are reset) while the
    patient's DMP is checked: the patient is told the service is down; nothing recorded."""
    row = Row(site, "sandbox refusing connections")
    card = site.new_card()
    site.dmp.down()
    try:
        error = site.to_error(card)
    finally:
        site.dmp.up()
    assert key(error) == "dmp.unavailable"
    site.leave(card)
    assert row.new_acts() == []
    row.done(error.message)


def test_sandbox_restarting(site: Site) -> None:
    """The service restarts while the patient reads the consent (its kept-alive
    connections die with it): the creation goes through on a new connection."""
    row = Row(site, "sandbox restarted mid-journey")
    card = site.new_card()
    site.to_consent(card)
    site.dmp.drop()
    site.sandbox.restart()
    site.consent_and_attest()
    assert site.wait(f.Screen.DONE).outcome is f.Outcome.CREATED
    site.tap("done")
    site.leave(card)
    assert row.new_acts() == ["confirmed"]
    row.done()


def test_sandbox_answering_garbage(site: Site) -> None:
    """TD1.1 answered with a 200 that is not XML (inside TLS): the outcome is asked with
    TD0.2, which says no DMP was made: the act is recorded failed, unpaid."""
    row = Row(site, "sandbox answering garbage to TD1.1")
    card = site.new_card()
    site.to_consent(card)
    site.sandbox.server.faults = {"create": "malformed"}
    try:
        site.consent_and_attest()
        error = site.wait(f.Screen.ERROR)
    finally:
        site.sandbox.server.faults = {}
    assert key(error) == "dmp.unreadable_answer"
    site.leave(card)
    assert row.new_acts() == ["failed"]
    row.done(error.message)


def test_a_link_answering_garbage_instead_of_tls(site: Site) -> None:
    """What answers on the service's port is not TLS: the check fails with a typed error."""
    row = Row(site, "not TLS on the service's port")
    card = site.new_card()
    site.dmp.drop()  # the kept-alive connections go: the next call connects anew
    site.dmp.garbage = True
    try:
        error = site.to_error(card)
    finally:
        site.dmp.garbage = False
    assert error.message is DmpProblem.UNAVAILABLE  # the endpoint, not the certificates
    site.leave(card)
    assert row.new_acts() == []
    row.done(error.message)


def test_ledger_disk_full_refuses_the_journey(site: Site) -> None:
    """The ledger's file system is full when a patient comes: the kiosk does not read
    the card nor call the DMP, and says why; once room is made, it serves again."""
    if not site.tmpfs:
        pytest.skip("no tmpfs could be mounted for the ledger (needs root)")
    row = Row(site, "ledger's disk full before the journey")
    filler = fill(site.state)
    try:
        card = site.new_card()
        card.insert()
        error = site.wait(f.Screen.ERROR)
        assert error.message is f.JourneyProblem.CANNOT_RECORD
        assert error.card is None
        site.tap("done")
        site.wait(f.Screen.WELCOME)
        site.leave(card)
    finally:
        filler.unlink()
    assert row.new_acts() == []
    row.done(error.message)


def test_ledger_disk_filling_during_the_journey(site: Site) -> None:
    """The disk fills up while the patient reads the consent: the act cannot be recorded,
    so TD1.1 is never sent; once room is made, the next patient is served."""
    if not site.tmpfs:
        pytest.skip("no tmpfs could be mounted for the ledger (needs root)")
    row = Row(site, "ledger's disk full mid-journey")
    card = site.new_card()
    site.to_consent(card)
    filler = fill(site.state)
    try:
        site.consent_and_attest()
        error = site.wait(f.Screen.ERROR)
        assert error.message is f.JourneyProblem.LEDGER_DOWN
        assert site.sandbox.server.calls("create") == row.creates
        site.leave(card)
    finally:
        filler.unlink()
    assert row.new_acts() == []
    row.done(error.message)


@contextmanager
def wall_clock_moved(
    site: Site, monkeypatch: pytest.MonkeyPatch, by: dt.timedelta
) -> Iterator[None]:
    """The machine's wall clock stepped by ``by``, for everything of the kiosk and the
    sandbox (one machine) that reads it: the ledger's UTC time, the VIHF's issue time and
    the sandbox's check of it, the journey's and the CPS's today. Monotonic time does not
    move (a clock step leaves CLOCK_MONOTONIC alone)."""
    real = dt.datetime

    class Moved(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Moved:
            moment = real.now(tz) + by
            return cls.fromtimestamp(moment.timestamp(), tz)

    shim = types.SimpleNamespace(**{name: getattr(dt, name) for name in dir(dt)})
    shim.datetime = Moved
    with monkeypatch.context() as patch:
        patch.setattr(ledger_module, "utc_now", lambda: real.now(dt.UTC) + by)
        patch.setattr(vihf_module, "dt", shim)
        today = lambda: (real.now() + by).date()  # noqa: E731
        patch.setattr(site.kiosk.journey, "today", today)
        patch.setattr(site.kiosk.cps, "_today", today)
        yield


@pytest.mark.parametrize(
    ("jump", "label"),
    [(dt.timedelta(hours=-1), "back an hour"), (dt.timedelta(days=1), "forward a day")],
    ids=["back-an-hour", "forward-a-day"],
)
def test_wall_clock_jumps_mid_journey(
    site: Site, monkeypatch: pytest.MonkeyPatch, jump: dt.timedelta, label: str
) -> None:
    """The clock steps while the patient reads the consent: no timeout fires (the
    journey's are monotonic), the VIHF signed after the step is valid for the service
    on the same clock, the ledger verifies with entries out of time order, and a day
    forward gets that day's own signed checkpoint."""
    row = Row(site, f"wall clock jumps {label} mid-journey")
    days = set(site.checkpoints())
    card = site.new_card()
    site.to_consent(card)
    with wall_clock_moved(site, monkeypatch, jump):
        site.kiosk.journey.tick()
        assert site.kiosk.journey.flow.screen is f.Screen.CONSENT
        assert not site.kiosk.journey.flow.warning
        site.consent_and_attest()
        assert site.wait(f.Screen.DONE).outcome is f.Outcome.CREATED
        site.tap("done")
        site.leave(card)
        assert row.new_acts() == ["confirmed"]
        moved_day = paris_day(dt.datetime.now(dt.UTC) + jump).isoformat()
        assert moved_day in site.checkpoints()
        assert site.ledger.verify().ok
        new = sorted(set(site.checkpoints()) - days)
        row.done(after=f"; checkpoints of {', '.join(sorted(days | set(new)))}")
    assert site.ledger.verify().ok


def test_printer_vanishing_mid_ticket(site: Site) -> None:
    """The ticket printer goes away after 40 bytes of the ticket: the patient's journey
    ends as usual, the pharmacist's line says the ticket was cut and the PDF is kept;
    the next receipt prints whole."""
    row = Row(site, "ticket printer vanishing mid-ticket")
    site.printer_link.cut_after = 40
    try:
        printed = len(site.printed)
        card = site.new_card()
        site.to_consent(card)
        site.consent_and_attest()
        assert site.wait(f.Screen.DONE).outcome is f.Outcome.CREATED
        wait_for(lambda: len(site.printed) > printed, 20, "the receipt's result")
        site.tap("done")
        site.leave(card)
    finally:
        site.printer_link.cut_after = None
    notice = site.printed[printed]
    assert notice[0] in ("printer.ticket_interrupted", "printer.ticket_failed"), notice
    assert "printer.pdf_kept" in notice
    assert row.new_acts() == ["confirmed"]
    jobs = len(site.printer.jobs)
    row.done(after=f"; pharmacist's line: {', '.join(notice)}")
    assert site.printed[-1] == ()  # the next receipt: printed, no problem
    assert len(site.printer.jobs) > jobs
