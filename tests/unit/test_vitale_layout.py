"""Vitale 2 on-card layout: pointer file and data files, round trip and fuzzing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.apdu import encode_tlv
from kiosk.hardware.card_errors import MalformedCardData
from kiosk.hardware.cards import Beneficiary, VitaleCard, vitale_from_profile
from kiosk.hardware.vitale_layout import (
    AID_MF_VITALE,
    AID_VITALE,
    B_BIRTH_NAME,
    B_BIRTH_RANK,
    B_FIRST_NAME,
    B_LAST_NAME,
    B_QUALITY,
    FileEntry,
    decode_card,
    encode_beneficiaries_file,
    encode_card_file,
    encode_pointers,
    parse_pointers,
)
from kiosk.sim.data import CARDS_DIR
from tests.integration.strategies import vitale_profiles

CARDS = CARDS_DIR
SHIPPED = [
    vitale_from_profile(json.loads(p.read_text(encoding="utf-8")))
    for p in sorted(CARDS.glob("vitale-*.json"))
]
cards = st.builds(vitale_from_profile, vitale_profiles())

POINTERS = encode_pointers(
    {1: AID_VITALE, 2: AID_MF_VITALE},
    [("CARTE", 1, 0x2002), ("BENEF", 1, 0x2004), ("AUTRE", 2, 0x3001)],
)


def test_pointer_file_round_trip() -> None:
    assert parse_pointers(POINTERS) == [
        FileEntry("CARTE", AID_VITALE, 0x2002),
        FileEntry("BENEF", AID_VITALE, 0x2004),
        FileEntry("AUTRE", AID_MF_VITALE, 0x3001),
    ]


def test_pointer_file_shape() -> None:
    assert POINTERS[0] == 0xE0
    assert POINTERS[2] == 0xA0  # E0{A0{82 ...} 80 ...}


@settings(max_examples=100)
@given(
    st.dictionaries(st.integers(0, 0xFFFF), st.binary(min_size=1, max_size=16), max_size=4),
    st.data(),
)
def test_pointer_file_round_trip_generated(apps: dict[int, bytes], data: st.DataObject) -> None:
    names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789", min_size=1, max_size=8)
    files = (
        data.draw(st.lists(st.tuples(names, st.sampled_from(sorted(apps)), st.integers(0, 0xFFFF))))
        if apps
        else []
    )
    entries = parse_pointers(encode_pointers(apps, files))
    assert entries == [FileEntry(name, apps[entry], ef) for name, entry, ef in files]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        encode_tlv(0xE1, b""),  # not E0
        encode_tlv(0x80, b"CARTE   \x00\x01\x20\x02"),  # a file entry outside E0
        encode_tlv(0xE0, encode_tlv(0xA0, b"") + encode_tlv(0x80, b"CARTE   \x00\x01\x20")),
        encode_tlv(0xE0, encode_tlv(0xA0, b"") + encode_tlv(0x80, b"CARTE   \x00\x01\x20\x02")),
        encode_tlv(0xE0, encode_tlv(0xA0, b"\x82\x02")),  # truncated app entry
        encode_tlv(
            0xE0,
            encode_tlv(0xA0, encode_tlv(0x82, b"\x00\x01\x00\x00"))
            + encode_tlv(0x80, b"CARTE   \x00\x01\x20\x02"),
        ),  # app entry without AID
        bytes.fromhex("E005A0038201"),
        b"\xe0\x80",
    ],
)
def test_malformed_pointer_files(data: bytes) -> None:
    with pytest.raises(MalformedCardData):
        parse_pointers(data)


@pytest.mark.parametrize("card", SHIPPED, ids=lambda c: c.serial)
def test_shipped_cards_round_trip(card: VitaleCard) -> None:
    assert decode_card(encode_card_file(card), encode_beneficiaries_file(card)) == card


@settings(max_examples=100)
@given(cards)
def test_generated_cards_round_trip(card: VitaleCard) -> None:
    assert decode_card(encode_card_file(card), encode_beneficiaries_file(card)) == card


def test_optional_beneficiary_fields_have_defaults() -> None:
    card = SHIPPED[0]
    minimal = encode_tlv(
        0x65,
        encode_tlv(B_QUALITY, b"0")
        + encode_tlv(B_LAST_NAME, b"MARTIN")
        + encode_tlv(B_FIRST_NAME, b"JEANNE")
        + encode_tlv(0x82, b"19800512"),
    )
    decoded = decode_card(encode_card_file(card), minimal)
    assert decoded.beneficiaries == (Beneficiary("0", None, "MARTIN", "", "JEANNE", "19800512", 1),)


def test_latin1_names_are_decoded() -> None:
    card = SHIPPED[0]
    benef = encode_tlv(
        0x65,
        encode_tlv(B_QUALITY, b"0")
        + encode_tlv(B_LAST_NAME, b"H\xc9L\xc8NE")
        + encode_tlv(B_BIRTH_NAME, b"\xff")
        + encode_tlv(B_FIRST_NAME, b"A")
        + encode_tlv(0x82, b"19800512"),
    )
    (beneficiary,) = decode_card(encode_card_file(card), benef).beneficiaries
    assert beneficiary.last_name == "HÉLÈNE"


@pytest.mark.parametrize(
    "beneficiaries",
    [
        encode_tlv(0x65, encode_tlv(B_QUALITY, b"0")),  # name, first name, birth date missing
        encode_tlv(0x65, encode_tlv(B_LAST_NAME, b"A") + encode_tlv(B_FIRST_NAME, b"B")),
        encode_tlv(
            0x65,
            encode_tlv(B_QUALITY, b"0")
            + encode_tlv(B_LAST_NAME, b"A")
            + encode_tlv(B_FIRST_NAME, b"B")
            + encode_tlv(0x82, b"19800512")
            + encode_tlv(B_BIRTH_RANK, b"\x01\x02"),  # rank is one byte
        ),
        b"\x65\x03\x80\x05A",  # inner TLV overruns
        b"\x65\x05",  # truncated
    ],
)
def test_malformed_beneficiaries(beneficiaries: bytes) -> None:
    with pytest.raises(MalformedCardData):
        decode_card(encode_card_file(SHIPPED[0]), beneficiaries)


@pytest.mark.parametrize(
    "card_file",
    [
        b"",
        encode_tlv(0x66, encode_tlv(0x80, b"20180115") + encode_tlv(0x81, b"1")),  # no 67
        encode_tlv(0x67, b""),  # no 66
        encode_tlv(0x66, encode_tlv(0x80, b"20180115")) + encode_tlv(0x67, b""),  # fields missing
    ],
)
def test_malformed_card_file(card_file: bytes) -> None:
    with pytest.raises(MalformedCardData):
        decode_card(card_file, b"")


# --- fuzzing: MalformedCardData is the only exception ---------------------------------


def _decode_or_malformed(card_file: bytes, beneficiaries: bytes) -> VitaleCard | None:
    try:
        return decode_card(card_file, beneficiaries)
    except MalformedCardData:
        return None


def _pointers_or_malformed(data: bytes) -> list[FileEntry] | None:
    try:
        return parse_pointers(data)
    except MalformedCardData:
        return None


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_fuzz_parse_pointers_random_bytes(data: bytes) -> None:
    _pointers_or_malformed(data)


@settings(max_examples=200)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_fuzz_decode_card_random_bytes(card_file: bytes, beneficiaries: bytes) -> None:
    _decode_or_malformed(card_file, beneficiaries)
    _decode_or_malformed(encode_card_file(SHIPPED[0]), beneficiaries)


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_fuzz_decode_card_random_bytes_inside_objects(content: bytes) -> None:
    """Random content inside well-framed 65/66/67 objects."""
    card_file = encode_tlv(0x66, content) + encode_tlv(0x67, content)
    _decode_or_malformed(card_file, encode_tlv(0x65, content))
    _pointers_or_malformed(encode_tlv(0xE0, content))
    _pointers_or_malformed(encode_tlv(0xE0, encode_tlv(0xA0, content)))


@pytest.mark.parametrize("card", SHIPPED, ids=lambda c: c.serial)
def test_every_truncation_of_shipped_files(card: VitaleCard) -> None:
    card_file, benef_file = encode_card_file(card), encode_beneficiaries_file(card)
    for cut in range(len(card_file)):
        assert _decode_or_malformed(card_file[:cut], benef_file) is None
    for cut in range(len(benef_file) + 1):
        decoded = _decode_or_malformed(card_file, benef_file[:cut])
        if decoded is not None:  # cut at a TLV boundary: the first beneficiaries only
            n = len(decoded.beneficiaries)
            assert decoded.beneficiaries == card.beneficiaries[:n]
    for cut in range(len(POINTERS)):
        assert _pointers_or_malformed(POINTERS[:cut]) is None


@settings(max_examples=100)
@given(cards, st.data())
def test_fuzz_truncated_files(card: VitaleCard, data: st.DataObject) -> None:
    card_file, benef_file = encode_card_file(card), encode_beneficiaries_file(card)
    cut = data.draw(st.integers(0, len(card_file) - 1))
    assert _decode_or_malformed(card_file[:cut], benef_file) is None
    cut = data.draw(st.integers(0, len(benef_file)))
    decoded = _decode_or_malformed(card_file, benef_file[:cut])
    if decoded is not None:
        n = len(decoded.beneficiaries)
        assert decoded.beneficiaries == card.beneficiaries[:n]


def _flip(data: bytes, draw: st.DataObject) -> bytes:
    if not data:
        return data
    flipped = bytearray(data)
    flipped[draw.draw(st.integers(0, len(data) - 1))] ^= 1 << draw.draw(st.integers(0, 7))
    return bytes(flipped)


@settings(max_examples=200)
@given(cards, st.data())
def test_fuzz_bit_flipped_files(card: VitaleCard, data: st.DataObject) -> None:
    card_file, benef_file = encode_card_file(card), encode_beneficiaries_file(card)
    _decode_or_malformed(_flip(card_file, data), benef_file)
    _decode_or_malformed(card_file, _flip(benef_file, data))
    _pointers_or_malformed(_flip(POINTERS, data))
