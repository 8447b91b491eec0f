"""DmpClient/DmpSession over a scripted transport: whatever bytes come back, a call ends
with a typed value, DmpProtocolError or DmpRejected; never an lxml or KeyError.

The transport double is legitimate here: :class:`kiosk.dmp.transport.Transport` is the
client's interface to the network (a Protocol with one real implementation,
HttpsTransport, exercised against the TLS sandbox in tests/integration). This double
only returns crafted bytes; the envelope, VIHF and message code under test are real.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from kiosk.dmp import transactions as m
from kiosk.dmp.client import DmpClient, DmpSession
from kiosk.dmp.models import (
    CertifiedIdentity,
    Consent,
    DmpState,
    DmpStatus,
    PatientTraits,
    Practitioner,
)
from kiosk.dmp.service_errors import (
    DmpInputError,
    DmpProtocolError,
    DmpRejected,
    DmpTimeout,
    DmpUnavailable,
)
from kiosk.dmp.soap import Fault, build_envelope, build_fault, parse_envelope
from kiosk.dmp.vihf import ReplayCache, VihfSigner, verify_vihf
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki, load_pharmacy

INS = "180057512345627"
TRAITS = PatientTraits("180057512345627", None, "MARTIN", "Jeanne", "19800512", 1, "0")
PHARMACIST = Practitioner("810001234567", "21", "A", "DUPONT", "Claire")
BASE_URL = "https://dmp.test/si-dmp-server/v2/services"

Answer = Callable[[bytes], bytes]


class ScriptedTransport:
    """Implements the Transport protocol: each post() is answered by the next script step
    (bytes, a function of the request payload, or an exception to raise)."""

    def __init__(self) -> None:
        self.script: list[bytes | Answer | Exception] = []
        self.requests: list[tuple[str, bytes]] = []

    def post(self, url: str, payload: bytes, timeout: float) -> bytes:
        self.requests.append((url, payload))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step if isinstance(step, bytes) else step(payload)


def answer(body: Callable[[], etree._Element], relate: bool = True) -> Answer:
    """A valid response envelope carrying ``body()``, relating to the request."""

    def respond(request: bytes) -> bytes:
        incoming = parse_envelope(request)
        data, _ = build_envelope(
            incoming.action + "Response",
            "",
            body(),
            relates_to=incoming.message_id if relate else None,
        )
        return data

    return respond


IDENTITY_OK = answer(lambda: m.identity_response(INS, TRAITS))


def status_ok(state: DmpState = DmpState.EXISTS, authorized: bool = False) -> Answer:
    return answer(lambda: m.status_response(DmpStatus(state, authorized)))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signer(pki: PkiPaths) -> VihfSigner:
    return VihfSigner.from_files(pki.sign_key, pki.sign, load_pharmacy(pki.root).structure_id)


@pytest.fixture
def transport() -> ScriptedTransport:
    return ScriptedTransport()


def journey(
    transport: ScriptedTransport, signer: VihfSigner
) -> tuple[DmpSession, CertifiedIdentity]:
    session = DmpClient(transport, BASE_URL, signer, deadline=5.0).session(PHARMACIST)
    transport.script.append(IDENTITY_OK)
    identity = session.certified_identity(TRAITS)
    return session, identity


def test_identity_then_status(
    transport: ScriptedTransport, signer: VihfSigner, pki: PkiPaths
) -> None:
    session, identity = journey(transport, signer)
    assert identity.ins == INS
    assert identity.session_id == session.id
    transport.script.append(status_ok(DmpState.CLOSED, True))
    assert session.status(identity) == DmpStatus(DmpState.CLOSED, True)
    (identity_url, identity_payload), (status_url, status_payload) = transport.requests
    assert identity_url == f"{BASE_URL}/patientCertif"
    assert status_url == f"{BASE_URL}/patients"
    # Each request carries a fresh, valid VIHF; the status one names the patient's INS.
    replay = ReplayCache()
    first = parse_envelope(identity_payload)
    second = parse_envelope(status_payload)
    assert first.action == m.IDENTITY.action
    assert second.action == m.STATUS.action
    claims = []
    for envelope in (first, second):
        assert envelope.security is not None
        claims.append(verify_vihf(envelope.security[0], pki.ca, replay))
    assert [c.ins for c in claims] == [None, INS]
    assert {c.practitioner_id for c in claims} == {PHARMACIST.national_id}


def test_identity_from_another_journey_is_refused(
    transport: ScriptedTransport, signer: VihfSigner
) -> None:
    session, identity = journey(transport, signer)
    other = DmpClient(transport, BASE_URL, signer).session(PHARMACIST)
    with pytest.raises(DmpInputError):
        other.status(identity)
    forged = CertifiedIdentity(INS, "MARTIN", "Jeanne", "19800512", session_id="guess")
    with pytest.raises(DmpInputError):
        session.status(forged)
    assert len(transport.requests) == 1  # nothing sent for the refused calls


def foreign(old: str, new: str) -> Answer:
    return lambda request: status_ok()(request).replace(old.encode(), new.encode())


BAD_ANSWERS: dict[str, bytes | Answer] = {
    "empty": b"",
    "garbage": b"\x00\xffgarbage",
    "html": b"<html><body>Internal Server Error</body></html>",
    "sandbox-malformed": b"<soap:Envelope><broken",
    "truncated": lambda request: status_ok()(request)[:-20],
    "soap-1.1": foreign(
        "http://www.w3.org/2003/05/soap-envelope", "http://schemas.xmlsoap.org/soap/envelope/"
    ),
    "foreign-wsa": foreign("http://www.w3.org/2005/08/addressing", "urn:evil"),
    "foreign-body-ns": foreign(m.NS, "urn:other-dmp"),
    "wrong-body": answer(lambda: m.identity_response(INS, TRAITS)),
    "unknown-status": answer(lambda: m.element("StatusResponse", status=7, authorized=True)),
    "missing-authorized": answer(lambda: m.element("StatusResponse", status=1)),
    "relates-to-another": lambda request: build_envelope(
        m.STATUS.action,
        "",
        m.status_response(DmpStatus(DmpState.EXISTS, True)),
        relates_to="urn:uuid:x",
    )[0],
    "xxe": b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    "utf16-doctype": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r/>'.encode("utf-16"),
    "oversized": b"<r>" + b"a" * 1_000_001 + b"</r>",
}


@pytest.mark.parametrize("name", sorted(BAD_ANSWERS))
def test_unreadable_answers_raise_protocol_error(
    name: str, transport: ScriptedTransport, signer: VihfSigner
) -> None:
    session, identity = journey(transport, signer)
    transport.script.append(BAD_ANSWERS[name])
    with pytest.raises(DmpProtocolError) as caught:
        session.status(identity)
    assert "root:" not in str(caught.value)
    assert len(transport.requests) == 2  # a protocol error is not retried


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (Fault("Sender:VIHF_INVALID", "signature invalid"), "Sender:VIHF_INVALID"),
        (Fault("Receiver", "internal error"), "Receiver"),
        (Fault("Sender:DMP_EXISTS", "exists"), "Sender:DMP_EXISTS"),
    ],
)
def test_faults_raise_rejected(
    fault: Fault, code: str, transport: ScriptedTransport, signer: VihfSigner
) -> None:
    session, identity = journey(transport, signer)
    transport.script.append(build_fault(fault))
    with pytest.raises(DmpRejected) as caught:
        session.status(identity)
    assert (caught.value.code, caught.value.reason) == (code, fault.reason)


def test_fault_on_identity_is_rejected(transport: ScriptedTransport, signer: VihfSigner) -> None:
    session = DmpClient(transport, BASE_URL, signer).session(PHARMACIST)
    transport.script.append(build_fault(Fault("Sender:UNKNOWN_PATIENT", "no such patient")))
    with pytest.raises(DmpRejected):
        session.certified_identity(TRAITS)


def test_status_is_retried_once_create_never(
    transport: ScriptedTransport, signer: VihfSigner
) -> None:
    session, identity = journey(transport, signer)
    transport.script += [DmpUnavailable("reset"), status_ok()]
    assert session.status(identity).state is DmpState.EXISTS
    assert len(transport.requests) == 3
    transport.script.append(DmpTimeout("slow"))
    with pytest.raises(DmpTimeout):
        session.create(identity, Consent(True))
    assert len(transport.requests) == 4


def test_create_or_resolve_after_lost_answer(
    transport: ScriptedTransport, signer: VihfSigner
) -> None:
    session, identity = journey(transport, signer)
    transport.script += [DmpTimeout("lost"), status_ok(DmpState.EXISTS, True)]
    outcome = session.create_or_resolve(identity, Consent(True))
    assert (outcome.created, outcome.resolved_after_error) == (True, True)
    transport.script += [b"garbage", status_ok(DmpState.NOT_FOUND)]
    with pytest.raises(DmpProtocolError):
        session.create_or_resolve(identity, Consent(True))


def test_create_without_consent_sends_nothing(
    transport: ScriptedTransport, signer: VihfSigner
) -> None:
    session, identity = journey(transport, signer)
    with pytest.raises(DmpInputError):
        session.create(identity, Consent(False))
    assert len(transport.requests) == 1


# --- fuzzing: crafted answers to a status call ------------------------------------------


@pytest.fixture(scope="module")
def fuzz_journey(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ScriptedTransport, DmpSession, CertifiedIdentity, bytes]:
    # Module scope: hypothesis reuses one journey (a session is not changed by calls).
    pki = ensure_pki(tmp_path_factory.mktemp("pki-fuzz"))
    signer = VihfSigner.from_files(pki.sign_key, pki.sign, "3750012345")
    transport = ScriptedTransport()
    session, identity = journey(transport, signer)
    template, _ = build_envelope(
        m.STATUS.action + "Response", "", m.status_response(DmpStatus(DmpState.EXISTS, True))
    )
    return transport, session, identity, template


Journey = tuple[ScriptedTransport, DmpSession, CertifiedIdentity, bytes]


def status_or_typed_error(fuzz: Journey, data: bytes) -> None:
    transport, session, identity, _ = fuzz
    transport.script = [data]
    try:
        status = session.status(identity)
    except (DmpProtocolError, DmpRejected):
        return
    assert isinstance(status, DmpStatus)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1500))
def test_fuzz_random_answers(fuzz_journey: Journey, data: bytes) -> None:
    status_or_typed_error(fuzz_journey, data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_answers(fuzz_journey: Journey, data: st.DataObject) -> None:
    template = bytearray(fuzz_journey[3])
    kind = data.draw(st.sampled_from(["truncate", "byte", "namespace", "fault"]))
    if kind == "truncate":
        template = template[: data.draw(st.integers(0, len(template)))]
    elif kind == "byte":
        template[data.draw(st.integers(0, len(template) - 1))] = data.draw(st.integers(0, 255))
    elif kind == "namespace":
        old = data.draw(st.sampled_from([m.NS, "http://www.w3.org/2003/05/soap-envelope"]))
        template = bytearray(bytes(template).replace(old.encode(), b"urn:evil"))
    else:
        code = data.draw(st.text("ABC:_ ", max_size=20))
        template = bytearray(
            build_fault(
                Fault(
                    code,
                    data.draw(st.text(st.characters(codec="ascii", min_codepoint=32), max_size=50)),
                )
            )
        )
    status_or_typed_error(fuzz_journey, bytes(template))
