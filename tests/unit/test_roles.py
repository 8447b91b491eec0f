"""Card kind from the ATR, and which reader plays which role."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.roles import CardKind, Role, classify_atr, match_reader_name, reader_for_role

CPS3_ATR = "3BAC00402A001225006480000310009000"


def vitale_atr(x: int) -> str:
    return f"3B751300004{x:X}09EA9000"


@pytest.mark.parametrize("x", range(0x3, 0xD))
def test_vitale_atr_variants(x: int) -> None:
    assert classify_atr(bytes.fromhex(vitale_atr(x))) is CardKind.VITALE


@pytest.mark.parametrize("x", [0x0, 0x2, 0xD, 0xF])
def test_vitale_atr_out_of_range_is_unknown(x: int) -> None:
    assert classify_atr(bytes.fromhex(vitale_atr(x))) is CardKind.UNKNOWN


def test_cps3_atr() -> None:
    assert classify_atr(bytes.fromhex(CPS3_ATR)) is CardKind.CPS


@pytest.mark.parametrize(
    "atr",
    [
        "",
        "00",
        "3B",
        "3B751300004709EA90",  # truncated Vitale
        "3B751300004709EA900000",  # Vitale with a trailing byte
        "3B751300005709EA9000",  # 5x instead of 4x
        "3B751300004709EA6F00",
        CPS3_ATR[:-2],
        CPS3_ATR + "00",
        "3B8F8001804F0CA000000306030001000000006A",  # a contactless memory card
        "FF" * 33,
    ],
)
def test_other_atrs_are_unknown(atr: str) -> None:
    assert classify_atr(bytes.fromhex(atr)) is CardKind.UNKNOWN


KNOWN = {bytes.fromhex(CPS3_ATR)} | {bytes.fromhex(vitale_atr(x)) for x in range(3, 13)}


@settings(max_examples=200)
@given(st.binary(max_size=40))
def test_garbage_atrs_are_unknown(atr: bytes) -> None:
    kind = classify_atr(atr)
    assert kind is CardKind.UNKNOWN or atr in KNOWN


READERS = {
    "Kapelse 00 00": CardKind.CPS,
    "Kapelse 00 01": CardKind.VITALE,
    "Kapelse 00 02": CardKind.UNKNOWN,
}


@pytest.mark.parametrize(
    ("role", "inserted", "expected"),
    [
        (Role.PATIENT, READERS, "Kapelse 00 01"),
        (Role.PROFESSIONAL, READERS, "Kapelse 00 00"),
        (Role.PATIENT, {}, None),
        (Role.PATIENT, {"A": CardKind.CPS, "B": CardKind.UNKNOWN}, None),
        (Role.PATIENT, {"B": CardKind.VITALE, "A": CardKind.VITALE}, "A"),  # first by name
    ],
)
def test_reader_for_role_by_card(
    role: Role, inserted: dict[str, CardKind], expected: str | None
) -> None:
    assert reader_for_role(role, inserted) == expected
    assert reader_for_role(role, inserted, {}) == expected


def test_reader_for_role_override_wins() -> None:
    overrides = {Role.PATIENT: "Identiv 00 00"}
    assert reader_for_role(Role.PATIENT, READERS, overrides) == "Identiv 00 00"
    assert reader_for_role(Role.PATIENT, {}, overrides) == "Identiv 00 00"
    # an override for one role leaves the other to the ATR
    assert reader_for_role(Role.PROFESSIONAL, READERS, overrides) == "Kapelse 00 00"


NAMES = ["Virtual PCD 00 00", "Virtual PCD 00 01", "Kapelse eKap 00 00"]


@pytest.mark.parametrize(
    ("spec", "readers", "expected"),
    [
        ("Virtual PCD 00 01", NAMES, "Virtual PCD 00 01"),  # exact
        ("pcd 00 01", NAMES, "Virtual PCD 00 01"),  # unique substring, any case
        ("KAPELSE", NAMES, "Kapelse eKap 00 00"),
        ("Virtual", NAMES, None),  # ambiguous
        ("00 00", NAMES, None),  # ambiguous
        ("Identiv", NAMES, None),  # absent
        ("anything", [], None),
        ("Reader", ["Reader", "Reader 2"], "Reader"),  # exact beats ambiguous substring
    ],
)
def test_match_reader_name(spec: str, readers: list[str], expected: str | None) -> None:
    assert match_reader_name(spec, readers) == expected
