"""read_cps() driven through an emulator by an in-test channel (pure: no PC/SC).

The PIN rule under test: each call sends at most ONE VERIFY with data, so a wrong PIN
costs one try and is never retried."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiosk.hardware.apdu import INS_VERIFY
from kiosk.hardware.card_errors import InvalidPin, PinBlocked, PinRequired, PinWrong
from kiosk.hardware.cards import cps_from_profile, cps_to_profile
from kiosk.hardware.cps import pin_state, read_cps, verify_pin
from kiosk.sim.data import CARDS_DIR
from kiosk.sim.emulators.cps_emulator import CpsEmulator
from tests.unit.doubles import EmulatorChannel

CARDS = CARDS_DIR
PROFILES = sorted(CARDS.glob("cps-*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def channel_for(path: Path = PROFILES[0], tries: int = 3) -> EmulatorChannel:
    card, pin = cps_from_profile(load(path) | {"pin_tries_left": tries})
    return EmulatorChannel(CpsEmulator(card, pin))


def verifies_with_pin(channel: EmulatorChannel) -> int:
    """VERIFY commands carrying a PIN (the data-less state query costs no try)."""
    return sum(1 for a in channel.sent if a[1] == INS_VERIFY and len(a) > 4)


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_read_cps_with_the_right_pin(path: Path) -> None:
    profile = load(path)
    channel = channel_for(path)
    card = read_cps(channel, profile["pin"])
    assert cps_to_profile(card) == {k: v for k, v in profile.items() if k != "pin"}
    assert verifies_with_pin(channel) == 1


def test_right_pin_after_wrong_ones_reports_the_reset_counter() -> None:
    channel = channel_for(tries=1)
    assert read_cps(channel, "1234").pin_tries_left == 3


@pytest.mark.parametrize(("tries", "left"), [(3, 2), (2, 1)])
def test_wrong_pin_raises_pin_wrong_after_one_verify(tries: int, left: int) -> None:
    channel = channel_for(tries=tries)
    with pytest.raises(PinWrong) as caught:
        read_cps(channel, "9999")
    assert caught.value.tries_left == left
    assert channel.count(INS_VERIFY) == 1  # never retried
    assert "9999" not in str(caught.value)


def test_each_wrong_pin_call_costs_exactly_one_try() -> None:
    channel = channel_for()
    emulator = channel.card
    assert isinstance(emulator, CpsEmulator)
    for expected in (2, 1):
        with pytest.raises(PinWrong) as caught:
            read_cps(channel, "0000")
        assert caught.value.tries_left == expected
        assert emulator.tries_left == expected
    with pytest.raises(PinBlocked):
        read_cps(channel, "0000")
    assert channel.count(INS_VERIFY) == 3
    with pytest.raises(PinBlocked):
        read_cps(channel, "1234")  # blocked stays blocked


@pytest.mark.parametrize("pin", ["12a4", "abcd", "123", "123456789", "", "١٢٣٤", "12 34"])
def test_invalid_pin_sends_no_verify(pin: str) -> None:
    channel = channel_for()
    with pytest.raises(InvalidPin):
        read_cps(channel, pin)
    assert channel.count(INS_VERIFY) == 0
    with pytest.raises(InvalidPin):
        verify_pin(channel, pin)
    assert channel.count(INS_VERIFY) == 0


@pytest.mark.parametrize("tries", [3, 2, 1])
def test_read_cps_without_pin_needs_it(tries: int) -> None:
    channel = channel_for(tries=tries)
    with pytest.raises(PinRequired) as caught:
        read_cps(channel)
    assert caught.value.tries_left == tries
    assert verifies_with_pin(channel) == 0  # only the data-less state query was sent


def test_read_cps_without_pin_on_a_blocked_card() -> None:
    with pytest.raises(PinBlocked):
        read_cps(channel_for(tries=0))


def test_read_cps_without_pin_in_a_verified_session() -> None:
    channel = channel_for()
    read_cps(channel, "1234")
    card = read_cps(channel)
    assert card.last_name == "DUPONT"
    assert verifies_with_pin(channel) == 1


def test_pin_state() -> None:
    channel = channel_for(tries=2)
    channel.transmit_raw(bytes.fromhex("00A404000DE828BD080F8025000001FF001000"))
    assert pin_state(channel) == 2
    verify_pin(channel, "1234")
    assert pin_state(channel) is None
