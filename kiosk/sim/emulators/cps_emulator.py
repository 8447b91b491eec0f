"""CPS3 emulator: IAS application, public and PIN-protected identity files, CHV 1."""

from __future__ import annotations

from kiosk.hardware.apdu import (
    INS_VERIFY,
    SW_OK,
    SW_PIN_BLOCKED,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    Apdu,
    Response,
)
from kiosk.hardware.cards import CPS_PIN_MAX_TRIES, CpsCard
from kiosk.hardware.cps_layout import (
    AID_IAS,
    EF_IDENTITY,
    EF_PUBLIC,
    PIN_REFERENCE,
    encode_identity,
    encode_public,
)
from kiosk.sim.emulators.emulated_card import Application, ElementaryFile, EmulatedCard

CPS3_ATR = bytes.fromhex("3BAC00402A001225006480000310009000")


class CpsEmulator(EmulatedCard):
    atr = CPS3_ATR

    def __init__(self, card: CpsCard, pin: str) -> None:
        self.card = card
        self.pin = pin.encode("ascii")
        self.tries_left = card.pin_tries_left  # survives power cycles, like the real counter
        self.verified = False
        app = Application(
            AID_IAS,
            {
                EF_PUBLIC: ElementaryFile(encode_public(card)),
                EF_IDENTITY: ElementaryFile(encode_identity(card), protected=True),
            },
        )
        super().__init__([app])

    def power_on(self) -> None:
        super().power_on()
        self.verified = False

    def is_verified(self) -> bool:
        return self.verified

    def handle(self, apdu: Apdu) -> Response:
        if apdu.ins == INS_VERIFY:
            return self.verify(apdu)
        return super().handle(apdu)

    def verify(self, apdu: Apdu) -> Response:
        if apdu.p1 != 0x00 or apdu.p2 != PIN_REFERENCE:
            return Response(b"", SW_WRONG_P1P2)
        if self.tries_left == 0:
            return Response(b"", SW_PIN_BLOCKED)
        if not apdu.data:  # state query: no try is used
            return Response(b"", SW_OK if self.verified else 0x63C0 | self.tries_left)
        if len(apdu.data) > 12:
            return Response(b"", SW_WRONG_LENGTH)
        if apdu.data.rstrip(b"\xff") == self.pin:
            self.tries_left, self.verified = CPS_PIN_MAX_TRIES, True
            return Response(b"", SW_OK)
        self.tries_left -= 1
        self.verified = False
        return Response(b"", 0x63C0 | self.tries_left if self.tries_left else SW_PIN_BLOCKED)
