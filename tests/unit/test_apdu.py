"""APDU framing, status words, transmit() (61xx / 6Cxx) and BER-TLV, fuzzed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.apdu import (
    MAX_GET_RESPONSE,
    Apdu,
    ApduError,
    Response,
    Tlv,
    TlvError,
    decode_text,
    encode_length,
    encode_tlv,
    parse_tlv,
    sw_tries_left,
    transmit,
)
from tests.unit.doubles import ScriptedChannel

# --- command APDUs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("apdu", "encoded"),
    [
        (Apdu(0x00, 0xA4, 0x04, 0x00), "00A40400"),  # case 1
        (Apdu(0x00, 0xB0, 0x01, 0x00, le=0x10), "00B0010010"),  # case 2
        (Apdu(0x00, 0xB0, 0x00, 0x00, le=256), "00B0000000"),  # case 2, Le 256 -> 00
        (Apdu(0x00, 0xB0, 0x00, 0x00, le=0), "00B0000000"),  # case 2, Le 0 -> 00
        (Apdu(0x00, 0xA4, 0x02, 0x00, b"\x20\x01"), "00A40200022001"),  # case 3
        (Apdu(0x00, 0xA4, 0x02, 0x00, b"\x20\x01", le=0), "00A4020002200100"),  # case 4
        (Apdu(0x00, 0x20, 0x00, 0x01, b"1234"), "002000010431323334"),
        (Apdu(0xFF, 0xFF, 0xFF, 0xFF, b"\xaa" * 255, le=255), "FFFFFFFFFF" + "AA" * 255 + "FF"),
    ],
)
def test_apdu_to_bytes(apdu: Apdu, encoded: str) -> None:
    assert apdu.to_bytes() == bytes.fromhex(encoded)


@pytest.mark.parametrize(
    ("encoded", "apdu"),
    [
        ("00A40400", Apdu(0x00, 0xA4, 0x04, 0x00)),
        ("00B0010010", Apdu(0x00, 0xB0, 0x01, 0x00, le=0x10)),
        ("00B0000000", Apdu(0x00, 0xB0, 0x00, 0x00, le=256)),  # Le 00 means 256
        ("00A40200022001", Apdu(0x00, 0xA4, 0x02, 0x00, b"\x20\x01")),
        ("00A4020002200100", Apdu(0x00, 0xA4, 0x02, 0x00, b"\x20\x01", le=256)),
        ("00A4020002200110", Apdu(0x00, 0xA4, 0x02, 0x00, b"\x20\x01", le=0x10)),
        (
            "00A404000BD250000002564954414C4500",
            Apdu(0x00, 0xA4, 0x04, 0x00, bytes.fromhex("D250000002564954414C45"), le=256),
        ),
    ],
)
def test_apdu_parse(encoded: str, apdu: Apdu) -> None:
    assert Apdu.parse(bytes.fromhex(encoded)) == apdu


@pytest.mark.parametrize(
    "apdu",
    [
        Apdu(0x100, 0, 0, 0),
        Apdu(0, -1, 0, 0),
        Apdu(0, 0, 0x100, 0),
        Apdu(0, 0, 0, 0x100),
        Apdu(0, 0, 0, 0, b"\x00" * 256),
        Apdu(0, 0, 0, 0, le=257),
        Apdu(0, 0, 0, 0, le=-1),
    ],
)
def test_apdu_to_bytes_rejects_out_of_range_fields(apdu: Apdu) -> None:
    with pytest.raises(ApduError):
        apdu.to_bytes()


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "00",
        "00A404",
        "00A40400000001",  # Lc 00: extended length
        "00A404000501",  # Lc 5 but 1 data byte
        "00A4040002200100FF",  # one byte too many for case 4
    ],
)
def test_apdu_parse_rejects_malformed(encoded: str) -> None:
    with pytest.raises(ApduError):
        Apdu.parse(bytes.fromhex(encoded))


@settings(max_examples=200)
@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=255),
    st.none() | st.integers(1, 256),
)
def test_apdu_round_trip(cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None) -> None:
    apdu = Apdu(cla, ins, p1, p2, data, le)
    assert Apdu.parse(apdu.to_bytes()) == apdu


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_apdu_parse_raises_only_apdu_error(raw: bytes) -> None:
    try:
        apdu = Apdu.parse(raw)
    except ApduError:
        return
    assert apdu.to_bytes() == raw  # a parsed APDU re-encodes to the same bytes


# --- responses and status words -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "data", "sw", "ok"),
    [
        ("9000", "", 0x9000, True),
        ("01029000", "0102", 0x9000, True),
        ("6A82", "", 0x6A82, False),
        ("AB63C2", "AB", 0x63C2, False),
    ],
)
def test_response_parse(raw: str, data: str, sw: int, ok: bool) -> None:
    response = Response.parse(bytes.fromhex(raw))
    assert response == Response(bytes.fromhex(data), sw)
    assert response.ok is ok
    assert response.to_bytes() == bytes.fromhex(raw)


@pytest.mark.parametrize("raw", ["", "90"])
def test_response_too_short(raw: str) -> None:
    with pytest.raises(ApduError):
        Response.parse(bytes.fromhex(raw))


@pytest.mark.parametrize(
    ("sw", "tries"),
    [
        (0x63C0, 0),
        (0x63C1, 1),
        (0x63C2, 2),
        (0x63C3, 3),
        (0x63CF, 15),
        (0x9000, None),
        (0x6983, None),
        (0x6300, None),
        (0x63D1, None),
        (0x53C1, None),
    ],
)
def test_sw_tries_left(sw: int, tries: int | None) -> None:
    assert sw_tries_left(sw) == tries


# --- transmit: 61xx and 6Cxx --------------------------------------------------------

READ = Apdu(0x00, 0xB0, 0x00, 0x00, le=0)


def test_transmit_plain() -> None:
    channel = ScriptedChannel("01029000")
    assert transmit(channel, READ) == Response(b"\x01\x02", 0x9000)
    assert channel.sent == [bytes.fromhex("00B0000000")]


def test_transmit_passes_errors_through() -> None:
    channel = ScriptedChannel("6A82")
    assert transmit(channel, READ) == Response(b"", 0x6A82)
    assert len(channel.sent) == 1


def test_transmit_follows_61xx_with_get_response() -> None:
    channel = ScriptedChannel("01026103", "0304059000")
    assert transmit(channel, READ) == Response(bytes.fromhex("0102030405"), 0x9000)
    assert channel.sent[1] == bytes.fromhex("00C0000003")


def test_transmit_follows_chained_61xx_and_61_00_means_256() -> None:
    channel = ScriptedChannel("6100", "AA6101", "BB9000")
    assert transmit(channel, READ) == Response(b"\xaa\xbb", 0x9000)
    assert channel.sent[1:] == [bytes.fromhex("00C0000000"), bytes.fromhex("00C0000001")]


def test_transmit_get_response_keeps_the_logical_channel() -> None:
    channel = ScriptedChannel("6102", "AABB9000")
    transmit(channel, Apdu(0x01, 0xB0, 0, 0, le=0))
    assert channel.sent[1] == bytes.fromhex("01C0000002")


def test_transmit_resends_with_the_le_given_by_6cxx() -> None:
    channel = ScriptedChannel("6C10", "00" * 16 + "9000")
    response = transmit(channel, Apdu(0x00, 0xB0, 0x01, 0x02, le=0))
    assert response == Response(bytes(16), 0x9000)
    assert channel.sent == [bytes.fromhex("00B0010200"), bytes.fromhex("00B0010210")]


def test_a_command_with_data_is_never_sent_twice() -> None:
    """A VERIFY answered 6Cxx by a confused card must not spend a second PIN try."""
    channel = ScriptedChannel("6C08")
    verify = Apdu(0x00, 0x20, 0x00, 0x01, b"1234")
    assert transmit(channel, verify).sw == 0x6C08
    assert channel.sent == [verify.to_bytes()]


def test_transmit_6c00_means_le_256() -> None:
    channel = ScriptedChannel("6C00", "9000")
    transmit(channel, Apdu(0x00, 0xCA, 0x00, 0x00, le=1))
    assert channel.sent[1] == bytes.fromhex("00CA000000")


def test_transmit_6cxx_then_61xx() -> None:
    channel = ScriptedChannel("6C02", "AA6101", "BB9000")
    assert transmit(channel, READ) == Response(b"\xaa\xbb", 0x9000)
    assert channel.sent[1:] == [bytes.fromhex("00B0000002"), bytes.fromhex("00C0000001")]


def test_transmit_error_after_get_response_keeps_data_and_sw() -> None:
    channel = ScriptedChannel("AA6101", "6F00")
    assert transmit(channel, READ) == Response(b"\xaa", 0x6F00)


def test_transmit_rejects_a_truncated_answer() -> None:
    with pytest.raises(ApduError):
        transmit(ScriptedChannel("90"), READ)


# --- BER-TLV ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("", []),
        ("800141", [Tlv(0x80, b"A")]),
        ("8000", [Tlv(0x80, b"")]),
        ("800141810142", [Tlv(0x80, b"A"), Tlv(0x81, b"B")]),
        ("00FF800141FF00", [Tlv(0x80, b"A")]),  # 00/FF padding skipped
        ("9F0101AA", [Tlv(0x9F01, b"\xaa")]),  # two-byte tag
        ("5F2D026672", [Tlv(0x5F2D, b"fr")]),
        ("1F810100", [Tlv(0x1F8101, b"")]),  # three-byte tag
        ("DF81820101BB", [Tlv(0xDF818201, b"\xbb")]),  # four-byte tag
        ("81810141", [Tlv(0x81, b"A")]),  # non-minimal long length accepted
        ("8081" + "80" + "00" * 128, [Tlv(0x80, bytes(128))]),
        ("808201" + "00" + "11" * 256, [Tlv(0x80, b"\x11" * 256)]),
        ("80830001" + "00" + "22" * 256, [Tlv(0x80, b"\x22" * 256)]),
    ],
)
def test_parse_tlv(encoded: str, expected: list[Tlv]) -> None:
    assert parse_tlv(bytes.fromhex(encoded)) == expected


@pytest.mark.parametrize(
    "encoded",
    [
        "9F",  # truncated multi-byte tag
        "9F81",  # truncated multi-byte tag
        "1F81818101",  # tag longer than 4 bytes
        "80",  # no length
        "8081",  # truncated long length
        "808201",  # truncated long length
        "3080",  # indefinite length
        "808400000001AA",  # 4-byte length form
        "8002AA",  # value shorter than announced
        "800141" + "8103AA",  # second object truncated
    ],
)
def test_parse_tlv_rejects_malformed(encoded: str) -> None:
    with pytest.raises(TlvError):
        parse_tlv(bytes.fromhex(encoded))


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, "00"),
        (0x7F, "7F"),
        (0x80, "8180"),
        (0xFF, "81FF"),
        (0x100, "820100"),
        (0xFFFF, "82FFFF"),
        (0x10000, "83010000"),
        (0xFFFFFF, "83FFFFFF"),
    ],
)
def test_encode_length(length: int, encoded: str) -> None:
    assert encode_length(length) == bytes.fromhex(encoded)


def test_encode_length_too_long() -> None:
    with pytest.raises(TlvError):
        encode_length(0x1000000)


def test_tlv_constructed_children_and_find() -> None:
    inner = encode_tlv(0x80, b"A") + encode_tlv(0x81, b"B") + encode_tlv(0x80, b"C")
    (outer,) = parse_tlv(encode_tlv(0x65, inner))
    assert outer.constructed
    assert outer.children() == [Tlv(0x80, b"A"), Tlv(0x81, b"B"), Tlv(0x80, b"C")]
    assert outer.find(0x80) == Tlv(0x80, b"A")  # the first one
    assert outer.find(0x82) is None
    assert Tlv(0x7F21, b"").constructed  # constructed bit taken from the first tag byte
    assert not Tlv(0x9F01, b"").constructed


def test_primitive_tlv_has_no_children() -> None:
    with pytest.raises(TlvError):
        Tlv(0x80, b"\x80\x00").children()
    with pytest.raises(TlvError):
        Tlv(0x80, b"").find(0x80)


def test_decode_text_never_raises() -> None:
    assert decode_text("Léo".encode()) == "Léo"
    assert decode_text(b"L\xe9o") == "Léo"  # not UTF-8: Latin-1
    assert decode_text(b"\xff\xfe") == "ÿþ"


# Tags as BER-TLV writes them: one byte (low 5 bits not all set), or a first byte with
# low bits 11111 followed by 0-2 continuation bytes (bit 8 set) and a last byte. The
# first byte is never 00 or FF, which are padding between objects.
_one_byte_tag = st.sampled_from([b for b in range(0x01, 0xFF) if b & 0x1F != 0x1F])


@st.composite
def _multi_byte_tag(draw: st.DrawFn) -> int:
    first = draw(st.sampled_from([b for b in range(0xFF) if b & 0x1F == 0x1F]))
    middle = draw(st.lists(st.integers(0x80, 0xFF), max_size=2))
    last = draw(st.integers(0x00, 0x7F))
    return int.from_bytes(bytes([first, *middle, last]), "big")


tags = _one_byte_tag | _multi_byte_tag()
values = st.binary(max_size=40) | st.sampled_from([127, 128, 255, 256, 300]).flatmap(
    lambda n: st.binary(min_size=n, max_size=n)
)
objects = st.lists(st.tuples(tags, values), max_size=5)


def _encode(items: list[tuple[int, bytes]]) -> bytes:
    return b"".join(encode_tlv(tag, value) for tag, value in items)


@settings(max_examples=200)
@given(objects)
def test_tlv_round_trip(items: list[tuple[int, bytes]]) -> None:
    assert parse_tlv(_encode(items)) == [Tlv(tag, value) for tag, value in items]


@settings(max_examples=100)
@given(objects, st.lists(st.tuples(tags, values), max_size=3))
def test_tlv_nested_round_trip(
    children: list[tuple[int, bytes]], siblings: list[tuple[int, bytes]]
) -> None:
    data = encode_tlv(0xE0, _encode(children)) + _encode(siblings)
    parsed = parse_tlv(data)
    assert parsed[0].children() == [Tlv(tag, value) for tag, value in children]
    assert parsed[1:] == [Tlv(tag, value) for tag, value in siblings]


def _parse_deep(data: bytes, depth: int = 0) -> None:
    """parse_tlv, then the children of every constructed object; TlvError only."""
    try:
        parsed = parse_tlv(data)
    except TlvError:
        return
    assert all(isinstance(t, Tlv) for t in parsed)
    for tlv in parsed:
        if tlv.constructed and depth < 8:
            _parse_deep(tlv.value, depth + 1)


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_tlv_fuzz_random_bytes(data: bytes) -> None:
    _parse_deep(data)


@settings(max_examples=100, deadline=None)  # loops over every cut
@given(tags, values)
def test_tlv_every_truncation_of_one_object_is_an_error(tag: int, value: bytes) -> None:
    encoded = encode_tlv(tag, value)
    assert parse_tlv(encoded[:0]) == []
    for cut in range(1, len(encoded)):
        with pytest.raises(TlvError):
            parse_tlv(encoded[:cut])


@settings(max_examples=100, deadline=None)  # loops over every cut
@given(objects)
def test_tlv_every_truncation_parses_or_raises_tlv_error(items: list[tuple[int, bytes]]) -> None:
    encoded = encode_tlv(0x70, _encode(items)) + _encode(items)
    for cut in range(len(encoded)):
        _parse_deep(encoded[:cut])


@settings(max_examples=200)
@given(objects, st.data())
def test_tlv_bit_flips_parse_or_raise_tlv_error(
    items: list[tuple[int, bytes]], data: st.DataObject
) -> None:
    encoded = bytearray(encode_tlv(0x70, _encode(items)))
    index = data.draw(st.integers(0, len(encoded) - 1))
    encoded[index] ^= 1 << data.draw(st.integers(0, 7))
    _parse_deep(bytes(encoded))


def test_transmit_gives_up_on_endless_61xx() -> None:
    channel = ScriptedChannel(*["AA6101"] * (MAX_GET_RESPONSE + 1))
    with pytest.raises(ApduError, match="kept answering 61xx"):
        transmit(channel, READ)
    assert len(channel.sent) == MAX_GET_RESPONSE + 1
