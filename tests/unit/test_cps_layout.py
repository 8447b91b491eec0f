"""CPS3 on-card layout: public and identity files, round trip and fuzzing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.apdu import encode_tlv
from kiosk.hardware.card_errors import MalformedCardData
from kiosk.hardware.cards import CpsCard, cps_from_profile
from kiosk.hardware.cps_layout import decode_card, decode_public, encode_identity, encode_public
from kiosk.sim.data import CARDS_DIR
from tests.integration.strategies import names

CARDS = CARDS_DIR
SHIPPED = [
    cps_from_profile(json.loads(p.read_text(encoding="utf-8")))[0]
    for p in sorted(CARDS.glob("cps-*.json"))
]
cards = st.builds(
    CpsCard,
    serial=st.from_regex(r"\A[0-9]{1,20}\Z"),
    national_id=st.from_regex(r"\A[0-9]{8,12}\Z"),
    rpps=st.from_regex(r"\A[0-9]{11}\Z"),
    last_name=names,
    first_name=names,
    profession=st.from_regex(r"\A[0-9]{2}\Z"),
    cnop_section=st.from_regex(r"\AD?[A-H]\Z"),
    valid_until=st.from_regex(r"\A[0-9]{8}\Z"),
    pin_tries_left=st.integers(0, 3),
)


@pytest.mark.parametrize("card", SHIPPED, ids=lambda c: c.serial)
def test_shipped_cards_round_trip(card: CpsCard) -> None:
    public, identity = encode_public(card), encode_identity(card)
    assert decode_public(public) == (card.serial, card.valid_until)
    assert decode_card(public, identity, card.pin_tries_left) == card


@settings(max_examples=100)
@given(cards)
def test_generated_cards_round_trip(card: CpsCard) -> None:
    assert decode_card(encode_public(card), encode_identity(card), card.pin_tries_left) == card


def test_tries_left_is_the_one_given() -> None:
    card = SHIPPED[0]
    assert decode_card(encode_public(card), encode_identity(card), 1).pin_tries_left == 1


@pytest.mark.parametrize(
    "public",
    [
        b"",
        encode_tlv(0x71, b""),  # wrong object
        encode_tlv(0x70, encode_tlv(0x80, b"1")),  # valid-until missing
        encode_tlv(0x70, encode_tlv(0x81, b"20291231")),  # serial missing
        b"\x70\x05\x80\x01",  # truncated
        b"\x70\x02\x80\x05",  # inner overrun
    ],
)
def test_malformed_public_file(public: bytes) -> None:
    with pytest.raises(MalformedCardData):
        decode_public(public)


@pytest.mark.parametrize(
    "identity",
    [
        b"",
        encode_tlv(0x70, b""),
        encode_tlv(0x71, encode_tlv(0x80, b"810001234567")),  # most fields missing
        b"\x71\x80",
    ],
)
def test_malformed_identity_file(identity: bytes) -> None:
    with pytest.raises(MalformedCardData):
        decode_card(encode_public(SHIPPED[0]), identity, 3)


# --- fuzzing: MalformedCardData is the only exception ---------------------------------


def _decode_or_malformed(public: bytes, identity: bytes) -> CpsCard | None:
    with contextlib.suppress(MalformedCardData):
        decode_public(public)
    try:
        return decode_card(public, identity, 3)
    except MalformedCardData:
        return None


@settings(max_examples=200)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_fuzz_random_bytes(public: bytes, identity: bytes) -> None:
    _decode_or_malformed(public, identity)
    _decode_or_malformed(encode_public(SHIPPED[0]), identity)
    _decode_or_malformed(encode_tlv(0x70, public), encode_tlv(0x71, identity))


@pytest.mark.parametrize("card", SHIPPED, ids=lambda c: c.serial)
def test_every_truncation_of_shipped_files(card: CpsCard) -> None:
    public, identity = encode_public(card), encode_identity(card)
    for cut in range(len(public)):
        assert _decode_or_malformed(public[:cut], identity) is None
    for cut in range(len(identity)):
        assert _decode_or_malformed(public, identity[:cut]) is None


@settings(max_examples=200)
@given(cards, st.data())
def test_fuzz_truncated_and_bit_flipped(card: CpsCard, data: st.DataObject) -> None:
    public, identity = encode_public(card), encode_identity(card)
    assert (
        _decode_or_malformed(public[: data.draw(st.integers(0, len(public) - 1))], identity) is None
    )
    assert (
        _decode_or_malformed(public, identity[: data.draw(st.integers(0, len(identity) - 1))])
        is None
    )
    for blob in (public, identity):
        flipped = bytearray(blob)
        flipped[data.draw(st.integers(0, len(blob) - 1))] ^= 1 << data.draw(st.integers(0, 7))
        if blob is public:
            _decode_or_malformed(bytes(flipped), identity)
        else:
            _decode_or_malformed(public, bytes(flipped))
