"""What the screens show of card and contact data, and money, in both languages."""

from __future__ import annotations

import pytest

from kiosk.ui.formatting import (
    display_birth_date,
    masked,
    money,
    spaced_mobile,
    valid_email,
    valid_mobile,
)


@pytest.mark.parametrize(
    ("raw", "fr", "en"),
    [
        ("19800512", "12/05/1980", "12/05/1980"),
        ("19500000", "1950", "1950"),  # lunar: only the year is known
        ("20120400", "04/2012", "04/2012"),  # lunar day
        ("19800231", "02/1980", "02/1980"),  # impossible day
        ("00000000", "date inconnue", "unknown date"),
        ("2008AB23", "date inconnue", "unknown date"),
        ("", "date inconnue", "unknown date"),
    ],
)
def test_birth_dates_as_shown(raw: str, fr: str, en: str) -> None:
    assert display_birth_date(raw, "fr") == fr
    assert display_birth_date(raw, "en") == en


@pytest.mark.parametrize(
    ("cents", "fr", "en"),
    [(0, "0,00 €", "€0.00"), (124400, "1 244,00 €", "€1,244.00"), (-500, "-5,00 €", "-€5.00")],
)
def test_money_the_french_and_the_english_way(cents: int, fr: str, en: str) -> None:
    assert money(cents, "fr") == fr
    assert money(cents, "en") == en


def test_contact_entries() -> None:
    assert spaced_mobile("0612345678") == "06 12 34 56 78"
    assert spaced_mobile("061") == "06 1"
    assert valid_mobile("0712345678")
    assert not valid_mobile("0812345678")
    assert not valid_mobile("061234567")
    assert valid_email("jeanne.martin@exemple.fr")
    assert not valid_email("jeanne@")
    assert masked("2468") == "●●●●"
