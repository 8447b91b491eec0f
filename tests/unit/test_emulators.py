"""The card emulators at APDU level, through ``process()`` (no vpcd, no socket)."""

from __future__ import annotations

import json

import pytest

from kiosk.hardware.cards import cps_from_profile, vitale_from_profile
from kiosk.hardware.roles import CardKind, classify_atr
from kiosk.hardware.vitale_layout import parse_pointers
from kiosk.sim.data import CARDS_DIR
from kiosk.sim.emulators.cps_emulator import CPS3_ATR, CpsEmulator
from kiosk.sim.emulators.emulated_card import Application, ElementaryFile, EmulatedCard
from kiosk.sim.emulators.vitale_emulator import VITALE_ATR, VitaleEmulator

CARDS = CARDS_DIR

SELECT_VITALE = "00A404000BD250000002564954414C4500"
SELECT_MF_VITALE = "00A404000ED2500000024D465F564954414C4500"
SELECT_EF_2001 = "00A4020002200100"
SELECT_IAS = "00A404000DE828BD080F8025000001FF001000"
SELECT_D001 = "00A4020002D00100"
SELECT_D002 = "00A4020002D00200"


def send(card: EmulatedCard, apdu: str) -> tuple[bytes, str]:
    answer = card.process(bytes.fromhex(apdu))
    return answer[:-2], answer[-2:].hex().upper()


def sw(card: EmulatedCard, apdu: str) -> str:
    return send(card, apdu)[1]


def read(offset: int, le: int = 0) -> str:
    return f"00B0{offset >> 8:02X}{offset & 0xFF:02X}{le:02X}"


def vitale() -> VitaleEmulator:
    profile = json.loads((CARDS / "vitale-famille-martin.json").read_text(encoding="utf-8"))
    return VitaleEmulator(vitale_from_profile(profile))


def cps(tries: int = 3) -> CpsEmulator:
    profile = json.loads((CARDS / "cps-dupont-titulaire.json").read_text(encoding="utf-8"))
    card, pin = cps_from_profile(profile | {"pin_tries_left": tries})
    return CpsEmulator(card, pin)


def verify(pin: str) -> str:
    data = pin.encode().hex().upper()
    return f"00200001{len(pin):02X}{data}"


VERIFY_STATE = "00200001"


# --- generic card -------------------------------------------------------------------


def big_card(size: int) -> EmulatedCard:
    data = bytes(i % 251 for i in range(size))
    return EmulatedCard([Application(b"\xa0\x01", {0x0101: ElementaryFile(data)})])


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 511, 512, 600, 1000])
def test_read_binary_in_256_byte_chunks(size: int) -> None:
    card = big_card(size)
    assert sw(card, "00A4040002A00100") == "9000"
    assert sw(card, "00A40200020101") == "9000"
    data = b""
    while True:
        chunk, status = send(card, read(len(data)))
        if status == "6B00":
            break
        assert status == "9000"
        data += chunk
        if len(chunk) < 256:
            break
    assert data == bytes(i % 251 for i in range(size))
    if size:
        assert sw(card, read(size)) == "6B00"  # at the end
        assert sw(card, read(size + 1)) == "6B00"  # past the end


def test_read_binary_honours_le() -> None:
    card = big_card(100)
    send(card, "00A4040002A00100")
    send(card, "00A40200020101")
    assert send(card, read(10, 5)) == (bytes(range(10, 15)), "9000")
    assert send(card, "00B00000") == (bytes(range(100)), "9000")  # no Le: up to 256


@pytest.mark.parametrize(
    ("apdu", "status"),
    [
        ("80A4040002A00100", "6E00"),  # CLA not 00
        ("FFB0000000", "6E00"),
        ("00CA000000", "6D00"),  # unknown INS
        ("0020000104" + "31323334", "6D00"),  # no VERIFY on a plain card
        ("00B0000000", "6986"),  # no current EF
        ("00B0810000", "6A81"),  # short EF identifier
        ("00A4040002A00200", "6A82"),  # unknown AID
        ("00A40200020101", "6A82"),  # EF before any application
        ("00A408000101", "6B00"),  # select by path: not supported
        ("00A40200030101" + "01", "6700"),  # EF id of 3 bytes
        ("00A4", "6700"),  # malformed APDU
        ("00A404000500", "6700"),  # Lc does not match
    ],
)
def test_generic_errors(apdu: str, status: str) -> None:
    assert sw(big_card(10), apdu) == status


def test_apdu_count_and_power_on() -> None:
    card = big_card(10)
    send(card, "00A4040002A00100")
    send(card, "00A40200020101")
    assert card.apdu_count == 2
    card.power_on()
    assert sw(card, read(0)) == "6986"  # selection forgotten


# --- Vitale -------------------------------------------------------------------------


def test_vitale_atr_is_a_vitale() -> None:
    assert classify_atr(VITALE_ATR) is CardKind.VITALE
    assert vitale().atr == VITALE_ATR


@pytest.mark.parametrize("select", [SELECT_VITALE, SELECT_MF_VITALE])
def test_vitale_selects_both_aids_and_returns_the_fci(select: str) -> None:
    aid = bytes.fromhex(select[10:-2])
    fci, status = send(vitale(), select)
    assert status == "9000"
    assert fci == bytes([0x6F, len(aid) + 2, 0x84, len(aid)]) + aid
    # P2=0C: no response data asked for, none given
    assert send(vitale(), select[:6] + "0C" + select[8:-2]) == (b"", "9000")


def test_select_ef_returns_its_size_in_the_fcp() -> None:
    card = vitale()
    send(card, SELECT_VITALE)
    fcp, status = send(card, SELECT_EF_2001)
    size = len(card.applications[bytes.fromhex(SELECT_VITALE[10:-2])].files[0x2001].data)
    assert status == "9000"
    assert fcp == bytes.fromhex("620880 02") + size.to_bytes(2, "big") + bytes.fromhex("83022001")


def test_mf_vitale_has_a_directory_listing_the_vitale_application() -> None:
    card = vitale()
    send(card, SELECT_MF_VITALE)
    assert sw(card, "00A40200022F0000") == "9000"
    data, status = send(card, read(0))
    assert status == "9000"
    assert bytes.fromhex(SELECT_VITALE[10:-2]) in data
    assert sw(card, "00A40200022F0200") == "6A82"  # PAN: not emulated


def test_vitale_pointer_file() -> None:
    card = vitale()
    assert sw(card, SELECT_VITALE) == "9000"
    assert sw(card, SELECT_EF_2001) == "9000"
    data, status = send(card, read(0))
    assert status == "9000"
    assert len(data) < 256
    names = {entry.name: entry.ef for entry in parse_pointers(data)}
    assert set(names) == {"CARTE", "BENEF"}
    assert sw(card, read(len(data))) == "6B00"
    for ef in names.values():
        assert sw(card, f"00A4020002{ef:04X}00") == "9000"


def test_vitale_reads_a_long_file_in_chunks() -> None:
    card = vitale()
    benef = card.applications[bytes.fromhex("D250000002564954414C45")].files[0x2004].data
    assert len(benef) > 256  # the Martin family spans several chunks
    send(card, SELECT_VITALE)
    send(card, "00A4020002200400")
    first, status1 = send(card, read(0))
    rest, status2 = send(card, read(256))
    assert (status1, status2) == ("9000", "9000")
    assert len(first) == 256
    assert len(rest) < 256
    assert first + rest == benef
    if len(benef) < 512:
        assert sw(card, read(512)) == "6B00"


@pytest.mark.parametrize(
    ("apdus", "status"),
    [
        ([SELECT_VITALE, "00A4020002999900"], "6A82"),  # unknown EF
        ([SELECT_MF_VITALE, SELECT_EF_2001], "6A82"),  # 2001 lives in VITALE, not MF_VITALE
        (["00A404000BD250000002564954414C4600"], "6A82"),  # unknown AID
        ([SELECT_VITALE, "80A4020002200100"], "6E00"),
        ([SELECT_VITALE, "00CA000000"], "6D00"),
        ([SELECT_VITALE, "0020000104" + "31323334"], "6D00"),  # no PIN on a Vitale
    ],
)
def test_vitale_errors(apdus: list[str], status: str) -> None:
    card = vitale()
    for apdu in apdus[:-1]:
        assert sw(card, apdu) == "9000"
    assert sw(card, apdus[-1]) == status


# --- CPS ----------------------------------------------------------------------------


def test_cps_atr_is_a_cps() -> None:
    assert classify_atr(CPS3_ATR) is CardKind.CPS


def selected_cps(tries: int = 3) -> CpsEmulator:
    card = cps(tries)
    assert sw(card, SELECT_IAS) == "9000"
    return card


def test_cps_public_file_needs_no_pin() -> None:
    card = selected_cps()
    assert sw(card, SELECT_D001) == "9000"
    data, status = send(card, read(0))
    assert status == "9000"
    assert data


def test_cps_identity_needs_the_pin() -> None:
    card = selected_cps()
    assert sw(card, SELECT_D002) == "9000"
    assert sw(card, read(0)) == "6982"
    assert sw(card, verify("1234")) == "9000"
    data, status = send(card, read(0))
    assert status == "9000"
    assert b"DUPONT" in data


def test_cps_wrong_pins_count_down_then_block() -> None:
    card = selected_cps()
    assert sw(card, verify("0000")) == "63C2"
    assert sw(card, verify("0000")) == "63C1"
    assert sw(card, verify("0000")) == "6983"
    assert sw(card, verify("1234")) == "6983"  # the right PIN does not unblock
    assert sw(card, VERIFY_STATE) == "6983"
    assert sw(card, verify("0000")) == "6983"
    assert card.tries_left == 0
    card.power_on()
    send(card, SELECT_IAS)
    assert sw(card, verify("1234")) == "6983"  # still blocked after a power cycle


def test_cps_right_pin_resets_the_counter() -> None:
    card = selected_cps()
    assert sw(card, verify("9999")) == "63C2"
    assert sw(card, verify("1234")) == "9000"
    assert card.tries_left == 3
    assert sw(card, verify("9999")) == "63C2"  # a full count again
    assert sw(card, VERIFY_STATE) == "63C2"  # a wrong PIN also drops the verified state


def test_cps_verify_without_data_tells_the_state() -> None:
    card = selected_cps()
    assert sw(card, VERIFY_STATE) == "63C3"
    assert card.tries_left == 3  # the query costs no try
    assert sw(card, verify("1234")) == "9000"
    assert sw(card, VERIFY_STATE) == "9000"


def test_cps_verify_state_with_fewer_tries() -> None:
    assert sw(selected_cps(tries=1), VERIFY_STATE) == "63C1"
    assert sw(selected_cps(tries=0), VERIFY_STATE) == "6983"


def test_cps_pin_padding_is_ignored() -> None:
    card = selected_cps()
    assert sw(card, "0020000108" + "31323334FFFFFFFF") == "9000"


@pytest.mark.parametrize(
    ("apdu", "status"),
    [
        ("0020000204" + "31323334", "6B00"),  # other PIN reference
        ("0020010104" + "31323334", "6B00"),
        ("002000010D" + "31" * 13, "6700"),  # too long
    ],
)
def test_cps_verify_errors_cost_no_try(apdu: str, status: str) -> None:
    card = selected_cps()
    assert sw(card, apdu) == status
    assert card.tries_left == 3


def test_cps_power_on_clears_verified_but_keeps_the_counter() -> None:
    card = selected_cps()
    assert sw(card, verify("0000")) == "63C2"
    assert sw(card, verify("1234")) == "9000"
    assert sw(card, verify("0000")) == "63C2"
    assert sw(card, verify("1234")) == "9000"
    card.power_on()
    assert sw(card, SELECT_IAS) == "9000"
    assert sw(card, VERIFY_STATE) == "63C3"  # not verified any more, counter kept
    assert sw(card, SELECT_D002) == "9000"
    assert sw(card, read(0)) == "6982"

    card = selected_cps()
    assert sw(card, verify("0000")) == "63C2"
    card.power_on()
    assert sw(card, VERIFY_STATE) == "63C2"  # the counter survives power cycles


@pytest.mark.parametrize(
    ("apdu", "status"),
    [
        ("00A404000BD250000002564954414C4500", "6A82"),  # no Vitale application
        ("00A4020002200100", "6A82"),  # no EF 2001 in the IAS application
        ("80200001", "6E00"),
        ("00CA000000", "6D00"),
    ],
)
def test_cps_errors(apdu: str, status: str) -> None:
    assert sw(selected_cps(), apdu) == status
