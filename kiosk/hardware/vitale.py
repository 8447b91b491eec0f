"""Read a Carte Vitale 2 over any APDU channel (PC/SC in the product)."""

from __future__ import annotations

from kiosk.hardware.apdu import (
    INS_READ_BINARY,
    INS_SELECT,
    SW_FILE_NOT_FOUND,
    SW_WRONG_P1P2,
    Apdu,
    Channel,
    transmit,
)
from kiosk.hardware.card_errors import CardStatusError, MalformedCardData
from kiosk.hardware.cards import VitaleCard
from kiosk.hardware.nir import InvalidNir, validate_nir
from kiosk.hardware.vitale_layout import (
    AID_VITALE,
    EF_POINTERS,
    FILE_BENEFICIARIES,
    FILE_CARD,
    decode_card,
    parse_pointers,
)

CHUNK = 256
MAX_FILE = 0x7FFF  # READ BINARY offsets are 15 bits


def select_aid(channel: Channel, aid: bytes) -> None:
    response = transmit(channel, Apdu(0x00, INS_SELECT, 0x04, 0x00, aid, le=0))
    if not response.ok:
        raise CardStatusError("application not found on the card", response.sw)


def select_ef(channel: Channel, ef: int) -> None:
    response = transmit(channel, Apdu(0x00, INS_SELECT, 0x02, 0x00, ef.to_bytes(2, "big"), le=0))
    if not response.ok:
        raise CardStatusError(f"file {ef:04X} not found on the card", response.sw)


def read_ef(channel: Channel) -> bytes:
    """READ BINARY the current EF in 256-byte chunks until a short answer."""
    data = b""
    while len(data) <= MAX_FILE:
        offset = len(data)
        response = transmit(
            channel, Apdu(0x00, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=CHUNK)
        )
        if response.sw in (SW_WRONG_P1P2, SW_FILE_NOT_FOUND) and data:
            return data  # the previous chunk ended exactly at the end of the file
        if not response.ok:
            raise CardStatusError("cannot read a file of the card", response.sw)
        data += response.data
        if len(response.data) < CHUNK:
            return data
    raise MalformedCardData("a card file is longer than READ BINARY can address")


def read_vitale(channel: Channel) -> VitaleCard:
    select_aid(channel, AID_VITALE)
    select_ef(channel, EF_POINTERS)
    entries = {e.name: e for e in parse_pointers(read_ef(channel)) if e.aid == AID_VITALE}
    files: dict[str, bytes] = {}
    for name in (FILE_CARD, FILE_BENEFICIARIES):
        if name not in entries:
            raise MalformedCardData(f"the pointer file does not list {name}")
        select_ef(channel, entries[name].ef)
        files[name] = read_ef(channel)
    card = decode_card(files[FILE_CARD], files[FILE_BENEFICIARIES])
    check_nirs(card)
    return card


def check_nirs(card: VitaleCard) -> None:
    """Every NIR on the card has a valid key (Corsica included); the NIR is not logged."""
    try:
        validate_nir(card.holder_nir)
    except InvalidNir as exc:
        raise MalformedCardData(f"holder NIR: {exc}") from None
    for index, beneficiary in enumerate(card.beneficiaries):
        if beneficiary.nir is None:
            continue
        try:
            validate_nir(beneficiary.nir)
        except InvalidNir as exc:
            raise MalformedCardData(f"beneficiary {index + 1} NIR: {exc}") from None
