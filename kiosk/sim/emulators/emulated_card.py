"""A minimal ISO 7816-4 card: applications selected by AID, transparent EFs selected by
id and read with READ BINARY. Subclasses add their own commands (VERIFY for the CPS)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.hardware.apdu import (
    INS_READ_BINARY,
    INS_SELECT,
    SW_CLA_NOT_SUPPORTED,
    SW_FILE_NOT_FOUND,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_SECURITY_STATUS,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    Apdu,
    ApduError,
    Response,
    encode_tlv,
)

SW_NO_CURRENT_EF = 0x6986
SW_FUNCTION_NOT_SUPPORTED = 0x6A81


@dataclass
class ElementaryFile:
    data: bytes
    protected: bool = False  # readable only once the PIN is verified


@dataclass
class Application:
    aid: bytes
    files: dict[int, ElementaryFile] = field(default_factory=dict)


class EmulatedCard:
    """Answers APDUs from an in-memory file system; state resets on power on."""

    atr: bytes = b""

    def __init__(self, applications: list[Application]) -> None:
        self.applications = {app.aid: app for app in applications}
        self.apdu_count = 0
        self.power_on()

    def power_on(self) -> None:
        self.current_app: Application | None = None
        self.current_ef: ElementaryFile | None = None

    def is_verified(self) -> bool:
        return False

    def process(self, raw: bytes) -> bytes:
        self.apdu_count += 1
        try:
            apdu = Apdu.parse(raw)
        except ApduError:
            return Response(b"", SW_WRONG_LENGTH).to_bytes()
        if apdu.cla != 0x00:
            return Response(b"", SW_CLA_NOT_SUPPORTED).to_bytes()
        return self.handle(apdu).to_bytes()

    def handle(self, apdu: Apdu) -> Response:
        if apdu.ins == INS_SELECT:
            return self.select(apdu)
        if apdu.ins == INS_READ_BINARY:
            return self.read_binary(apdu)
        return Response(b"", SW_INS_NOT_SUPPORTED)

    def select(self, apdu: Apdu) -> Response:
        want_fci = apdu.p2 & 0x0C == 0x00 and apdu.le is not None
        if apdu.p1 == 0x04:  # by DF name (AID)
            app = self.applications.get(apdu.data)
            if app is None:
                return Response(b"", SW_FILE_NOT_FOUND)
            self.current_app, self.current_ef = app, None
            fci = encode_tlv(0x6F, encode_tlv(0x84, app.aid))
            return Response(fci if want_fci else b"", SW_OK)
        if apdu.p1 in (0x00, 0x02):  # by file id, under the current DF
            if len(apdu.data) != 2:
                return Response(b"", SW_WRONG_LENGTH)
            ef_id = int.from_bytes(apdu.data, "big")
            ef = self.current_app.files.get(ef_id) if self.current_app else None
            if ef is None:
                return Response(b"", SW_FILE_NOT_FOUND)
            self.current_ef = ef
            fcp = encode_tlv(
                0x62,
                encode_tlv(0x80, len(ef.data).to_bytes(2, "big")) + encode_tlv(0x83, apdu.data),
            )
            return Response(fcp if want_fci else b"", SW_OK)
        return Response(b"", SW_WRONG_P1P2)

    def read_binary(self, apdu: Apdu) -> Response:
        if apdu.p1 & 0x80:  # short EF identifier: not supported by these cards
            return Response(b"", SW_FUNCTION_NOT_SUPPORTED)
        if self.current_ef is None:
            return Response(b"", SW_NO_CURRENT_EF)
        if self.current_ef.protected and not self.is_verified():
            return Response(b"", SW_SECURITY_STATUS)
        offset = (apdu.p1 << 8) | apdu.p2
        data = self.current_ef.data
        if offset > len(data) or (offset == len(data) and offset > 0):
            return Response(b"", SW_WRONG_P1P2)  # past the end (an empty file reads as empty)
        length = apdu.le if apdu.le is not None else 256
        return Response(data[offset : offset + length], SW_OK)
