"""`kiosk card read` through pcscd + vpcd + our emulators: round trips and clear errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kiosk.sim.emulators.emulated_card import Application, EmulatedCard
from tests.conftest import InsertCard, load_profile, run_kiosk, shipped_profiles

pytestmark = pytest.mark.pcsc


def read_json(*args: str) -> dict[str, Any]:
    result = run_kiosk("card", "read", "--json", *args)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def one_line_error(*args: str, env: dict[str, str] | None = None) -> str:
    result = run_kiosk("card", "read", *args, env=env)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, never a traceback
    return lines[0]


@pytest.mark.parametrize("name", shipped_profiles("vitale"))
def test_vitale_profile_round_trips(insert_card: InsertCard, name: str) -> None:
    profile = load_profile(name)
    insert_card(profile, slot=0)
    assert read_json("--reader", "patient") == profile


@pytest.mark.parametrize("name", shipped_profiles("cps"))
def test_cps_profile_round_trips_without_pin(insert_card: InsertCard, name: str) -> None:
    profile = load_profile(name)
    insert_card(profile, slot=1)
    expected = {k: v for k, v in profile.items() if k != "pin"}
    assert read_json("--reader", "professional", "--pin", profile["pin"]) == expected


def test_roles_follow_the_card_not_the_slot(insert_card: InsertCard) -> None:
    vitale, cps = (
        load_profile("vitale-famille-martin.json"),
        load_profile("cps-dupont-titulaire.json"),
    )
    insert_card(cps, slot=0)
    insert_card(vitale, slot=1)
    assert read_json("--reader", "patient")["serial"] == vitale["serial"]
    assert read_json("--reader", "professional", "--pin", cps["pin"])["rpps"] == cps["rpps"]
    assert read_json("--reader", "Virtual PCD 00 01")["card"] == "vitale"


def test_config_pins_a_role_to_a_reader(insert_card: InsertCard, tmp_path: Any) -> None:
    insert_card(load_profile("cps-dupont-titulaire.json"), slot=0)
    config = tmp_path / "kiosk.toml"
    config.write_text('[readers]\npatient = "Virtual PCD 00 00"\n')
    line = one_line_error("--reader", "patient", "--config", str(config))
    assert "cps card is in the patient reader" in line


def test_no_card(pcscd: object) -> None:
    assert "no Carte Vitale in any reader" in one_line_error("--reader", "patient")
    assert "no CPS in any reader" in one_line_error("--reader", "professional")


class ForeignCard(EmulatedCard):
    atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")  # a contactless badge


def test_unknown_card_is_named_not_crashed(insert_card: InsertCard) -> None:
    insert_card(ForeignCard([Application(b"\xa0\x00")]), slot=0)
    assert "not recognised" in one_line_error("--reader", "patient")
    assert "card not recognised" in one_line_error("--reader", "Virtual PCD 00 00")


def test_mute_card_times_out_cleanly(insert_card: InsertCard) -> None:
    insert_card(load_profile("vitale-famille-martin.json"), slot=0, mute=True)
    line = one_line_error("--reader", "patient", "--timeout", "1.5")
    assert "did not answer within 1.5 s" in line


def test_wrong_pin_says_tries_left_then_blocked(insert_card: InsertCard) -> None:
    profile = load_profile("cps-dupont-titulaire.json")
    insert_card(profile, slot=1)
    args = ("--reader", "professional", "--pin", "0000")
    assert "2 tries left" in one_line_error(*args)
    assert "1 try left" in one_line_error(*args)
    assert "blocked" in one_line_error(*args)
    # blocked for good: even the right PIN is refused, and no try is counted below zero
    assert "blocked" in one_line_error("--reader", "professional", "--pin", profile["pin"])


def test_cps_without_pin_asks_for_it(insert_card: InsertCard) -> None:
    insert_card(load_profile("cps-dupont-titulaire.json"), slot=1)
    assert "needs the PIN (3 tries left)" in one_line_error("--reader", "professional")


def test_pcscd_not_running() -> None:
    # pcsc-lite's client library honours PCSCLITE_CSOCK_NAME: point it at no daemon.
    line = one_line_error("--reader", "patient", env={"PCSCLITE_CSOCK_NAME": "/nonexistent"})
    assert "pcscd is not running" in line


def test_corrupt_config_is_one_line(tmp_path: Any) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("[readers]\npatiant = 3\n")
    line = one_line_error("--config", str(config))
    assert "unknown key 'patiant'" in line
    assert "did you mean 'patient'" in line
