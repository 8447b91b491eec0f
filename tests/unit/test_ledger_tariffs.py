"""tariffs.py, pure: dated tariffs in cents, applied from their date inclusive."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.billing.tariffs import (
    DEFAULT_TARIFFS,
    DMP_OPEN,
    DMP_REACTIVATE,
    Tariff,
    TariffError,
    TariffSchedule,
)

START = dt.date(2018, 11, 6)


def test_defaults_pay_one_euro_per_opening_and_nothing_per_reactivation() -> None:
    schedule = TariffSchedule()
    assert schedule.act_codes == {DMP_OPEN, DMP_REACTIVATE}
    assert schedule.cents(DMP_OPEN, START) == 100
    assert schedule.cents(DMP_OPEN, dt.date(2030, 1, 1)) == 100
    assert schedule.cents(DMP_REACTIVATE, dt.date(2024, 6, 1)) == 0


@pytest.mark.parametrize("code", ["DMP_CLOSE", "dmp_open", "", "VACCINATION"])
def test_an_unknown_act_is_an_error(code: str) -> None:
    with pytest.raises(TariffError, match="unknown act code"):
        TariffSchedule().cents(code, dt.date(2024, 1, 1))


@pytest.mark.parametrize("day", [START - dt.timedelta(days=1), dt.date(2017, 7, 20)])
def test_before_the_first_date_is_an_error_not_zero(day: dt.date) -> None:
    with pytest.raises(TariffError, match="no tariff before 2018-11-06"):
        TariffSchedule().cents(DMP_OPEN, day)


CHANGE = dt.date(2024, 7, 1)


@pytest.mark.parametrize(
    ("day", "cents"),
    [
        (START, 100),
        (CHANGE - dt.timedelta(days=1), 100),
        (CHANGE, 250),
        (CHANGE + dt.timedelta(days=1), 250),
        (dt.date(2040, 1, 1), 250),
    ],
)
def test_a_change_applies_from_its_date_inclusive(day: dt.date, cents: int) -> None:
    schedule = TariffSchedule().with_change(DMP_OPEN, CHANGE, 250)
    assert schedule.cents(DMP_OPEN, day) == cents
    assert schedule.cents(DMP_REACTIVATE, day) == 0  # other acts untouched


def test_with_change_leaves_the_original_schedule_alone() -> None:
    original = TariffSchedule()
    original.with_change(DMP_OPEN, CHANGE, 250)
    assert original.cents(DMP_OPEN, CHANGE) == 100


def test_several_changes_each_hold_until_the_next() -> None:
    schedule = (
        TariffSchedule()
        .with_change(DMP_OPEN, dt.date(2022, 1, 1), 0)
        .with_change(DMP_OPEN, dt.date(2020, 1, 1), 300)
    )
    assert schedule.cents(DMP_OPEN, dt.date(2019, 12, 31)) == 100
    assert schedule.cents(DMP_OPEN, dt.date(2020, 1, 1)) == 300
    assert schedule.cents(DMP_OPEN, dt.date(2021, 12, 31)) == 300
    assert schedule.cents(DMP_OPEN, dt.date(2022, 1, 1)) == 0


def test_a_change_on_an_existing_date_replaces_it() -> None:
    schedule = TariffSchedule().with_change(DMP_OPEN, START, 150)
    assert schedule.cents(DMP_OPEN, START) == 150
    assert schedule.with_change(DMP_OPEN, START, 175).cents(DMP_OPEN, START) == 175


def test_a_new_act_is_a_new_row() -> None:
    schedule = TariffSchedule().with_change("VACCINATION", dt.date(2023, 1, 1), 750)
    assert schedule.cents("VACCINATION", dt.date(2023, 1, 1)) == 750
    with pytest.raises(TariffError):
        schedule.cents("VACCINATION", dt.date(2022, 12, 31))


def test_negative_tariffs_and_two_starts_on_one_day_are_refused() -> None:
    with pytest.raises(TariffError, match="negative"):
        TariffSchedule([Tariff(DMP_OPEN, START, -1)])
    with pytest.raises(TariffError, match="same day"):
        TariffSchedule([*DEFAULT_TARIFFS, Tariff(DMP_OPEN, START, 200)])
    with pytest.raises(TariffError, match="negative"):
        TariffSchedule().with_change(DMP_OPEN, CHANGE, -100)


def test_rows_may_come_in_any_order() -> None:
    schedule = TariffSchedule(
        [Tariff(DMP_OPEN, dt.date(2025, 1, 1), 200), Tariff(DMP_OPEN, dt.date(2019, 1, 1), 100)]
    )
    assert schedule.cents(DMP_OPEN, dt.date(2024, 12, 31)) == 100
    assert schedule.cents(DMP_OPEN, dt.date(2025, 1, 1)) == 200
