"""Hypothesis strategies for valid card profiles: any Unicode names, lunar dates, Corsica."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st
from lxml import etree

from kiosk.dmp import transactions as m
from kiosk.dmp.models import DmpState, DmpStatus, WebAccess
from kiosk.dmp.service_errors import ServiceCode
from kiosk.dmp.soap import NS_SOAP, NS_WSA, Fault, build_envelope, build_fault
from kiosk.hardware.apdu import encode_tlv
from kiosk.hardware.nir import with_key
from kiosk.sim.emulators.emulated_card import EmulatedCard
from kiosk.sim.emulators.hostile_card import HONEST, Answer, HostileCard, Move
from tests.integration.hostile_server import MID, Framing, Pace, Peer, Reply, Tls

# Any character but unpaired surrogates (not encodable, not valid JSON text).
names = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=64)
# Raw card dates: real ones, "lunar" ones (00 day or month), impossible ones (31 Feb).
birth_dates = st.builds(
    lambda y, m, d: f"{y:04d}{m:02d}{d:02d}",
    st.integers(1900, 2026),
    st.integers(0, 12),
    st.integers(0, 31),
)


@st.composite
def nirs(draw: st.DrawFn) -> str:
    department = draw(st.sampled_from(["75", "13", "2A", "2B", "99", "97"]))
    body = (
        draw(st.sampled_from("12"))
        + f"{draw(st.integers(0, 99)):02d}{draw(st.integers(1, 12)):02d}"
        + department
        + f"{draw(st.integers(1, 999)):03d}{draw(st.integers(1, 999)):03d}"
    )
    return with_key(body)


@st.composite
def beneficiaries(draw: st.DrawFn, holder_nir: str | None = None) -> dict[str, Any]:
    last = draw(names)
    return {
        "quality": "0" if holder_nir else draw(st.sampled_from("2695")),
        "nir": holder_nir or draw(st.none() | nirs()),
        "last_name": last,
        "birth_name": draw(st.just(last) | names),
        "first_name": draw(names),
        "birth_date": draw(birth_dates),
        "birth_rank": draw(st.integers(1, 9)),
    }


@st.composite
def vitale_profiles(draw: st.DrawFn) -> dict[str, Any]:
    holder = draw(nirs())
    count = draw(st.integers(0, 8))
    people = [draw(beneficiaries(holder))] if count else []
    people += [draw(beneficiaries()) for _ in range(max(0, count - 1))]
    return {
        "card": "vitale",
        "serial": f"{draw(st.integers(0, 10**10 - 1)):010d}",
        "valid_from": draw(birth_dates),
        "holder_nir": holder,
        "regime": f"{draw(st.integers(0, 99)):02d}",
        "caisse": f"{draw(st.integers(0, 999)):03d}",
        "centre": f"{draw(st.integers(0, 9999)):04d}",
        "beneficiaries": people,
    }


# --- hostile cards: answers drawn against the kiosk's APDUs ---------------------------

# Status words a reader must survive: the ones it knows, chaining, PIN counters, any other.
status_words = st.sampled_from(
    [0x9000, 0x6982, 0x6983, 0x6A82, 0x6B00, 0x6700, 0x6D00, 0x63C0, 0x63C1, 0x63CF, 0x6100,
     0x6C00, 0x6C10, 0x6F00, 0x0000, 0xFFFF]
) | st.integers(0, 0xFFFF)  # fmt: skip
_tags = st.sampled_from(
    [0x00, 0xFF, 0x1F, 0x5F20, 0x1F8181, 0x61, 0x65, 0x66, 0x67, 0x6F, 0x70, 0x71, 0x80, 0x81,
     0x82, 0x83, 0x84, 0x85, 0x86, 0x90, 0x93, 0xA0, 0xE0]
) | st.integers(0, 0xFFFF)  # fmt: skip
_constructed = st.sampled_from([0x65, 0x66, 0x67, 0x70, 0x71, 0xA0, 0xE0, 0x61, 0x6F])


# BER-TLV trees of the cards' tags (and others) holding random values: wrong records.
tlv_trees = st.recursive(
    st.builds(encode_tlv, _tags, st.binary(max_size=24)),
    lambda kids: st.builds(
        lambda t, ks: encode_tlv(t, b"".join(ks)), _constructed, st.lists(kids, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def corrupted(draw: st.DrawFn, honest: bytes) -> bytes:
    """``honest`` (a file of the card) mangled: cut, flipped, padded, lengths that lie,
    records of the wrong shape, or any bytes."""
    how = draw(st.sampled_from(
        ["cut", "flip", "insert", "lie", "tree", "bytes", "pad256", "oversized", "spliced"]
    ))  # fmt: skip
    if how == "cut":
        return honest[: draw(st.integers(0, max(0, len(honest) - 1)))]
    if how == "flip" and honest:
        at = draw(st.integers(0, len(honest) - 1))
        return honest[:at] + bytes([draw(st.integers(0, 255))]) + honest[at + 1 :]
    if how == "insert":
        at = draw(st.integers(0, len(honest)))
        return honest[:at] + draw(st.binary(min_size=1, max_size=8)) + honest[at:]
    if how == "lie" and len(honest) > 2:  # the outer length announces more, or less
        return honest[:1] + draw(st.sampled_from([b"\x83\xff\xff\xff", b"\x81\x00", b"\x84"]))
    if how == "tree":
        return b"".join(draw(st.lists(tlv_trees, max_size=4)))
    if how == "pad256":  # exactly one READ BINARY chunk: the next read is past the end
        return (honest + b"\x00" * 256)[:256]
    if how == "oversized":  # longer than READ BINARY's 15-bit offsets reach
        return b"\x00" * 0x8000 + honest
    if how == "spliced":  # a valid record with a valid record of another file inside
        return encode_tlv(draw(_constructed), honest + draw(tlv_trees))
    return draw(st.binary(max_size=600))


@st.composite
def hostile_answers(draw: st.DrawFn, real_time: bool) -> Answer:
    move = draw(st.sampled_from(list(Move)))
    if move in (Move.SLOW, Move.SILENT) and not real_time:
        return Answer(move)
    return Answer(
        move,
        sw=draw(status_words),
        data=draw(st.binary(max_size=300) | tlv_trees),
        size=draw(st.integers(0, 3) | st.integers(0, 300) | st.just(65_000)),
        delay=draw(st.floats(0.0, 0.25)) if move is Move.SLOW else 30.0,
    )


@st.composite
def hostile_cards(
    draw: st.DrawFn, make_honest: Callable[[], EmulatedCard], real_time: bool = True
) -> HostileCard:
    """A fresh honest card behind a drawn script: some files rewritten, the first APDUs
    answered by the script (mostly honestly), every later one by ``then`` (honest, or a
    loop such as endless chaining). SLOW and SILENT wait only when ``real_time``."""
    honest = make_honest()
    answer = hostile_answers(real_time)
    card = HostileCard(
        honest,
        draw(st.lists(st.just(HONEST) | st.just(HONEST) | answer, max_size=12)),
        draw(st.just(HONEST) | answer),
        real_time=real_time,
    )
    files = {ef: f.data for app in honest.applications.values() for ef, f in app.files.items()}
    for ef in draw(st.lists(st.sampled_from(sorted(files)), max_size=2, unique=True)):
        card.rewrite(ef, draw(corrupted(files[ef])))
    return card


# --- hostile DMP service: SOAP, HTTP and TLS behaviour drawn against the client -------

INS = "280057512345678"  # the INS the hostile answers certify
_FIELDS = ["ins", "lastName", "firstName", "birthDate", "status", "authorized", "createdAt",
           "identifier", "password", "guardian", "consent"]  # fmt: skip
_xml_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff"),
    max_size=40,
)
_BOMBS = [
    b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;'
    b'&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><s>&c;&c;&c;&c;</s>',
    b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><s>&x;</s>',
    b'<?xml version="1.0"?><!DOCTYPE s SYSTEM "http://127.0.0.1:9/dtd"><s/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE s [<!ENTITY a "b">]><s>&a;</s>'.encode(
        "utf-16"
    ),
    b'<?xml version="1.0" encoding="x-unknown"?><s/>',
    b"<s>&undefined;</s>",
]


def valid_body(operation: str) -> etree._Element:
    """What the service answers to ``operation`` when all is well."""
    if operation == "identity":
        return m.element(
            "IdentityResponse", ins=INS, lastName="MARTIN", firstName="Jeanne", birthDate="19800512"
        )
    if operation == "status":
        return m.status_response(DmpStatus(DmpState.EXISTS, True))
    if operation == "web_access":
        return m.web_access_response(WebAccess("patient-id", "s3cret-pass"))
    return m.created_response(m.CREATE if operation == "create" else m.REACTIVATE, "20261202")


def envelope(body: etree._Element, relates_to: str = MID.decode()) -> bytes:
    return build_envelope("urn:borne-dmp:dmp:v1:answer", "", body, relates_to=relates_to)[0]


@st.composite
def _odd_body(draw: st.DrawFn, operation: str) -> etree._Element:
    """The right element (or another transaction's) holding fields of any shape."""
    names = [t.response for t in m.TRANSACTIONS.values()]
    right = next(t.response for t in m.TRANSACTIONS.values() if t.operation == operation)
    body = etree.Element(f"{{{m.NS}}}{draw(st.sampled_from([right, right, *names]))}")
    for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=6)):
        etree.SubElement(
            body, f"{{{draw(st.sampled_from([m.NS, m.NS, 'urn:x']))}}}{name}"
        ).text = draw(_xml_text | st.sampled_from(["1", "2", "9", "true", "false", INS, " "]))
    return body


@st.composite
def soap_answers(draw: st.DrawFn, operation: str) -> bytes:
    """An answer body for ``operation``: valid, a fault of any code, an envelope missing
    parts or in the wrong namespace, fields of any shape, huge or deep XML, entity bombs
    and external entities, or any bytes. ``@MID@`` stands for the request's MessageID."""
    kind = draw(st.sampled_from(
        ["valid", "fault", "odd", "namespace", "missing", "relates", "bodies", "huge", "deep",
         "bomb", "bytes", "text", "empty"]
    ))  # fmt: skip
    valid = envelope(valid_body(operation))
    if kind == "valid":
        return valid
    if kind == "fault":
        side = draw(st.sampled_from(["Sender", "Receiver", "", "Nope"]))
        sub = draw(st.sampled_from([c.value for c in ServiceCode]) | _xml_text)
        return build_fault(Fault(f"{side}:{sub}" if sub else side, draw(_xml_text)), MID.decode())
    if kind == "odd":
        return envelope(draw(_odd_body(operation)))
    if kind == "namespace":
        wrong = draw(st.sampled_from(["http://schemas.xmlsoap.org/soap/envelope/", "urn:x", ""]))
        target = draw(st.sampled_from([NS_SOAP, NS_WSA, m.NS]))
        return valid.replace(target.encode(), wrong.encode())
    if kind == "missing":
        part = draw(st.sampled_from(["wsa:MessageID", "wsa:Action", "soap:Header", "soap:Body"]))
        return re.sub(rf"<{part}[ >].*?</{part}>".encode(), b"", valid, flags=re.S)
    if kind == "relates":
        return valid.replace(MID, b"urn:uuid:" + draw(st.uuids()).hex.encode())
    if kind == "bodies":  # an empty Body, or two elements in it
        if draw(st.booleans()):
            return re.sub(rb"<soap:Body>.*</soap:Body>", b"<soap:Body/>", valid, flags=re.S)
        return valid.replace(b"</soap:Body>", b"<x/></soap:Body>")
    if kind == "huge":
        size = draw(st.sampled_from([200_000, 999_000, 1_100_000]))
        return valid.replace(b"</soap:Header>", b"<pad>" + b"x" * size + b"</pad></soap:Header>")
    if kind == "deep":
        depth = draw(st.sampled_from([100, 300, 10_000]))
        return valid.replace(
            b"</soap:Header>", b"<d>" * depth + b"</d>" * depth + b"</soap:Header>"
        )
    if kind == "bomb":
        return draw(st.sampled_from(_BOMBS))
    if kind == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    if kind == "empty":
        return b""
    return draw(st.binary(max_size=400))


_status_lines = st.sampled_from(
    [b"HTTP/1.1 200 OK", b"HTTP/1.1 500 Internal Server Error", b"HTTP/1.1 400 Bad Request",
     b"HTTP/1.1 503 Busy", b"HTTP/1.1 404 Not Found", b"HTTP/1.1 302 Found",
     b"HTTP/1.1 101 Switching", b"HTTP/1.1 204 No Content", b"HTTP/1.0 200 OK",
     b"HTTP/1.1 999 What", b"HTTP/1.1 abc certificate alert ssl", b"HTTP/2 200",
     b"ICY 200 OK", b"", b"HTTP/1.1 200 " + b"x" * 70_000]
) | st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))  # fmt: skip
_content_types = st.sampled_from(
    [b"Content-Type: application/soap+xml; charset=utf-8", b"Content-Type: application/soap+xml",
     b"Content-Type: APPLICATION/SOAP+XML", b"Content-Type: text/html", b"Content-type: text/xml",
     b"Content-Type: application/soap+xml; charset=iso-8859-1"]
)  # fmt: skip
_extra_headers = st.lists(
    st.sampled_from([b"Connection: close", b"Connection: keep-alive", b"X-Odd: \xff\xfe",
                     b"no colon here", b" folded: continuation", b"X-Long: " + b"y" * 70_000])
    | st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    max_size=3,
) | st.just([b"X-Many: header"] * 120)  # fmt: skip


@st.composite
def replies(draw: st.DrawFn, operation: str) -> Reply:
    """One HTTP answer: mostly a SOAP status line and content type (so the SOAP is read),
    any framing, at once or trickled, cut or left hanging."""
    status = draw(st.just(b"HTTP/1.1 200 OK") | st.just(b"HTTP/1.1 500 Error") | _status_lines)
    content_type = draw(st.just(b"Content-Type: application/soap+xml") | _content_types)
    body = draw(soap_answers(operation))
    pace = draw(st.sampled_from([Pace.AT_ONCE] * 9 + list(Pace)))
    return Reply(
        status_line=status,
        headers=(content_type, *draw(st.just([]) | _extra_headers)),
        body=body,
        framing=draw(st.sampled_from([Framing.LENGTH, Framing.LENGTH, *Framing])),
        pace=pace,
        step=draw(st.integers(0, 400) | st.sampled_from([1, 4096])),
        interval=draw(st.sampled_from([0.0, 0.002, 0.01, 0.2])),
        close=draw(st.booleans()),
    )


@st.composite
def peers(draw: st.DrawFn, operation: str, tls: st.SearchStrategy[Tls]) -> Peer:
    """A hostile service: a TLS move drawn from ``tls``, then 1 to 3 answers."""
    return Peer(
        tls=draw(tls),
        garbage=draw(st.binary(max_size=64) | st.just(b"\x15\x03\x03\x00\x02\x02\x28")),
        delay=draw(st.sampled_from([0.0, 0.2, 1.0])),
        replies=tuple(draw(st.lists(replies(operation), min_size=1, max_size=3))),
    )
