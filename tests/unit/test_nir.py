"""NIR key rule, Corsica (2A -> 19, 2B -> 18) included."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hardware.nir import InvalidNir, is_valid_nir, nir_key, nir_number, validate_nir, with_key

VALID = [
    "180057512345627",
    "280057512345674",
    "178117505601256",
    "242023306302119",
    "250032A00402145",  # Corsica 2A
    "150202A00402176",
    "255082B03311708",  # Corsica 2B
    "180057512338697",  # key 97 (number divisible by 97) is written 97, not 00
]


@pytest.mark.parametrize("nir", VALID)
def test_valid_nirs(nir: str) -> None:
    validate_nir(nir)
    assert is_valid_nir(nir)
    assert with_key(nir[:13]) == nir


@pytest.mark.parametrize(
    ("body", "nir"),
    [
        ("250032A004021", "250032A00402145"),
        ("1800575123456", "180057512345627"),
        ("255082B033117", "255082B03311708"),
    ],
)
def test_with_key(body: str, nir: str) -> None:
    assert with_key(body) == nir


@pytest.mark.parametrize(
    ("body", "number"),
    [("250032A004021", 2500319004021), ("255082B033117", 2550818033117)],
)
def test_corsica_departments_are_replaced_for_the_computation(body: str, number: int) -> None:
    assert nir_number(body) == number
    assert nir_key(body) == 97 - number % 97


def test_key_97() -> None:
    body = "1800575123386"
    assert nir_number(body) % 97 == 0
    assert nir_key(body) == 97


INVALID: list[Any] = [
    "180057512345628",  # wrong key
    "180057512345600",  # key 00 never occurs
    "250032A00402146",  # wrong key, Corsica
    "18005751234562",  # 14 characters
    "1800575123456270",  # 16 characters
    "180057512345627\n",  # trailing newline
    " 180057512345627",
    "",
    "18005751234562A",  # letter in the key
    "1800X7512345627",  # letter in the body
    "250032a00402145",  # lower-case Corsica
    "250032C00402145",  # no department 2C
    "580057512345627",  # sex digit 5 does not exist
    "０80057512345627",  # full-width digit
    "١٨٠٠٥٧٥١٢٣٤٥٦٢٧",  # Arabic-Indic digits
    None,
    180057512345627,
]


@pytest.mark.parametrize("nir", INVALID)
def test_invalid_nirs(nir: Any) -> None:
    assert not is_valid_nir(nir)
    with pytest.raises(InvalidNir) as caught:
        validate_nir(nir)
    if isinstance(nir, str) and nir:
        assert nir.strip() not in str(caught.value)  # the message never holds the NIR


@pytest.mark.parametrize("body", ["", "123", "18005751234567", "1800X75123456", "١٨٠٠٥٧٥١٢٣٤٥٦"])
def test_with_key_rejects_bad_bodies(body: str) -> None:
    with pytest.raises(InvalidNir):
        with_key(body)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


bodies = st.builds(
    lambda sex, a, dept, b: sex + a + dept + b,
    st.sampled_from("123478"),
    _digits(4),
    _digits(2) | st.sampled_from(["2A", "2B"]),
    _digits(6),
)


@settings(max_examples=200)
@given(bodies)
def test_with_key_always_validates(body: str) -> None:
    nir = with_key(body)
    assert len(nir) == 15
    assert nir.startswith(body)
    validate_nir(nir)


@settings(max_examples=200)
@given(bodies, st.data())
def test_changing_any_single_digit_invalidates(body: str, data: st.DataObject) -> None:
    nir = with_key(body)
    position = data.draw(st.sampled_from([i for i, ch in enumerate(nir) if ch.isdigit()]))
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != nir[position]))
    changed = nir[:position] + digit + nir[position + 1 :]
    assert not is_valid_nir(changed)
