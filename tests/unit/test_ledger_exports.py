"""The exports' pure parts: French money, dates and month labels, the chart's series."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.billing.exports import _cell
from kiosk.billing.french import (
    decimal_comma,
    euros,
    french_date,
    group,
    month_label,
    short_label,
)
from kiosk.billing.payments import parse_amount
from kiosk.billing.summary import Bar, series


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0,00 €"),
        (1, "0,01 €"),
        (99, "0,99 €"),
        (100, "1,00 €"),
        (4100, "41,00 €"),
        (99999, "999,99 €"),
        (100000, "1 000,00 €"),
        (124400, "1 244,00 €"),
        (123456789, "1 234 567,89 €"),
        (-500, "-5,00 €"),
        (-1, "-0,01 €"),
        (-124400, "-1 244,00 €"),
    ],
)
def test_euros(cents: int, text: str) -> None:
    assert euros(cents) == text


def test_euros_without_the_euro_glyph() -> None:
    assert euros(124400, "EUR") == "1 244,00 EUR"


@given(st.integers(min_value=0, max_value=10**12))
def test_euros_reads_back_as_the_payment_files_amounts(cents: int) -> None:
    assert parse_amount(euros(cents)) == cents
    assert parse_amount(decimal_comma(cents)) == cents


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_decimal_comma_has_no_thousands_separator(cents: int) -> None:
    text = decimal_comma(cents)
    assert " " not in text
    assert round(float(text.replace(",", ".")) * 100) == cents


@pytest.mark.parametrize(
    ("number", "text"), [(0, "0"), (999, "999"), (1244, "1 244"), (-1000000, "-1 000 000")]
)
def test_group(number: int, text: str) -> None:
    assert group(number) == text


def test_dates_and_month_labels() -> None:
    assert french_date("2026-11-05") == "05/11/2026"
    assert month_label("2026-02") == "février 2026"
    assert month_label("2026-08") == "août 2026"
    assert month_label("2026") == "2026"
    assert short_label("2026-12") == ("déc.", "2026")
    assert short_label("2027") == ("2027", "")


def _month(key: str, n: int) -> dict[str, object]:
    return {"month": key, "openings": n, "amount_due_cents": 100 * n}


def test_series_fills_empty_months_with_zero() -> None:
    bars, per_year = series([_month("2026-11", 3), _month("2027-02", 5)])
    assert not per_year
    assert bars == [
        Bar("2026-11", 3, 300),
        Bar("2026-12", 0, 0),
        Bar("2027-01", 0, 0),
        Bar("2027-02", 5, 500),
    ]


def test_series_counts_per_year_beyond_the_limit() -> None:
    rows = [_month("2018-11", 1), _month("2019-06", 2), _month("2021-06", 4)]
    bars, per_year = series(rows, limit=12)
    assert per_year
    assert bars == [
        Bar("2018", 1, 100),
        Bar("2019", 2, 200),
        Bar("2020", 0, 0),
        Bar("2021", 4, 400),
    ]
    assert series(rows, limit=36)[1] is False  # 32 months fit


def test_series_of_nothing() -> None:
    assert series([]) == ([], False)


@pytest.mark.parametrize(
    ("text", "safe"),
    [("DMP_OPEN", "DMP_OPEN"), ("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+33", "'+33"),
     ("@SUM", "'@SUM"), ("-2+3", "'-2+3"), ("\tX", "'\tX"), ("\r=1", "'\r=1"), ("", "")],
)  # fmt: skip
def test_csv_cells_never_start_a_formula(text: str, safe: str) -> None:
    assert _cell(text) == safe


def test_the_workbook_never_holds_a_formula(tmp_path: Path) -> None:
    """Text that looks like a formula (a crafted RPPS or act code) stays text in the xlsx."""
    from openpyxl import load_workbook

    from kiosk.billing.exports import export_xlsx

    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE TABLE acts (day, act_code, status, amount_cents, rpps, duplicate_of, act_id,"
        " opened_utc)"
    )
    conn.execute(
        "INSERT INTO acts VALUES ('2026-12-01', '=HYPERLINK(\"http://x\")', 'confirmed', 100,"
        " '=1+1', '', '@SUM(A1)', '2026-12-01T09:00:00Z')"
    )
    out = tmp_path / "x.xlsx"
    assert export_xlsx(conn, out, None, None) == 1
    (row,) = load_workbook(out).active.iter_rows(min_row=2)
    assert [cell.data_type for cell in row if isinstance(cell.value, str)] == ["s"] * 7
    assert row[2].value == '=HYPERLINK("http://x")'
    assert row[6].value == "=1+1"
