"""The pharmacist code is kept as a salted hash; checks are exact and constant-time."""

from __future__ import annotations

import pytest

from kiosk.config import ConfigError, parse_config
from kiosk.core.pharmacist_code import code_matches, hash_code


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
    for bad in ("2468", "pbkdf2-sha256$x$AA==$AA==", stored.replace("$20000$", "$99999999$"),
                stored[:-4] + "!!!=", stored.replace("pbkdf2-sha256", "md5")):  # fmt: skip
        with pytest.raises(ConfigError, match="pharmacist_code_hash: expected pbkdf2-sha256"):
            parse_config({"kiosk": {"pharmacist_code_hash": bad}})
