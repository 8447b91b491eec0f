"""read_vitale() driven through an emulator by an in-test channel (pure: no PC/SC)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from kiosk.hardware.apdu import INS_READ_BINARY, INS_SELECT
from kiosk.hardware.card_errors import CardStatusError, MalformedCardData
from kiosk.hardware.cards import VitaleCard, vitale_from_profile, vitale_to_profile
from kiosk.hardware.vitale import read_vitale
from kiosk.hardware.vitale_layout import AID_VITALE, EF_POINTERS, encode_pointers
from kiosk.sim.data import CARDS_DIR
from kiosk.sim.emulators.emulated_card import ElementaryFile
from kiosk.sim.emulators.vitale_emulator import VitaleEmulator
from tests.integration.strategies import vitale_profiles
from tests.unit.doubles import EmulatorChannel

CARDS = CARDS_DIR
PROFILES = sorted(CARDS.glob("vitale-*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def martin() -> VitaleCard:
    return vitale_from_profile(load(CARDS / "vitale-famille-martin.json"))


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_read_vitale_returns_the_profile(path: Path) -> None:
    profile = load(path)
    channel = EmulatorChannel(VitaleEmulator(vitale_from_profile(profile)))
    assert vitale_to_profile(read_vitale(channel)) == profile
    assert channel.count(INS_SELECT) == 4  # application, pointer file, two data files
    assert all(apdu[0] == 0x00 for apdu in channel.sent)


@settings(max_examples=50)
@given(vitale_profiles())
def test_read_vitale_generated(profile: dict[str, Any]) -> None:
    channel = EmulatorChannel(VitaleEmulator(vitale_from_profile(profile)))
    assert vitale_to_profile(read_vitale(channel)) == profile


def test_read_vitale_reads_long_files_in_chunks() -> None:
    channel = EmulatorChannel(VitaleEmulator(martin()))
    read_vitale(channel)
    reads = [apdu for apdu in channel.sent if apdu[1] == INS_READ_BINARY]
    assert all(apdu[4] == 0x00 for apdu in reads)  # Le 256
    assert bytes.fromhex("00B0010000") in reads  # a second chunk at offset 256


def test_read_vitale_file_of_exactly_256_bytes() -> None:
    """A file ending on a chunk boundary: the third READ BINARY answers 6B00."""
    card = martin()
    emulator = VitaleEmulator(card)
    files = emulator.applications[AID_VITALE].files
    benef = files[0x2004].data
    assert 256 < len(benef) < 512
    files[0x2004] = ElementaryFile(benef.ljust(512, b"\x00"))  # 00 padding is skipped
    channel = EmulatorChannel(emulator)
    assert read_vitale(channel) == card
    assert channel.sent[-1] == bytes.fromhex("00B0020000")  # offset 512: 6B00, end of file


def test_read_vitale_finds_files_through_the_pointer_file() -> None:
    card = martin()
    emulator = VitaleEmulator(card)
    files = emulator.applications[AID_VITALE].files
    files[0x3002], files[0x3004] = files.pop(0x2002), files.pop(0x2004)
    files[EF_POINTERS] = ElementaryFile(
        encode_pointers({7: AID_VITALE}, [("CARTE", 7, 0x3002), ("BENEF", 7, 0x3004)])
    )
    assert read_vitale(EmulatorChannel(emulator)) == card


@pytest.mark.parametrize("missing", ["CARTE", "BENEF"])
def test_read_vitale_pointer_file_without_a_data_file(missing: str) -> None:
    emulator = VitaleEmulator(martin())
    entries = [(n, 1, ef) for n, ef in (("CARTE", 0x2002), ("BENEF", 0x2004)) if n != missing]
    emulator.applications[AID_VITALE].files[EF_POINTERS] = ElementaryFile(
        encode_pointers({1: AID_VITALE}, entries)
    )
    with pytest.raises(MalformedCardData, match=missing):
        read_vitale(EmulatorChannel(emulator))


def test_read_vitale_pointer_to_a_missing_ef() -> None:
    emulator = VitaleEmulator(martin())
    del emulator.applications[AID_VITALE].files[0x2004]
    with pytest.raises(CardStatusError) as caught:
        read_vitale(EmulatorChannel(emulator))
    assert caught.value.sw == 0x6A82


@pytest.mark.parametrize("where", ["holder", "beneficiary"])
def test_read_vitale_invalid_nir_key_is_malformed(where: str) -> None:
    card = martin()
    good = card.holder_nir
    bad = good[:13] + f"{int(good[13:]) % 97 + 1:02d}"
    if where == "holder":
        card = dataclasses.replace(card, holder_nir=bad)
    else:
        people = list(card.beneficiaries)
        people[1] = dataclasses.replace(people[1], nir=bad)
        card = dataclasses.replace(card, beneficiaries=tuple(people))
    with pytest.raises(MalformedCardData) as caught:
        read_vitale(EmulatorChannel(VitaleEmulator(card)))
    assert "NIR" in str(caught.value)
    assert bad[:13] not in str(caught.value)  # privacy: the NIR is never in the message


def test_read_vitale_garbage_data_is_malformed() -> None:
    emulator = VitaleEmulator(martin())
    emulator.applications[AID_VITALE].files[0x2004] = ElementaryFile(b"\x65\x82\xff\xff")
    with pytest.raises(MalformedCardData):
        read_vitale(EmulatorChannel(emulator))


def test_read_vitale_on_a_card_without_the_application() -> None:
    emulator = VitaleEmulator(martin())
    emulator.applications.pop(AID_VITALE)
    with pytest.raises(CardStatusError) as caught:
        read_vitale(EmulatorChannel(emulator))
    assert caught.value.sw == 0x6A82
