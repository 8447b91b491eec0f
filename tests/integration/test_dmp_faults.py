"""Fault injection, client against the sandbox over real TLS: every fault on every
operation ends in the matching typed error within the client's deadline; safe calls
are retried once, creations never; a lost creation answer is resolved by a status; and
when that status fails too, the act is left uncertain in the ledger file, its INS sealed,
until recovery resolves it (paid once)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.billing.chain import CONFIRMED, FAILED, UNCERTAIN
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.billing.reports import report
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE
from kiosk.core.ledger_policy import LedgerPolicy, Opening, consent_record
from kiosk.core.recovery import recover
from kiosk.dmp import transactions as m
from kiosk.dmp.client import CreateOutcome
from kiosk.dmp.models import Consent, DmpState
from kiosk.dmp.service_errors import (
    DmpError,
    DmpProtocolError,
    DmpRejected,
    DmpTimeout,
    DmpUnavailable,
)
from kiosk.sim.sandbox.server import FAULT_KINDS, FaultSpecError, parse_faults
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    DEADLINE,
    PHARMACIST_RPPS,
    CountingSandbox,
    DmpClients,
    Sandboxes,
    adult,
    dmp_clients_fixture,
    dmp_pki_fixture,
    prepare_call,
    sandboxes_fixture,
)

OPERATIONS = ("identity", "status", "create", "reactivate", "web_access")
SAFE = ("identity", "status")
FAULT_DELAY = 30.0  # the server would answer after 30 s: a timeout is the client's deadline
MARGIN = 0.5

ERROR: dict[str, type[DmpError]] = {
    "timeout": DmpTimeout,
    "http500": DmpUnavailable,
    "malformed": DmpProtocolError,
    "reset": DmpUnavailable,
    "commit_then_reset": DmpUnavailable,
    "commit_then_timeout": DmpTimeout,
    "soap_fault": DmpRejected,
}
TIMEOUTS = ("timeout", "commit_then_timeout")
COMMITS = ("commit_then_reset", "commit_then_timeout")


def expected_requests(operation: str, kind: str) -> int:
    """Safe calls are retried once after a transient failure; a timeout has used up the
    deadline (no time left to retry), an unreadable answer is not transient. Calls
    that change the DMP are sent once, whatever happens."""
    if operation in SAFE and kind in ("http500", "reset", "commit_then_reset"):
        return 2
    return 1


def committed(operation: str, server: CountingSandbox) -> bool | None:
    """Whether the faulted operation changed the sandbox (None for read-only ones)."""
    rows = server.store.list()
    if operation == "create":
        return bool(rows)
    if operation == "reactivate":
        return bool(rows[0]["status"] == "active")
    if operation == "web_access":
        return bool(rows[0]["web_access"])
    return None


def test_the_matrix_covers_every_operation_and_fault() -> None:
    assert set(OPERATIONS) == set(m.OPERATIONS)
    assert set(ERROR) == set(FAULT_KINDS)
    assert {t.operation for t in m.TRANSACTIONS.values() if t.safe_to_retry} == set(SAFE)


@pytest.mark.parametrize("kind", FAULT_KINDS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_fault_gives_a_typed_error_in_time(
    sandboxes: Sandboxes, dmp_clients: DmpClients, operation: str, kind: str
) -> None:
    server = sandboxes.start(faults={operation: kind}, fault_delay=FAULT_DELAY)
    session = dmp_clients.session(server, deadline=DEADLINE)
    call = prepare_call(operation, server, session, patient=100)
    before = server.received(operation)

    started = time.monotonic()
    with pytest.raises(DmpError) as caught:
        call()
    elapsed = time.monotonic() - started

    assert type(caught.value) is ERROR[kind], caught.value  # not e.g. an authentication error
    assert elapsed < DEADLINE + MARGIN
    if kind in TIMEOUTS:
        assert elapsed >= DEADLINE - 0.05  # the client's deadline ended it, not the server
    else:
        assert elapsed < DEADLINE / 2  # a failure that is known at once is reported at once
    assert server.received(operation) - before == expected_requests(operation, kind)
    assert committed(operation, server) is (None if operation in SAFE else kind in COMMITS)


@pytest.mark.parametrize("kind", ["reset", "timeout", "http500", "malformed"])
def test_a_failed_create_is_not_retried_and_nothing_exists(
    sandboxes: Sandboxes, dmp_clients: DmpClients, kind: str
) -> None:
    server = sandboxes.start(faults={"create": kind}, fault_delay=FAULT_DELAY)
    session = dmp_clients.session(server, deadline=DEADLINE)
    identity = session.certified_identity(adult(101))

    with pytest.raises(ERROR[kind]):
        session.create_or_resolve(identity, Consent(True))

    assert server.received("create") == 1
    assert server.received("status") == 1  # the outcome was resolved, once
    assert server.store.list() == []
    assert session.status(identity).state is DmpState.NOT_FOUND


def test_a_lost_creation_answer_is_resolved(sandboxes: Sandboxes, dmp_clients: DmpClients) -> None:
    server = sandboxes.start(faults={"create": "commit_then_reset"})
    session = dmp_clients.session(server, deadline=DEADLINE)
    identity = session.certified_identity(adult(102))

    outcome = session.create_or_resolve(identity, Consent(True, centre15_allowed=False))

    assert outcome == CreateOutcome(created=True, resolved_after_error=True)
    assert server.received("create") == 1
    [row] = server.store.list()
    assert (row["ins"], row["status"], row["centre15_allowed"]) == (identity.ins, "active", False)


def test_a_lost_creation_is_not_claimed_when_another_structure_holds_the_dmp(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    """The creation never reached the service, and the DMP that status finds was opened
    by another structure (e.g. meanwhile): it is not ours, so not a creation (not paid)."""
    server = sandboxes.start(faults={"create": "reset"})
    session = dmp_clients.session(server, deadline=DEADLINE)
    identity = session.certified_identity(adult(104))
    server.store.seed([{"ins": identity.ins, "status": "active"}])

    with pytest.raises(DmpUnavailable):
        session.create_or_resolve(identity, Consent(True))

    assert (server.received("create"), server.received("status")) == (1, 1)
    [row] = server.store.list()
    assert row["structure_id"] is None


def test_create_or_resolve_without_fault_creates_once(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start(faults={"status": "http500"})  # resolution not needed
    session = dmp_clients.session(server, deadline=DEADLINE)
    identity = session.certified_identity(adult(103))

    outcome = session.create_or_resolve(identity, Consent(True))

    assert outcome.created
    assert not outcome.resolved_after_error
    assert outcome.created_at is not None
    assert (server.received("create"), server.received("status")) == (1, 0)
    assert len(server.store.list()) == 1


# --- faults on chosen calls (OP=KIND@CALLS) ------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "faults"),
    [
        ("create=timeout", {"create": "timeout"}),  # every call, as before
        ("status=http500@2", {"status": "http500@2"}),
        ("status=reset@2-", {"status": "reset@2-"}),
        ("status=soap_fault@2-3", {"status": "soap_fault@2-3"}),
    ],
)
def test_fault_specs_are_read(spec: str, faults: dict[str, str]) -> None:
    assert parse_faults([spec]) == faults


@pytest.mark.parametrize(
    "spec",
    [
        "create=explode", "nothing=timeout", "status", "status=http500@", "status=http500@0",
        "status=http500@3-2", "status=http500@x", "status=http500@2-x", "status=http500@-2",
        "status=http500@2--", "status=@2",
    ],
)  # fmt: skip
def test_bad_fault_specs_are_refused(spec: str) -> None:
    with pytest.raises(FaultSpecError, match="expected OP=KIND"):
        parse_faults([spec])


def test_one_fault_per_operation() -> None:
    with pytest.raises(FaultSpecError, match="one fault per operation"):
        parse_faults(["status=http500@2", "status=timeout@3"])


@pytest.mark.parametrize(
    ("spec", "fails", "calls"),
    [
        ("http500@2", False, 3),  # the 2nd call hit, its retry (the 3rd) let through
        ("http500@2-", True, 3),  # the 2nd and every later one: the retry fails too
        ("http500@2-3", True, 3),
        ("http500@3-", False, 2),  # the 2nd passes: no retry needed, nothing hit
    ],
)
def test_a_fault_hits_only_the_calls_it_names(
    sandboxes: Sandboxes, dmp_clients: DmpClients, spec: str, fails: bool, calls: int
) -> None:
    server = sandboxes.start(faults=parse_faults([f"status={spec}"]))
    session = dmp_clients.session(server, deadline=DEADLINE)
    identity = session.certified_identity(adult(105))

    assert session.status(identity).state is DmpState.NOT_FOUND  # the 1st call
    if fails:
        with pytest.raises(DmpUnavailable):
            session.status(identity)
    else:
        assert session.status(identity).state is DmpState.NOT_FOUND
    assert server.received("status") == calls


# --- the ledger when TD0.2 cannot resolve a lost answer -------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    book = Ledger(tmp_path / "state" / "ledger.db", load_or_create_keys(tmp_path / "state", "k"))
    yield book
    book.close()


@pytest.mark.parametrize(
    ("create", "status", "error", "created"),
    [
        ("commit_then_reset", "http500@2-", DmpUnavailable, True),
        ("commit_then_reset", "reset@2-", DmpUnavailable, True),
        ("commit_then_reset", "soap_fault@2", DmpUnavailable, True),
        ("commit_then_reset", "malformed@2", DmpUnavailable, True),
        ("commit_then_reset", "timeout@2", DmpUnavailable, True),
        ("commit_then_timeout", "timeout@2", DmpTimeout, True),  # created, answered too late
        ("timeout", "timeout@2", DmpTimeout, False),  # never created
    ],
)
def test_an_unresolved_creation_stays_uncertain_until_recovery(
    sandboxes: Sandboxes,
    dmp_clients: DmpClients,
    ledger: Ledger,
    create: str,
    status: str,
    error: type[DmpError],
    created: bool,
) -> None:
    """TD1.1's answer is lost and the TD0.2 that resolves it fails too (the journey's own
    TD0.2, the 1st, went through): nobody knows, so the act is uncertain with its INS
    still sealed, never failed; recovery, the service back, resolves it and pays once."""
    server = sandboxes.start(
        faults=parse_faults([f"create={create}", f"status={status}"]), fault_delay=FAULT_DELAY
    )
    session = dmp_clients.session(server, deadline=DEADLINE)
    identity = session.certified_identity(adult(106))
    assert session.status(identity).state is DmpState.NOT_FOUND  # the journey's check
    policy = LedgerPolicy(lambda: ledger)
    consent = Consent(True)
    record = consent_record(consent, False, "fr", PHARMACIST_RPPS)

    with pytest.raises(DmpError) as raised:
        policy.open_dmp(session, PHARMACIST_RPPS, Opening(identity, consent, record))

    [act] = ledger.unresolved()  # not finished failed
    assert (act.act_code, act.status) == (DMP_OPEN, UNCERTAIN)
    assert ledger.pending_ins(act.act_id) == identity.ins  # still sealed, for recovery
    assert type(raised.value) is error  # TD1.1's own error, whatever TD0.2's was
    assert not raised.value.outcome_known
    assert server.received("create") == 1  # never sent again
    assert server.received("status") >= 2  # the resolution was tried
    assert [row["status"] for row in server.store.list()] == (["active"] if created else [])

    server.faults.clear()  # the service answers again
    assert recover(policy, lambda: dmp_clients.session(server, deadline=DEADLINE)) == 1

    assert ledger.unresolved() == []
    assert ledger.pending_ins(act.act_id) is None
    figures = ledger.read(report)
    assert figures["pending"] == 0
    if created:
        assert (figures["openings"], figures[FAILED], figures["amount_due_cents"]) == (1, 0, 100)
    else:
        assert (figures["openings"], figures[FAILED], figures["amount_due_cents"]) == (0, 1, 0)
    assert recover(policy, lambda: dmp_clients.session(server)) == 0  # nothing left: paid once
    assert ledger.read(report)["amount_due_cents"] == (100 if created else 0)


def test_a_lost_reactivation_answer_is_recovered_as_ours(
    sandboxes: Sandboxes, dmp_clients: DmpClients, ledger: Ledger
) -> None:
    """TD1.2 is committed, its answer lost: uncertain, then recovery's TD0.2 finds the DMP
    active and this pharmacy authorized on it (it reactivated it): a confirmed reactivation,
    not a DMP that already existed."""
    server = sandboxes.start(faults={"reactivate": "commit_then_reset"})
    session = dmp_clients.session(server, deadline=DEADLINE)
    identity = session.certified_identity(adult(107))
    server.store.seed([{"ins": identity.ins, "status": "closed"}])
    policy = LedgerPolicy(lambda: ledger)
    consent = Consent(True)
    record = consent_record(consent, False, "fr", PHARMACIST_RPPS)

    with pytest.raises(DmpUnavailable):
        policy.open_dmp(
            session, PHARMACIST_RPPS, Opening(identity, consent, record, reactivate=True)
        )
    [act] = ledger.unresolved()
    assert (act.act_code, act.status) == (DMP_REACTIVATE, UNCERTAIN)

    server.faults.clear()
    assert recover(policy, lambda: dmp_clients.session(server)) == 1
    figures = ledger.read(report)
    assert (figures["reactivations"], figures["already_existed"], figures["pending"]) == (1, 0, 0)
    assert ledger.unresolved() == []
    assert ledger.read(lambda conn: conn.execute("SELECT status FROM acts").fetchall()) == [
        (CONFIRMED,)
    ]
