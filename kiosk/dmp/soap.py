"""SOAP 1.2 envelopes with WS-Addressing and a WS-Security header, and SOAP faults.

Pure: bytes in, elements out. The body element is built by :mod:`kiosk.dmp.transactions`;
the VIHF assertion by :mod:`kiosk.dmp.vihf`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree

from kiosk.dmp.xmlsafe import UnsafeXml, parse_xml

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_WSA = "http://www.w3.org/2005/08/addressing"
NS_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

NSMAP = {"soap": NS_SOAP, "wsa": NS_WSA, "wsse": NS_WSSE}


class EnvelopeError(ValueError):
    """The bytes are not a SOAP 1.2 envelope we can read."""


@dataclass(frozen=True)
class Envelope:
    action: str
    message_id: str
    relates_to: str | None
    security: etree._Element | None  # the wsse:Security header, if any
    body: etree._Element  # the single child of soap:Body


@dataclass(frozen=True)
class Fault:
    code: str  # soap:Sender / soap:Receiver + our subcode, e.g. "Sender:DMP_EXISTS"
    reason: str


def q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def build_envelope(
    action: str,
    to: str,
    body: etree._Element,
    security: list[etree._Element] | None = None,
    relates_to: str | None = None,
) -> tuple[bytes, str]:
    """The serialized envelope and its wsa:MessageID."""
    message_id = f"urn:uuid:{uuid.uuid4()}"
    envelope = etree.Element(q(NS_SOAP, "Envelope"), nsmap=NSMAP)
    header = etree.SubElement(envelope, q(NS_SOAP, "Header"))
    etree.SubElement(header, q(NS_WSA, "Action")).text = action
    etree.SubElement(header, q(NS_WSA, "MessageID")).text = message_id
    etree.SubElement(header, q(NS_WSA, "To")).text = to
    if relates_to:
        etree.SubElement(header, q(NS_WSA, "RelatesTo")).text = relates_to
    if security is not None:
        wsse = etree.SubElement(header, q(NS_WSSE, "Security"))
        wsse.extend(security)
    etree.SubElement(envelope, q(NS_SOAP, "Body")).append(body)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"), message_id


def build_fault(fault: Fault, relates_to: str | None = None) -> bytes:
    side, _, subcode = fault.code.partition(":")
    body = etree.Element(q(NS_SOAP, "Fault"), nsmap={"soap": NS_SOAP})
    code = etree.SubElement(body, q(NS_SOAP, "Code"))
    etree.SubElement(code, q(NS_SOAP, "Value")).text = f"soap:{side or 'Receiver'}"
    if subcode:
        sub = etree.SubElement(code, q(NS_SOAP, "Subcode"))
        etree.SubElement(sub, q(NS_SOAP, "Value")).text = subcode
    reason = etree.SubElement(body, q(NS_SOAP, "Reason"))
    text = etree.SubElement(reason, q(NS_SOAP, "Text"))
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = fault.reason
    data, _ = build_envelope(
        "http://www.w3.org/2005/08/addressing/soap/fault", "", body, relates_to=relates_to
    )
    return data


def _text(parent: etree._Element, path: str) -> str | None:
    found = parent.find(path, NSMAP)
    return None if found is None or found.text is None else found.text.strip()


def parse_envelope(data: bytes) -> Envelope:
    try:
        root = parse_xml(data)
    except UnsafeXml as exc:
        raise EnvelopeError(str(exc)) from None
    if root.tag != q(NS_SOAP, "Envelope"):
        raise EnvelopeError(f"root element is {root.tag!r}, not a SOAP 1.2 Envelope")
    header = root.find("soap:Header", NSMAP)
    body = root.find("soap:Body", NSMAP)
    if body is None or len(body) != 1:
        raise EnvelopeError("the SOAP Body must hold exactly one element")
    action = _text(header, "wsa:Action") if header is not None else None
    message_id = _text(header, "wsa:MessageID") if header is not None else None
    if not action or not message_id:
        raise EnvelopeError("missing WS-Addressing Action or MessageID")
    return Envelope(
        action=action,
        message_id=message_id,
        relates_to=_text(header, "wsa:RelatesTo") if header is not None else None,
        security=header.find("wsse:Security", NSMAP) if header is not None else None,
        body=body[0],
    )


def fault_of(envelope: Envelope) -> Fault | None:
    """The fault carried by ``envelope``, or None when it is a normal answer."""
    if envelope.body.tag != q(NS_SOAP, "Fault"):
        return None
    side = (_text(envelope.body, "soap:Code/soap:Value") or "soap:Receiver").split(":")[-1]
    sub = _text(envelope.body, "soap:Code/soap:Subcode/soap:Value")
    reason = _text(envelope.body, "soap:Reason/soap:Text") or "no reason given"
    return Fault(f"{side}:{sub}" if sub else side, reason)
