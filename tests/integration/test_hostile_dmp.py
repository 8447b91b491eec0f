"""A hostile DMP service: TLS, HTTP and SOAP behaviour drawn by hypothesis against the
real client (DmpClient, HttpsTransport). Whatever the service does, a call gives its
answer or a typed :class:`DmpError`, never another exception, and ends within its
deadline plus a small margin (a creation resolved by a status: two calls' deadlines).

The socket sweep runs a real server on 127.0.0.1 (:mod:`tests.integration.hostile_server`);
more examples of SOAP answers go through the client over another :class:`Transport`
that hands the drawn bytes back (the seam a certified connector would use): the whole
client but the sockets.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.dmp.client import DmpClient, DmpSession
from kiosk.dmp.models import CertifiedIdentity, Consent, Contact
from kiosk.dmp.service_errors import DmpError, DmpUnavailable
from kiosk.dmp.transport import HttpsTransport, Transport
from kiosk.dmp.vihf import VihfSigner
from kiosk.sim.sandbox.pki import PkiPaths, load_pharmacy
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    PHARMACIST,
    adult,
    dmp_pki_fixture,
    foreign_pki_fixture,
)
from tests.integration.hostile_report import Tally, sweep
from tests.integration.hostile_server import (
    MID,
    REFUSING,
    SOUND,
    HostileServer,
    Peer,
    Reply,
    ServerPki,
    Tls,
)
from tests.integration.strategies import INS, envelope, peers, soap_answers, valid_body

DEADLINE = 0.5  # the client's deadline, in seconds
MARGIN = 0.4
OPERATIONS = ("identity", "status", "create", "reactivate", "web_access")
_MESSAGE_ID = re.compile(rb"<wsa:MessageID>([^<]{1,200})</wsa:MessageID>")


@pytest.fixture(scope="module")
def server_pki(dmp_pki: PkiPaths, foreign_pki: PkiPaths) -> ServerPki:
    return ServerPki(dmp_pki, foreign_pki)


@pytest.fixture(scope="module")
def signer(dmp_pki: PkiPaths) -> VihfSigner:
    structure = load_pharmacy(dmp_pki.root).structure_id
    return VihfSigner.from_files(dmp_pki.sign_key, dmp_pki.sign, structure)


def call(session: DmpSession, operation: str) -> Callable[[], object]:
    """``operation`` as the journey makes it (a creation is resolved by a status)."""
    identity = CertifiedIdentity(INS, "MARTIN", "Jeanne", "19800512", session_id=session.id)
    return {
        "identity": lambda: session.certified_identity(adult(1)),
        "status": lambda: session.status(identity),
        "create": lambda: session.create_or_resolve(identity, Consent(True)),
        "reactivate": lambda: session.reactivate(identity, Consent(True)),
        "web_access": lambda: session.create_web_access(identity, Contact(mobile="0612345678")),
    }[operation]


def allowed(operation: str) -> float:
    """The longest a call may take: its deadline (two for a creation and its status)."""
    return (2 if operation == "create" else 1) * DEADLINE + MARGIN


def outcome_of(action: Callable[[], object]) -> tuple[str, float]:
    """``answer`` or the DmpError's class (its problem key too), and the time taken; any
    other exception fails the test."""
    started = time.monotonic()
    try:
        action()
        outcome = "answer"
    except DmpError as exc:
        outcome = f"{type(exc).__name__} ({exc.problem.key})"
    return outcome, time.monotonic() - started


@pytest.fixture
def tallies() -> Iterator[dict[str, Tally]]:
    made: dict[str, Tally] = {}
    yield made
    for tally in made.values():
        tally.report()


def _sweep_once(
    server_pki: ServerPki, signer: VihfSigner, peer: Peer, operation: str, tally: Tally
) -> None:
    """One call against ``peer``: typed, within the deadline, an authentication error
    exactly when the handshake refused a certificate, never when the endpoint speaks
    no TLS."""
    transport = HttpsTransport(server_pki.ours.ca, server_pki.ours.auth, server_pki.ours.auth_key)
    try:
        with HostileServer(server_pki, peer) as server:
            session = DmpClient(transport, server.url, signer, DEADLINE).session(PHARMACIST)
            outcome, elapsed = outcome_of(call(session, operation))
    finally:
        transport.close()
    error = outcome.split(" ")[0]
    tally.saw([*peer.behaviours, operation], error, elapsed)
    assert elapsed < allowed(operation), f"{operation} took {elapsed:.2f} s: {outcome}"
    if peer.tls in SOUND:  # what the service says after a sound handshake is no refusal
        assert error != "DmpAuthenticationError", outcome
    if peer.tls in REFUSING:
        assert error == "DmpAuthenticationError", outcome
    if peer.tls is Tls.PLAIN_HTTP:  # a wrong port (or a hang), never "the certificates"
        assert error in ("DmpUnavailable", "DmpTimeout"), outcome


def test_hostile_http_and_soap_over_tls_give_typed_errors_within_the_deadline(
    server_pki: ServerPki, signer: VihfSigner, tallies: dict[str, Tally]
) -> None:
    tally = tallies.setdefault("http", Tally("DMP service: HTTP and SOAP over TLS", DEADLINE))

    @sweep(60)
    @given(data=st.data(), operation=st.sampled_from(OPERATIONS))
    def run(data: st.DataObject, operation: str) -> None:
        peer = data.draw(peers(operation, st.sampled_from(SOUND)), label="peer")
        _sweep_once(server_pki, signer, peer, operation, tally)

    run()
    assert tally.outcomes["answer"] > 0
    assert len(tally.outcomes) >= 4


def test_hostile_tls_gives_typed_errors_within_the_deadline(
    server_pki: ServerPki, signer: VihfSigner, tallies: dict[str, Tally]
) -> None:
    """Each TLS misbehaviour, a few drawn examples each (operations and what follows)."""
    tally = tallies.setdefault("tls", Tally("DMP service: TLS misbehaviour", DEADLINE))
    for tls in (t for t in Tls if t not in SOUND):

        @sweep(3)
        @given(data=st.data(), operation=st.sampled_from(OPERATIONS))
        def run(data: st.DataObject, operation: str) -> None:
            peer = data.draw(peers(operation, st.just(tls)), label="peer")  # noqa: B023
            _sweep_once(server_pki, signer, peer, operation, tally)

        run()
    assert tally.outcomes["answer"] == 0


class HandBack:
    """A :class:`Transport` that answers with ``answer`` (``@MID@`` filled in with the
    request's MessageID): the client's whole reading of an answer, without sockets."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def post(self, url: str, payload: bytes, timeout: float) -> bytes:
        found = _MESSAGE_ID.search(payload)
        return self.answer.replace(MID, found.group(1) if found else b"none")


def test_any_soap_answer_is_read_or_refused_with_a_typed_error(
    signer: VihfSigner, tallies: dict[str, Tally]
) -> None:
    tally = tallies.setdefault("soap", Tally("DMP answers handed back (no sockets)", None))

    @sweep(300)
    @given(data=st.data(), operation=st.sampled_from(OPERATIONS))
    def run(data: st.DataObject, operation: str) -> None:
        answer = data.draw(soap_answers(operation), label="answer")
        transport: Transport = HandBack(answer)
        session = DmpClient(transport, "https://dmp.test", signer, DEADLINE).session(PHARMACIST)
        outcome, elapsed = outcome_of(call(session, operation))
        tally.saw([operation, _shape(answer)], outcome, elapsed)

    run()
    assert tally.outcomes["answer"] > 0
    assert any(o.startswith("DmpRejected") for o in tally.outcomes)


def _shape(answer: bytes) -> str:
    if b"Fault" in answer:
        return "fault"
    if b"<!DOCTYPE" in answer or b"<!ENTITY" in answer or b"\x00<" in answer:
        return "doctype"
    if len(answer) > 100_000:
        return "huge or deep"
    return "envelope" if b"Envelope" in answer else "not an envelope"


def test_the_hostile_server_answers_a_sound_call(server_pki: ServerPki) -> None:
    """Sanity: a sound handshake with the hostile server's own certificate succeeds, so
    the refusals in the sweep come from the certificates it was told to present."""
    peer = Peer(Tls.OK, replies=(Reply(body=envelope(valid_body("status"))),))
    transport = HttpsTransport(server_pki.ours.ca, server_pki.ours.auth, server_pki.ours.auth_key)
    try:
        with HostileServer(server_pki, peer) as server:
            assert b"StatusResponse" in transport.post(server.url + "/patients", b"<x/>", 2.0)
    finally:
        transport.close()


@pytest.mark.parametrize("line", [b"HTTP/1.1 abc certificate", b"handshake alert", b"SSL 200"])
def test_the_service_s_words_do_not_make_an_authentication_error(
    server_pki: ServerPki, line: bytes
) -> None:
    """A status line quoting TLS words after a sound handshake is an unreadable answer
    from a reachable service, not our certificate refused (it used to be)."""
    peer = Peer(Tls.OK, replies=(Reply(status_line=line, body=b"x"),))
    transport = HttpsTransport(server_pki.ours.ca, server_pki.ours.auth, server_pki.ours.auth_key)
    try:
        with HostileServer(server_pki, peer) as server, pytest.raises(DmpError) as raised:
            transport.post(server.url, b"<x/>", 2.0)
    finally:
        transport.close()
    assert type(raised.value) is DmpUnavailable
