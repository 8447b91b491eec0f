"""On-card layout of a Carte Vitale 2: the pointer file and the data objects.

Public facts [V] (Cardpeek ``vitale_2.lua``): applications ``VITALE`` and ``MF_VITALE``;
EF ``2001`` in ``VITALE`` is the pointer file ``E0{A0{82 app entry…} 80 file entry…}``
where an app entry is ``entry id (2) + 2 bytes + AID`` and a file entry is
``name (8 chars) + entry id (2) + EF id (2)``; data objects are BER-TLV ``65``
(beneficiary: ``90`` nationality, ``93`` NIR, ``80`` name, ``81`` first name, ``82``
birth date) and ``66`` (card: ``80`` valid-from).

Assumed [A] (the real names are not public, this is our emulator's choice, and the
reader finds files only through the pointer file, never by a hard-coded EF id):
files ``CARTE`` (EF 2002: ``66{80 valid-from, 81 serial}``,
``67{80 régime, 81 caisse, 82 centre, 83 holder NIR}``) and ``BENEF`` (EF 2004: one
``65`` per beneficiary, adding ``83`` birth rank, ``84`` quality, ``85`` birth name).
Text is UTF-8 (real cards hold upper-case ASCII, a subset).

Pure code: encoding is used by the emulator, decoding by :mod:`kiosk.hardware.vitale`.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.hardware.apdu import Tlv, TlvError, decode_text, encode_tlv, parse_tlv
from kiosk.hardware.card_errors import MalformedCardData
from kiosk.hardware.cards import Beneficiary, VitaleCard

AID_VITALE = bytes.fromhex("D250000002564954414C45")
AID_MF_VITALE = bytes.fromhex("D2500000024D465F564954414C45")
EF_POINTERS = 0x2001

FILE_CARD = "CARTE"
FILE_BENEFICIARIES = "BENEF"
DEFAULT_EF_IDS = {FILE_CARD: 0x2002, FILE_BENEFICIARIES: 0x2004}

TAG_POINTERS = 0xE0
TAG_APPS = 0xA0
TAG_APP_ENTRY = 0x82
TAG_FILE_ENTRY = 0x80

TAG_BENEFICIARY = 0x65
TAG_CARD = 0x66
TAG_INSURANCE = 0x67
# inside 65
B_LAST_NAME, B_FIRST_NAME, B_BIRTH_DATE = 0x80, 0x81, 0x82
B_BIRTH_RANK, B_QUALITY, B_BIRTH_NAME = 0x83, 0x84, 0x85
B_NATIONALITY, B_NIR = 0x90, 0x93
# inside 66
C_VALID_FROM, C_SERIAL = 0x80, 0x81
# inside 67
I_REGIME, I_CAISSE, I_CENTRE, I_HOLDER_NIR = 0x80, 0x81, 0x82, 0x83


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    aid: bytes
    ef: int


# --- pointer file -----------------------------------------------------------------


def encode_pointers(apps: dict[int, bytes], files: list[tuple[str, int, int]]) -> bytes:
    """``apps``: entry id → AID; ``files``: (name, entry id, EF id)."""
    app_entries = b"".join(
        encode_tlv(TAG_APP_ENTRY, entry.to_bytes(2, "big") + b"\x00\x00" + aid)
        for entry, aid in apps.items()
    )
    file_entries = b"".join(
        encode_tlv(
            TAG_FILE_ENTRY,
            name.ljust(8).encode("ascii") + entry.to_bytes(2, "big") + ef.to_bytes(2, "big"),
        )
        for name, entry, ef in files
    )
    return encode_tlv(TAG_POINTERS, encode_tlv(TAG_APPS, app_entries) + file_entries)


def parse_pointers(data: bytes) -> list[FileEntry]:
    """Files listed by the pointer file, with the AID of their application."""
    try:
        top = parse_tlv(data)
        if not top or top[0].tag != TAG_POINTERS:
            raise MalformedCardData("pointer file does not start with tag E0")
        inner = top[0].children()
        apps: dict[bytes, bytes] = {}
        files: list[tuple[str, bytes, int]] = []
        for item in inner:
            if item.tag == TAG_APPS:
                for app in item.children():
                    if app.tag == TAG_APP_ENTRY and len(app.value) > 4:
                        apps[app.value[:2]] = app.value[4:]
            elif item.tag == TAG_FILE_ENTRY:
                if len(item.value) != 12:
                    raise MalformedCardData("pointer file entry is not 12 bytes")
                name = decode_text(item.value[:8]).strip()
                ef = int.from_bytes(item.value[10:12], "big")
                files.append((name, item.value[8:10], ef))
    except TlvError as exc:
        raise MalformedCardData(f"pointer file is not valid BER-TLV: {exc}") from None
    entries = []
    for name, entry, ef in files:
        if entry not in apps:
            raise MalformedCardData(f"pointer file names an unknown application for {name}")
        entries.append(FileEntry(name, apps[entry], ef))
    return entries


# --- data files -------------------------------------------------------------------


def _text(value: str) -> bytes:
    return value.encode("utf-8")


def encode_card_file(card: VitaleCard) -> bytes:
    return encode_tlv(
        TAG_CARD,
        encode_tlv(C_VALID_FROM, _text(card.valid_from)) + encode_tlv(C_SERIAL, _text(card.serial)),
    ) + encode_tlv(
        TAG_INSURANCE,
        encode_tlv(I_REGIME, _text(card.regime))
        + encode_tlv(I_CAISSE, _text(card.caisse))
        + encode_tlv(I_CENTRE, _text(card.centre))
        + encode_tlv(I_HOLDER_NIR, _text(card.holder_nir)),
    )


def encode_beneficiary(b: Beneficiary) -> bytes:
    body = encode_tlv(B_QUALITY, _text(b.quality))
    if b.nir is not None:
        body += encode_tlv(B_NIR, _text(b.nir))
    body += (
        encode_tlv(B_LAST_NAME, _text(b.last_name))
        + encode_tlv(B_BIRTH_NAME, _text(b.birth_name))
        + encode_tlv(B_FIRST_NAME, _text(b.first_name))
        + encode_tlv(B_BIRTH_DATE, _text(b.birth_date))
        + encode_tlv(B_BIRTH_RANK, bytes([b.birth_rank]))
    )
    return encode_tlv(TAG_BENEFICIARY, body)


def encode_beneficiaries_file(card: VitaleCard) -> bytes:
    return b"".join(encode_beneficiary(b) for b in card.beneficiaries)


def _fields(obj: Tlv) -> dict[int, bytes]:
    fields: dict[int, bytes] = {}
    for child in obj.children():
        fields.setdefault(child.tag, child.value)
    return fields


def _required(fields: dict[int, bytes], tag: int, what: str) -> str:
    if tag not in fields:
        raise MalformedCardData(f"{what}: missing data object {tag:02X}")
    return decode_text(fields[tag])


def decode_beneficiary(obj: Tlv, index: int) -> Beneficiary:
    what = f"beneficiary {index + 1}"
    f = _fields(obj)
    rank = f.get(B_BIRTH_RANK, b"\x01")
    if len(rank) != 1:
        raise MalformedCardData(f"{what}: birth rank is not one byte")
    return Beneficiary(
        quality=_required(f, B_QUALITY, what),
        nir=decode_text(f[B_NIR]) if B_NIR in f else None,
        last_name=_required(f, B_LAST_NAME, what),
        birth_name=decode_text(f[B_BIRTH_NAME]) if B_BIRTH_NAME in f else "",
        first_name=_required(f, B_FIRST_NAME, what),
        birth_date=_required(f, B_BIRTH_DATE, what),
        birth_rank=rank[0],
    )


def decode_card(card_file: bytes, beneficiaries_file: bytes) -> VitaleCard:
    """Build a :class:`VitaleCard` from the two data files; raises MalformedCardData only."""
    try:
        card_objs = {t.tag: t for t in parse_tlv(card_file)}
        if TAG_CARD not in card_objs or TAG_INSURANCE not in card_objs:
            raise MalformedCardData("card file lacks the card (66) or insurance (67) object")
        card = _fields(card_objs[TAG_CARD])
        insurance = _fields(card_objs[TAG_INSURANCE])
        beneficiaries = tuple(
            decode_beneficiary(obj, i)
            for i, obj in enumerate(
                t for t in parse_tlv(beneficiaries_file) if t.tag == TAG_BENEFICIARY
            )
        )
        return VitaleCard(
            serial=_required(card, C_SERIAL, "card"),
            valid_from=_required(card, C_VALID_FROM, "card"),
            holder_nir=_required(insurance, I_HOLDER_NIR, "insurance"),
            regime=_required(insurance, I_REGIME, "insurance"),
            caisse=_required(insurance, I_CAISSE, "insurance"),
            centre=_required(insurance, I_CENTRE, "insurance"),
            beneficiaries=beneficiaries,
        )
    except TlvError as exc:
        raise MalformedCardData(f"card data is not valid BER-TLV: {exc}") from None
