"""Body messages: every builder/reader pair round-trips over the wire, and the client-side
response readers turn any malformed body into MessageError, never anything else."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from kiosk.dmp import transactions as m
from kiosk.dmp.models import (
    CertifiedIdentity,
    Consent,
    Contact,
    Created,
    DmpState,
    DmpStatus,
    Guardian,
    PatientTraits,
    WebAccess,
)
from kiosk.dmp.soap import build_envelope, parse_envelope
from kiosk.dmp.xmlsafe import parse_xml

INS = "180057512345627"
TRAITS = PatientTraits(
    holder_nir="180057512345627",
    beneficiary_nir="180057512345627",
    last_name="MARTIN",
    first_name="Jeanne",
    birth_date="19800512",
    birth_rank=1,
    quality="0",
)
CHILD = PatientTraits("180057512345627", None, "MARTIN", "Léo", "20150300", 2, "6")
IDENTITY = CertifiedIdentity(INS, "MARTIN", "Jeanne", "19800512", session_id="s1")


def wire(body: etree._Element, action: str = m.STATUS.action) -> etree._Element:
    """Through a real envelope: serialized, parsed back with the hardened parser."""
    data, _ = build_envelope(action, "https://dmp.test/x", body)
    return parse_envelope(data).body


# --- transactions --------------------------------------------------------------------


def test_transactions_table() -> None:
    assert m.OPERATIONS == ("identity", "status", "create", "reactivate", "web_access")
    assert {t.code for t in m.TRANSACTIONS.values()} == {
        "TD0.0",
        "TD0.2",
        "TD1.1",
        "TD1.2",
        "TD1.5a",
    }
    assert all(m.TRANSACTIONS[t.action] is t for t in m.TRANSACTIONS.values())
    assert [t.operation for t in m.TRANSACTIONS.values() if t.safe_to_retry] == [
        "identity",
        "status",
    ]
    assert m.IDENTITY.service == m.SERVICE_CERTIF == "patientCertif"
    assert {m.STATUS.service, m.CREATE.service, m.WEB_ACCESS.service} == {"patients"}


# --- round trips: request builder -> server reader -------------------------------------


@pytest.mark.parametrize("traits", [TRAITS, CHILD], ids=["holder", "child-lunar-date"])
def test_identity_request_round_trip(traits: PatientTraits) -> None:
    assert m.read_identity_request(wire(m.identity_request(traits))) == traits


def test_status_request_round_trip() -> None:
    assert m.read_ins_request(wire(m.status_request(INS)), m.STATUS.request) == INS


@pytest.mark.parametrize(
    "guardian",
    [None, Guardian("MARTIN", "Jeanne", "mere", "19800512"), Guardian("DURAND", "Éric", "tuteur")],
)
@pytest.mark.parametrize(
    "consent", [Consent(True), Consent(True, False, False), Consent(True, True, False)]
)
def test_create_request_round_trip(consent: Consent, guardian: Guardian | None) -> None:
    call = m.read_create_request(wire(m.create_request(IDENTITY, consent, guardian)))
    birth_date = IDENTITY.birth_date  # the service checks a minor has an adult representative
    assert call == m.CreateCall(ins=INS, consent=consent, guardian=guardian, birth_date=birth_date)


@pytest.mark.parametrize("guardian", [None, Guardian("MARTIN", "Jeanne", "mere")])
@pytest.mark.parametrize(
    "consent",
    [Consent(True), Consent(False), Consent(True, False, True), Consent(True, True, False)],
)
def test_reactivate_request_round_trip(consent: Consent, guardian: Guardian | None) -> None:
    """TD1.2 carries the choices and the representative, as TD1.1 does."""
    body = wire(m.reactivate_request(IDENTITY, consent, guardian))
    assert m.read_reactivate_request(body) == m.ReactivateCall(INS, consent, guardian)


@pytest.mark.parametrize(
    "contact",
    [
        Contact(mobile="0612345678"),
        Contact(email="jeanne.martin@example.fr"),
        Contact(mobile="0712345678", email="a@b.fr"),
    ],
)
def test_web_access_request_round_trip(contact: Contact) -> None:
    assert m.read_web_access_request(wire(m.web_access_request(IDENTITY, contact))) == (
        INS,
        contact,
    )


# --- round trips: response builder -> client reader ------------------------------------


@pytest.mark.parametrize("traits", [TRAITS, CHILD])
def test_identity_response_round_trip(traits: PatientTraits) -> None:
    identity = m.read_identity_response(wire(m.identity_response(INS, traits)), "journey-7")
    assert identity == CertifiedIdentity(
        INS, traits.last_name, traits.first_name, traits.birth_date, session_id="x"
    )
    assert identity.session_id == "journey-7"
    assert "journey-7" not in repr(identity)


@pytest.mark.parametrize("authorized", [True, False])
@pytest.mark.parametrize("state", list(DmpState))
def test_status_response_round_trip(state: DmpState, authorized: bool) -> None:
    status = DmpStatus(state, authorized)
    assert m.read_status_response(wire(m.status_response(status))) == status


@pytest.mark.parametrize("transaction", [m.CREATE, m.REACTIVATE])
def test_created_response_round_trip(transaction: m.Transaction) -> None:
    body = wire(m.created_response(transaction, "2026-11-23T14:00:00Z"))
    assert m.read_created_response(body, transaction) == Created("2026-11-23T14:00:00Z")
    other = m.REACTIVATE if transaction is m.CREATE else m.CREATE
    with pytest.raises(m.MessageError):
        m.read_created_response(body, other)


def test_web_access_response_round_trip() -> None:
    access = WebAccess("JMARTIN42", "s3cr3t-P@ss")
    assert m.read_web_access_response(wire(m.web_access_response(access))) == access


# --- models: the web access password never shows ----------------------------------------


def test_web_access_password_is_never_shown() -> None:
    access = WebAccess("JMARTIN42", "s3cr3t-P@ss")
    for shown in (str(access), repr(access), f"{access}", f"{access!r}", str([access])):
        assert "s3cr3t" not in shown
    assert "JMARTIN42" in str(access)
    assert "JMARTIN42" in repr(access)


# --- client-side readers refuse malformed bodies with MessageError only ----------------

Reader = Callable[[etree._Element], Any]
READERS: dict[str, Reader] = {
    "identity": lambda body: m.read_identity_response(body, "s"),
    "status": m.read_status_response,
    "create": lambda body: m.read_created_response(body, m.CREATE),
    "reactivate": lambda body: m.read_created_response(body, m.REACTIVATE),
    "web_access": m.read_web_access_response,
}
ROOTS = {
    "identity": "IdentityResponse",
    "status": "StatusResponse",
    "create": "CreateResponse",
    "reactivate": "ReactivateResponse",
    "web_access": "WebAccessResponse",
}
GOOD_FIELDS = {
    "identity": {"ins": INS, "lastName": "MARTIN", "firstName": "Jeanne", "birthDate": "19800512"},
    "status": {"status": "1", "authorized": "true"},
    "create": {"createdAt": "2026-11-23T14:00:00Z"},
    "reactivate": {"createdAt": "2026-11-23T14:00:00Z"},
    "web_access": {"identifier": "JMARTIN42", "password": "pw"},
}


def xml(
    root: str, fields: dict[str, str], ns: str = m.NS, field_ns: str | None = None
) -> etree._Element:
    inner = "".join(
        f"<f:{k}>{v}</f:{k}>" if field_ns is not None else f"<d:{k}>{v}</d:{k}>"
        for k, v in fields.items()
    )
    declared = f' xmlns:f="{field_ns}"' if field_ns is not None else ""
    return parse_xml(f'<d:{root} xmlns:d="{ns}"{declared}>{inner}</d:{root}>'.encode())


@pytest.mark.parametrize("name", sorted(READERS))
def test_well_formed_bodies_are_read(name: str) -> None:
    READERS[name](xml(ROOTS[name], GOOD_FIELDS[name]))


def bad_bodies() -> list[Any]:
    cases: list[Any] = []
    for name, good in GOOD_FIELDS.items():
        root = ROOTS[name]
        cases.append(pytest.param(name, xml("Other", good), id=f"{name}-wrong-tag"))
        cases.append(pytest.param(name, xml(root, good, ns="urn:evil"), id=f"{name}-wrong-ns"))
        cases.append(
            pytest.param(name, xml(root, good, field_ns="urn:evil"), id=f"{name}-fields-wrong-ns")
        )
        cases.append(pytest.param(name, xml(root, {}), id=f"{name}-empty"))
        for field in good:
            missing = {k: v for k, v in good.items() if k != field}
            blank = {**good, field: "  "}
            long = {**good, field: "9" * 300}
            cases.append(pytest.param(name, xml(root, missing), id=f"{name}-no-{field}"))
            cases.append(pytest.param(name, xml(root, blank), id=f"{name}-blank-{field}"))
            cases.append(pytest.param(name, xml(root, long), id=f"{name}-long-{field}"))
    status, ident = GOOD_FIELDS["status"], GOOD_FIELDS["identity"]
    for value in ("abc", "7", "0", "-1", "+1", "1.0", "1e0", "٣", "²", "9999999999", "0x1"):
        cases.append(
            pytest.param(
                "status", xml("StatusResponse", {**status, "status": value}), id=f"status={value}"
            )
        )
    for value in ("yes", "TRUE", "1", "falsex"):
        cases.append(
            pytest.param(
                "status",
                xml("StatusResponse", {**status, "authorized": value}),
                id=f"authorized={value}",
            )
        )
    for value in ("18005751234562", "1800575123456270", "18005751234562é", "180057512 45627"):
        cases.append(
            pytest.param(
                "identity", xml("IdentityResponse", {**ident, "ins": value}), id=f"ins={value}"
            )
        )
    return cases


@pytest.mark.parametrize(("name", "body"), bad_bodies())
def test_bad_bodies_raise_message_error(name: str, body: etree._Element) -> None:
    with pytest.raises(m.MessageError):
        READERS[name](body)


# Random element trees: roots and fields mostly from the real vocabulary, so the readers
# get past the tag check and meet odd values, nesting and namespaces.
NAMES = sorted(set(ROOTS.values()) | {k for f in GOOD_FIELDS.values() for k in f} | {"x"})
NAMESPACES = [m.NS, m.NS, m.NS, "urn:evil", ""]
XML_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co"))
    | st.sampled_from("\t\n "),
    max_size=300,
)
VALUES = (
    st.sampled_from(["1", "2", "3", "4", "7", "true", "false", INS, "", " ", "9" * 257]) | XML_TEXT
)

Spec = tuple[str, str, str | None, list[Any]]


def tree_specs() -> st.SearchStrategy[Spec]:
    leaf: st.SearchStrategy[Spec] = st.tuples(
        st.sampled_from(NAMESPACES), st.sampled_from(NAMES), st.none() | VALUES, st.just([])
    )
    return st.recursive(
        leaf,
        lambda children: st.tuples(
            st.sampled_from(NAMESPACES),
            st.sampled_from(NAMES),
            st.none() | VALUES,
            st.lists(children, max_size=6),
        ),
        max_leaves=20,
    )


def build(spec: Spec) -> etree._Element:
    ns, name, text, children = spec
    node = etree.Element(f"{{{ns}}}{name}" if ns else name)
    node.text = text
    node.extend(build(child) for child in children)
    return node


@settings(max_examples=200, deadline=None)
@given(tree_specs(), st.sampled_from(sorted(READERS)))
def test_fuzz_readers_raise_only_message_error(spec: Spec, name: str) -> None:
    body = build(spec)
    try:
        value = READERS[name](body)
    except m.MessageError:
        return
    # Accepted: it must then be a well-formed value of the right type.
    if isinstance(value, CertifiedIdentity):
        assert len(value.ins) == 15
        assert value.ins.isascii()
        assert value.ins.isalnum()
    elif isinstance(value, DmpStatus):
        assert value.state in DmpState
        assert isinstance(value.authorized, bool)
    else:
        assert isinstance(value, Created | WebAccess)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(READERS)), st.data())
def test_fuzz_good_bodies_with_one_bad_value(name: str, data: st.DataObject) -> None:
    fields = dict(GOOD_FIELDS[name])
    field = data.draw(st.sampled_from(sorted(fields)))
    fields[field] = data.draw(VALUES)
    root = etree.Element(f"{{{m.NS}}}{ROOTS[name]}")
    for key, value in fields.items():
        etree.SubElement(root, f"{{{m.NS}}}{key}").text = value
    with contextlib.suppress(m.MessageError):
        READERS[name](root)


@pytest.mark.parametrize("name", ["JE\x01AN", "A\x00B", "\x1fX", "X\ufffe"])
def test_names_xml_cannot_carry_are_an_input_error_not_a_crash(name: str) -> None:
    from kiosk.dmp.models import PatientTraits
    from kiosk.dmp.service_errors import DmpInputError
    from kiosk.dmp.transactions import identity_request

    traits = PatientTraits("180057512345627", None, name, "Léo", "20150301", 1, "6")
    with pytest.raises(DmpInputError, match="cannot be sent") as caught:
        identity_request(traits)
    assert name not in str(caught.value)
