"""The pharmacist code is kept as a salted hash; checks are exact and constant-time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kiosk.config import ConfigError, parse_config
from kiosk.core.pharmacist_code import (
    UPGRADE_FILE,
    PharmacistCode,
    code_matches,
    hash_code,
    hash_code_legacy,
    needs_upgrade,
)


def test_hash_round_trip_and_salting() -> None:
    one, two = hash_code("2468"), hash_code("2468")
    assert one != two  # salted
    assert "2468" not in one
    assert code_matches("2468", one)
    assert code_matches("2468", two)
    assert not code_matches("2469", one)
    assert not code_matches("24680", one)
    assert not code_matches("", one)


@pytest.mark.parametrize(
    "stored", ["", "plain", "md5$1$AA==$AA==", "pbkdf2-sha256$x$AA==$AA==", "pbkdf2-sha256$1$!$?"]
)
def test_a_malformed_hash_never_matches(stored: str) -> None:
    assert not code_matches("2468", stored)


@pytest.mark.parametrize("code", ["", "123", "123456789", "12a4", "١٢٣٤"])
def test_codes_are_4_to_8_ascii_digits(code: str) -> None:
    with pytest.raises(ValueError, match="4 to 8 digits"):
        hash_code(code)


def test_the_config_takes_only_a_hash() -> None:
    stored = hash_code("2468")
    config = parse_config({"kiosk": {"pharmacist_code_hash": stored}})
    assert code_matches("2468", config.kiosk.pharmacist_code_hash)
    legacy = hash_code_legacy("2468")
    assert parse_config({"kiosk": {"pharmacist_code_hash": legacy}}).kiosk.pharmacist_code_hash
    for bad in (
        "2468", "scrypt$x$8$1$AA==$AA==", stored.replace("$32768$", "$1024$"),  # too cheap
        stored.replace("$32768$", "$30000$"),  # not a power of two
        stored[:-4] + "!!!=", stored.replace("scrypt", "md5"),
        legacy.replace("$20000$", "$99999999$"), "pbkdf2-sha256$x$AA==$AA==",
    ):  # fmt: skip
        with pytest.raises(ConfigError, match="pharmacist_code_hash: expected scrypt"):
            parse_config({"kiosk": {"pharmacist_code_hash": bad}})


def test_the_hash_is_scrypt_and_costs_a_tenth_of_a_second_here() -> None:
    """Memory-hard and slow by design (N = 2**15, r = 8: 32 MiB a try); the README gives
    the figure measured on this machine and the Pi estimate."""
    stored = hash_code("2468")
    assert stored.startswith("scrypt$32768$8$1$")
    started = time.perf_counter()
    assert code_matches("2468", stored)
    assert time.perf_counter() - started > 0.02  # a fast hash would take microseconds
    assert not needs_upgrade(stored)
    assert needs_upgrade(hash_code_legacy("2468"))
    assert needs_upgrade(hash_code("2468", n=2**14))


def test_an_old_hash_is_upgraded_on_the_next_good_code(tmp_path: Path) -> None:
    legacy = hash_code_legacy("2468")
    check = PharmacistCode(legacy, tmp_path)
    assert not check.check("1357")
    assert not (tmp_path / UPGRADE_FILE).exists()  # a wrong code upgrades nothing
    assert check.check("2468")
    upgrade = tmp_path / UPGRADE_FILE
    assert upgrade.stat().st_mode & 0o777 == 0o600
    assert "2468" not in upgrade.read_text()
    again = PharmacistCode(legacy, tmp_path)  # a restart
    assert again.stored().startswith("scrypt$")
    assert again.check("2468")
    assert not again.check("1357")
    # a code provisioned anew (another config hash): the stale upgrade is not used
    fresh = PharmacistCode(hash_code_legacy("9753"), tmp_path)
    assert fresh.stored().startswith("pbkdf2-sha256$")
    assert fresh.check("9753")
    assert not fresh.check("2468")


def test_an_unwritable_state_dir_keeps_the_old_hash_working(tmp_path: Path) -> None:
    legacy = hash_code_legacy("2468")
    missing = tmp_path / "gone"
    check = PharmacistCode(legacy, missing)
    assert check.check("2468")  # logged, not raised
    assert check.check("2468")
