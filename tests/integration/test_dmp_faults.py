"""Fault injection, client against the sandbox over real TLS: every fault on every
operation ends in the matching typed error within the client's deadline; safe calls
are retried once, creations never; a lost creation answer is resolved by a status."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from kiosk.dmp import transactions as m
from kiosk.dmp.client import CreateOutcome, DmpSession
from kiosk.dmp.models import Consent, Contact, DmpState
from kiosk.dmp.service_errors import DmpError, DmpProtocolError, DmpTimeout, DmpUnavailable
from kiosk.sim.sandbox.server import FAULT_KINDS
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    DEADLINE,
    CountingSandbox,
    DmpClients,
    Sandboxes,
    adult,
    dmp_clients_fixture,
    dmp_pki_fixture,
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
}


def expected_requests(operation: str, kind: str) -> int:
    """Safe calls are retried once after a transient failure; a timeout has used up the
    deadline (no time left to retry), an unreadable answer is not transient. Calls
    that change the DMP are sent once, whatever happens."""
    if operation in SAFE and kind in ("http500", "reset", "commit_then_reset"):
        return 2
    return 1


def prepare(operation: str, server: CountingSandbox, session: DmpSession) -> Callable[[], object]:
    """Do what ``operation`` needs first (with the unfaulted operations), return the call."""
    traits = adult(100)
    if operation == "identity":
        return lambda: session.certified_identity(traits)
    identity = session.certified_identity(traits)
    if operation == "status":
        return lambda: session.status(identity)
    if operation == "create":
        return lambda: session.create(identity, Consent(True))
    if operation == "reactivate":
        server.store.seed([{"ins": identity.ins, "status": "closed"}])
        return lambda: session.reactivate(identity, Consent(True))
    server.store.seed([{"ins": identity.ins, "status": "active"}])
    return lambda: session.create_web_access(identity, Contact(mobile="0612345678"))


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
    call = prepare(operation, server, session)
    before = server.received(operation)

    started = time.monotonic()
    with pytest.raises(DmpError) as caught:
        call()
    elapsed = time.monotonic() - started

    assert type(caught.value) is ERROR[kind], caught.value  # not e.g. an authentication error
    assert elapsed < DEADLINE + MARGIN
    if kind == "timeout":
        assert elapsed >= DEADLINE - 0.05  # the client's deadline ended it, not the server
    else:
        assert elapsed < DEADLINE / 2  # a failure that is known at once is reported at once
    assert server.received(operation) - before == expected_requests(operation, kind)
    assert committed(operation, server) is (
        None if operation in SAFE else kind == "commit_then_reset"
    )


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
