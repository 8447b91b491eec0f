"""SOAP 1.2 envelopes and faults: round trips, refusals, and fuzzing of parse_envelope."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from kiosk.dmp.soap import (
    NS_SOAP,
    NS_WSA,
    NS_WSSE,
    Envelope,
    EnvelopeError,
    Fault,
    build_envelope,
    build_fault,
    fault_of,
    parse_envelope,
)

ACTION = "urn:borne-dmp:dmp:v1:TD0.2"
TO = "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services/patients"


def body(text: str = "42") -> etree._Element:
    node = etree.Element("{urn:test}Ping", nsmap={"t": "urn:test"})
    etree.SubElement(node, "{urn:test}value").text = text
    return node


def token() -> etree._Element:
    node = etree.Element("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion", ID="_a1")
    etree.SubElement(node, "{urn:oasis:names:tc:SAML:2.0:assertion}Issuer").text = "3750012345"
    return node


VALID, VALID_ID = build_envelope(ACTION, TO, body(), security=[token()], relates_to="urn:uuid:r")


def test_round_trip_keeps_every_part() -> None:
    data, message_id = build_envelope(ACTION, TO, body("é"), [token()], relates_to="urn:uuid:1")
    envelope = parse_envelope(data)
    assert envelope.action == ACTION
    assert envelope.message_id == message_id
    assert message_id.startswith("urn:uuid:")
    assert envelope.relates_to == "urn:uuid:1"
    assert envelope.security is not None
    assert envelope.security.tag == f"{{{NS_WSSE}}}Security"
    [assertion] = list(envelope.security)
    assert assertion.get("ID") == "_a1"
    assert assertion.findtext("{*}Issuer") == "3750012345"
    assert envelope.body.tag == "{urn:test}Ping"
    assert envelope.body.findtext("{urn:test}value") == "é"
    assert fault_of(envelope) is None


def test_round_trip_without_optional_headers() -> None:
    data, message_id = build_envelope(ACTION, TO, body())
    envelope = parse_envelope(data)
    assert (envelope.relates_to, envelope.security, envelope.message_id) == (
        None,
        None,
        message_id,
    )


def test_message_ids_are_unique() -> None:
    ids = {build_envelope(ACTION, TO, body())[1] for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault("Sender:DMP_EXISTS", "a DMP already exists"), "Sender:DMP_EXISTS"),
        (Fault("Receiver", "internal error"), "Receiver"),
        (Fault("Sender", "bad request"), "Sender"),
        (Fault("Sender:VIHF_INVALID", "signature"), "Sender:VIHF_INVALID"),
        (Fault(":ODD", "no side"), "Receiver:ODD"),  # a missing side defaults to Receiver
    ],
)
def test_fault_round_trip(fault: Fault, expected: str) -> None:
    envelope = parse_envelope(build_fault(fault, relates_to="urn:uuid:req"))
    assert envelope.relates_to == "urn:uuid:req"
    assert fault_of(envelope) == Fault(expected, fault.reason)


def test_fault_without_reason_or_code() -> None:
    assert fault_of(parse_envelope(build_fault(Fault("Sender:X", "")))) == Fault(
        "Sender:X", "no reason given"
    )
    bare = etree.Element(f"{{{NS_SOAP}}}Fault")
    data, _ = build_envelope(ACTION, TO, bare)
    assert fault_of(parse_envelope(data)) == Fault("Receiver", "no reason given")


def envelope_text(
    header: str = f"<wsa:Action>{ACTION}</wsa:Action><wsa:MessageID>urn:uuid:m</wsa:MessageID>",
    body_xml: str = "<t:Ping/>",
    soap_ns: str = NS_SOAP,
    wsa_ns: str = NS_WSA,
    root: str = "soap:Envelope",
) -> bytes:
    return (
        f'<{root} xmlns:soap="{soap_ns}" xmlns:wsa="{wsa_ns}" xmlns:t="urn:test">'
        f"<soap:Header>{header}</soap:Header><soap:Body>{body_xml}</soap:Body></{root}>"
    ).encode()


def test_hand_written_envelope_is_read() -> None:
    envelope = parse_envelope(envelope_text())
    assert (envelope.action, envelope.message_id, envelope.body.tag) == (
        ACTION,
        "urn:uuid:m",
        "{urn:test}Ping",
    )


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(envelope_text(root="t:Envelope"), id="wrong-root"),
        pytest.param(envelope_text(root="soap:Body"), id="body-as-root"),
        pytest.param(
            envelope_text(soap_ns="http://schemas.xmlsoap.org/soap/envelope/"), id="soap-1.1"
        ),
        pytest.param(envelope_text(body_xml="<t:A/><t:B/>"), id="two-body-children"),
        pytest.param(envelope_text(body_xml=""), id="empty-body"),
        pytest.param(envelope_text(body_xml="just text"), id="text-body"),
        pytest.param(
            envelope_text(header="<wsa:MessageID>urn:uuid:m</wsa:MessageID>"), id="no-action"
        ),
        pytest.param(envelope_text(header=f"<wsa:Action>{ACTION}</wsa:Action>"), id="no-msgid"),
        pytest.param(
            envelope_text(header="<wsa:Action> </wsa:Action><wsa:MessageID>m</wsa:MessageID>"),
            id="blank-action",
        ),
        pytest.param(envelope_text(header=""), id="empty-header"),
        pytest.param(
            envelope_text(wsa_ns="http://schemas.xmlsoap.org/ws/2004/08/addressing"),
            id="old-wsa-namespace",
        ),
        pytest.param(
            f'<soap:Envelope xmlns:soap="{NS_SOAP}"><soap:Body><a/></soap:Body>'
            "</soap:Envelope>".encode(),
            id="no-header",
        ),
        pytest.param(b"<!DOCTYPE r []>" + VALID.split(b"?>", 1)[1], id="doctype"),
        pytest.param(VALID[:-1], id="truncated"),
        pytest.param(b"", id="empty"),
    ],
)
def test_bad_envelopes_raise_envelope_error(data: bytes) -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(data)


# --- fuzzing ---------------------------------------------------------------------------


def parse_or_refuse(data: bytes) -> None:
    """The only outcomes allowed: an Envelope (whose fault_of works) or EnvelopeError."""
    try:
        envelope = parse_envelope(data)
    except EnvelopeError:
        return
    assert isinstance(envelope, Envelope)
    assert envelope.action
    assert envelope.message_id
    fault = fault_of(envelope)
    assert fault is None or isinstance(fault, Fault)


FUZZ = settings(max_examples=200, deadline=None)
FOREIGN = [
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "urn:evil",
    "",
    NS_WSSE,
    NS_SOAP,
    NS_WSA,
]


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(data: bytes) -> None:
    parse_or_refuse(data)


@FUZZ
@given(st.text(max_size=1000))
def test_fuzz_random_text(text: str) -> None:
    parse_or_refuse(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.integers(0, len(VALID)))
def test_fuzz_truncations(cut: int) -> None:
    parse_or_refuse(VALID[:cut])


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.integers(0, 255))
def test_fuzz_single_byte_mutations(index: int, value: int) -> None:
    data = bytearray(VALID)
    data[index] = value
    parse_or_refuse(bytes(data))


@FUZZ
@given(st.integers(0, len(VALID)), st.binary(min_size=1, max_size=8))
def test_fuzz_insertions(index: int, insert: bytes) -> None:
    parse_or_refuse(VALID[:index] + insert + VALID[index:])


@FUZZ
@given(
    st.sampled_from([NS_SOAP, NS_WSA, NS_WSSE]),
    st.sampled_from(FOREIGN) | st.text("abcxyz:/.", max_size=30),
)
def test_fuzz_wrong_namespaces(original: str, replacement: str) -> None:
    parse_or_refuse(VALID.replace(original.encode(), replacement.encode()))


def test_wrong_soap_namespace_is_refused() -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(VALID.replace(NS_SOAP.encode(), b"urn:evil"))
    with pytest.raises(EnvelopeError):  # the Action is no longer a WS-Addressing one
        parse_envelope(VALID.replace(NS_WSA.encode(), b"urn:evil"))
    assert parse_envelope(VALID.replace(NS_WSSE.encode(), b"urn:evil")).security is None
