"""Carte Vitale 2 emulator: the layout of :mod:`kiosk.hardware.vitale_layout`, no PIN."""

from __future__ import annotations

from kiosk.hardware.apdu import encode_tlv
from kiosk.hardware.cards import VitaleCard
from kiosk.hardware.vitale_layout import (
    AID_MF_VITALE,
    AID_VITALE,
    DEFAULT_EF_IDS,
    EF_POINTERS,
    FILE_BENEFICIARIES,
    FILE_CARD,
    encode_beneficiaries_file,
    encode_card_file,
    encode_pointers,
)
from kiosk.sim.emulators.emulated_card import Application, ElementaryFile, EmulatedCard

# One of the Vitale 2 ATRs seen in the field (3B 75 13 00 00 4x 09 EA 90 00).
VITALE_ATR = bytes.fromhex("3B751300004709EA9000")
EF_DIR = 0x2F00


class VitaleEmulator(EmulatedCard):
    atr = VITALE_ATR

    def __init__(self, card: VitaleCard) -> None:
        self.card = card
        card_ef, benef_ef = DEFAULT_EF_IDS[FILE_CARD], DEFAULT_EF_IDS[FILE_BENEFICIARIES]
        pointers = encode_pointers(
            {1: AID_VITALE, 2: AID_MF_VITALE},
            [(FILE_CARD, 1, card_ef), (FILE_BENEFICIARIES, 1, benef_ef)],
        )
        vitale = Application(
            AID_VITALE,
            {
                EF_POINTERS: ElementaryFile(pointers),
                card_ef: ElementaryFile(encode_card_file(card)),
                benef_ef: ElementaryFile(encode_beneficiaries_file(card)),
            },
        )
        # MF_VITALE's EF.DIR lists the applications (ISO 7816-4 templates) [A].
        directory = encode_tlv(0x61, encode_tlv(0x4F, AID_VITALE) + encode_tlv(0x50, b"VITALE"))
        mf = Application(AID_MF_VITALE, {EF_DIR: ElementaryFile(directory)})
        super().__init__([vitale, mf])
