"""ISO 7816-4 command APDUs, status words and BER-TLV.

Pure code: no PC/SC, no sockets. Parsers raise only :class:`TlvError` (or
:class:`ApduError`) on any input, however malformed, so card data can never crash
the caller with an ``IndexError`` or ``UnicodeDecodeError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

# Status words used by the cards we speak to.
SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_STATUS = 0x6982
SW_PIN_BLOCKED = 0x6983
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_WRONG_DATA = 0x6A80

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_VERIFY = 0x20
INS_GET_RESPONSE = 0xC0
MAX_GET_RESPONSE = 64  # 64 x 256 bytes: far more than any file we read


class ApduError(ValueError):
    """A byte string is not a well-formed APDU or response."""


class TlvError(ValueError):
    """A byte string is not well-formed BER-TLV."""


@dataclass(frozen=True, slots=True)
class Apdu:
    """A short command APDU (cases 1 to 4)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le; 0..256 (0 and 256 both encode as 0x00)

    def to_bytes(self) -> bytes:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ApduError(f"{name} out of range: {value}")
        if len(self.data) > 255:
            raise ApduError("command data longer than 255 bytes")
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            if not 0 <= self.le <= 256:
                raise ApduError(f"Le out of range: {self.le}")
            out += bytes([self.le & 0xFF])
        return out

    @classmethod
    def parse(cls, raw: bytes) -> Apdu:
        """Parse a short APDU as a card sees it (used by the emulators)."""
        if len(raw) < 4:
            raise ApduError(f"APDU too short ({len(raw)} bytes)")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise ApduError("extended APDUs are not supported")
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, data=bytes(body[1:]))
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, data=bytes(body[1 : 1 + lc]), le=body[-1] or 256)
        raise ApduError(f"Lc={lc} does not match a body of {len(body)} bytes")


@dataclass(frozen=True, slots=True)
class Response:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ApduError(f"response too short ({len(raw)} bytes)")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")


def sw_tries_left(sw: int) -> int | None:
    """Tries left encoded in a ``63Cx`` status word, else None."""
    if sw & 0xFFF0 == 0x63C0:
        return sw & 0x0F
    return None


class Channel(Protocol):
    """Anything that carries raw APDUs to a card and back (PC/SC, a test double)."""

    def transmit_raw(self, apdu: bytes) -> bytes: ...


def transmit(channel: Channel, apdu: Apdu) -> Response:
    """Send ``apdu``, following ``61xx`` (GET RESPONSE) and ``6Cxx`` (wrong Le). A
    command carrying data is never sent twice (a VERIFY would spend a second PIN try):
    ``6Cxx`` is re-sent only for commands without data (case 1/2)."""
    response = Response.parse(channel.transmit_raw(apdu.to_bytes()))
    if response.sw >> 8 == 0x6C and not apdu.data:
        fixed = Apdu(apdu.cla, apdu.ins, apdu.p1, apdu.p2, apdu.data, response.sw & 0xFF or 256)
        response = Response.parse(channel.transmit_raw(fixed.to_bytes()))
    data = response.data
    for _ in range(MAX_GET_RESPONSE):
        if response.sw >> 8 != 0x61:
            return Response(data, response.sw)
        get = Apdu(apdu.cla & 0x03, INS_GET_RESPONSE, 0, 0, le=response.sw & 0xFF or 256)
        response = Response.parse(channel.transmit_raw(get.to_bytes()))
        data += response.data
    raise ApduError(f"the card kept answering 61xx after {MAX_GET_RESPONSE} GET RESPONSE")


# --- BER-TLV ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        first = self.tag
        while first > 0xFF:
            first >>= 8
        return bool(first & 0x20)

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive, it has no children")
        return parse_tlv(self.value)

    def find(self, tag: int) -> Tlv | None:
        """First direct child with ``tag``."""
        return next((t for t in self.children() if t.tag == tag), None)


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"truncated tag at offset {pos}")
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        for _ in range(3):
            if pos >= len(data):
                raise TlvError(f"truncated multi-byte tag at offset {pos}")
            byte = data[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
        else:
            raise TlvError("tag longer than 4 bytes")
    return tag, pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"truncated length at offset {pos}")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0 or count > 3:
        raise TlvError(f"unsupported length form {first:#04x} at offset {pos - 1}")
    if pos + count > len(data):
        raise TlvError(f"truncated length at offset {pos}")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def iter_tlv(data: bytes) -> Iterator[Tlv]:
    """Yield the TLV objects of ``data`` in order; 00/FF padding between them is skipped."""
    pos = 0
    while pos < len(data):
        if data[pos] in (0x00, 0xFF):
            pos += 1
            continue
        tag, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        if pos + length > len(data):
            raise TlvError(
                f"tag {tag:X} announces {length} bytes but only {len(data) - pos} remain"
            )
        yield Tlv(tag, bytes(data[pos : pos + length]))
        pos += length


def parse_tlv(data: bytes) -> list[Tlv]:
    return list(iter_tlv(data))


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    if length <= 0xFF:
        return bytes([0x81, length])
    if length <= 0xFFFF:
        return b"\x82" + length.to_bytes(2, "big")
    if length <= 0xFFFFFF:
        return b"\x83" + length.to_bytes(3, "big")
    raise TlvError(f"value too long for BER-TLV: {length} bytes")


def encode_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    return tag_bytes + encode_length(len(value)) + value


def decode_text(value: bytes) -> str:
    """Card text: UTF-8 when valid (our profiles), else Latin-1 (never raises)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")
