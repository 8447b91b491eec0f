"""On-card layout of a CPS3 (Carte de Professionnel de Santé).

Public facts [V] (OpenSC iasecc, ANS cryptolib): the IAS-ECC application AID, PIN =
CHV reference 1 with 3 tries, VERIFY ``00 20 00 01 Lc PIN`` answering ``9000``,
``63C2``, ``63C1`` then ``6983``; VERIFY without data tells the state; protected reads
before VERIFY answer ``6982``.

Assumed [A] (the identity file layout is not public; this is our emulator's choice):
EF ``D001`` (public) ``70{80 serial, 81 valid-until, 82 profession, 83 CNOP section}``;
EF ``D002`` (PIN-protected) ``71{80 national id, 81 RPPS, 82 name, 83 first name,
84 profession, 85 CNOP section, 86 structure…}``: one ``86`` per "situation
d'exercice" the card names (a real CPS carries up to three, each with the identifier of
the structure the holder works in [V]; where and how is not public [A]), none on a
card that names no structure. The PIN is sent as ASCII digits; trailing ``FF``
padding is ignored. A real CPS3 shows its holder's profession without the PIN (in the
public authentication certificate, and the contactless public data): the public file
carries it too, so ``kiosk doctor`` tells a pharmacist's card without asking for the PIN
(:func:`decode_public_holder`). A public file without tags 82 and 83 (an older layout)
still gives its serial and validity (:func:`decode_public`).
"""

from __future__ import annotations

from typing import NamedTuple

from kiosk.hardware.apdu import TlvError, decode_text, encode_tlv, parse_tlv
from kiosk.hardware.card_errors import MalformedCardData
from kiosk.hardware.cards import CpsCard

AID_IAS = bytes.fromhex("E828BD080F8025000001FF0010")
PIN_REFERENCE = 0x01
EF_PUBLIC = 0xD001
EF_IDENTITY = 0xD002

TAG_PUBLIC = 0x70
TAG_IDENTITY = 0x71
P_SERIAL, P_VALID_UNTIL, P_PROFESSION, P_CNOP_SECTION = 0x80, 0x81, 0x82, 0x83
ID_NATIONAL_ID, ID_RPPS, ID_LAST_NAME = 0x80, 0x81, 0x82
ID_FIRST_NAME, ID_PROFESSION, ID_CNOP_SECTION = 0x83, 0x84, 0x85
ID_STRUCTURE = 0x86  # repeated: one per situation d'exercice


class CpsPublic(NamedTuple):
    """What a CPS tells without its PIN."""

    serial: str
    valid_until: str  # YYYYMMDD
    profession: str  # "21" = pharmacien
    cnop_section: str  # "A" titulaire, "DA" adjoint


def encode_public(card: CpsCard) -> bytes:
    return encode_tlv(
        TAG_PUBLIC,
        encode_tlv(P_SERIAL, card.serial.encode())
        + encode_tlv(P_VALID_UNTIL, card.valid_until.encode())
        + encode_tlv(P_PROFESSION, card.profession.encode())
        + encode_tlv(P_CNOP_SECTION, card.cnop_section.encode()),
    )


def encode_identity(card: CpsCard) -> bytes:
    values: tuple[tuple[int, str], ...] = (
        (ID_NATIONAL_ID, card.national_id),
        (ID_RPPS, card.rpps),
        (ID_LAST_NAME, card.last_name),
        (ID_FIRST_NAME, card.first_name),
        (ID_PROFESSION, card.profession),
        (ID_CNOP_SECTION, card.cnop_section),
    )
    values += tuple((ID_STRUCTURE, structure) for structure in card.structures)
    return encode_tlv(TAG_IDENTITY, b"".join(encode_tlv(t, v.encode("utf-8")) for t, v in values))


def _object(data: bytes, tag: int, what: str) -> dict[int, str]:
    try:
        objs = [t for t in parse_tlv(data) if t.tag == tag]
        if not objs:
            raise MalformedCardData(f"CPS {what} file lacks object {tag:02X}")
        return {child.tag: decode_text(child.value) for child in objs[0].children()}
    except TlvError as exc:
        raise MalformedCardData(f"CPS {what} file is not valid BER-TLV: {exc}") from None


def _repeated(data: bytes, tag: int, child: int) -> tuple[str, ...]:
    """Every ``child`` of object ``tag``, in order (the file was checked by :func:`_object`)."""
    found = next(t for t in parse_tlv(data) if t.tag == tag)
    return tuple(decode_text(c.value) for c in found.children() if c.tag == child)


def _get(fields: dict[int, str], tag: int, what: str) -> str:
    if tag not in fields:
        raise MalformedCardData(f"CPS {what} file: missing data object {tag:02X}")
    return fields[tag]


def decode_public(data: bytes) -> tuple[str, str]:
    """(serial, valid_until) from the public file."""
    f = _object(data, TAG_PUBLIC, "public")
    return _get(f, P_SERIAL, "public"), _get(f, P_VALID_UNTIL, "public")


def decode_public_holder(data: bytes) -> CpsPublic:
    """Serial, validity, profession and CNOP section from the public file."""
    f = _object(data, TAG_PUBLIC, "public")
    return CpsPublic(
        *(_get(f, tag, "public") for tag in (P_SERIAL, P_VALID_UNTIL, P_PROFESSION, P_CNOP_SECTION))
    )


def decode_card(public: bytes, identity: bytes, pin_tries_left: int) -> CpsCard:
    serial, valid_until = decode_public(public)
    f = _object(identity, TAG_IDENTITY, "identity")
    return CpsCard(
        serial=serial,
        national_id=_get(f, ID_NATIONAL_ID, "identity"),
        rpps=_get(f, ID_RPPS, "identity"),
        last_name=_get(f, ID_LAST_NAME, "identity"),
        first_name=_get(f, ID_FIRST_NAME, "identity"),
        profession=_get(f, ID_PROFESSION, "identity"),
        cnop_section=_get(f, ID_CNOP_SECTION, "identity"),
        valid_until=valid_until,
        pin_tries_left=pin_tries_left,
        structures=_repeated(identity, TAG_IDENTITY, ID_STRUCTURE),
    )
