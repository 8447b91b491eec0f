"""payments.py, pure: the CPAM statement CSV (French amounts, refused whole with the line
number) and the reconciliation of payments against what is due."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.billing.ledger import Payment
from kiosk.billing.payments import (
    PaymentFileError,
    PeriodBalance,
    parse_amount,
    parse_date,
    parse_payments,
    reconcile,
)

HEADER = "date_paiement;reference;montant;periode_debut;periode_fin"


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("41,00", 4100),
        ("41", 4100),
        ("41,5", 4150),
        ("41,05", 4105),
        ("0,01", 1),
        ("0", 0),
        ("1 244,00", 124400),
        ("1\u00a0244,00", 124400),
        ("1\u202f244,00", 124400),
        ("1.244,00", 124400),
        ("12 345 678,90", 1234567890),
        (" 41,00 ", 4100),
        ("41,00 €", 4100),
        ("1244", 124400),
    ],
)
def test_parse_amount_reads_french_amounts(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    "text",
    ["41.5", "41.00", "abc", "-3,00", "", "  ", ",50", "41,005", "1 24,00", "41,", "4 1", "+3"],
)
def test_parse_amount_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="is not like 41,00"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2025-04-15", dt.date(2025, 4, 15)),
        ("15/04/2025", dt.date(2025, 4, 15)),
        (" 2024-02-29 ", dt.date(2024, 2, 29)),
        ("01/01/2024", dt.date(2024, 1, 1)),
    ],
)
def test_parse_date_reads_both_forms(text: str, day: dt.date) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize(
    "text", ["2025-02-30", "2023-02-29", "15-04-2025", "2025/04/15", "15.04.2025", "", "demain"]
)
def test_parse_date_refuses_others(text: str) -> None:
    with pytest.raises(ValueError, match="is not YYYY-MM-DD or DD/MM/YYYY"):
        parse_date(text)


def test_parse_payments_reads_a_statement() -> None:
    text = (
        f"\ufeff{HEADER}\r\n"
        "15/04/2025;ROSP-2024-001;1 244,00;01/01/2024;31/12/2024\r\n"
        "\r\n"
        "2025-05-02; ROSP-2024-002 ;41,90;2024-01-01;2024-12-31\r\n"
    )
    assert parse_payments(text) == [
        Payment("2025-04-15", "ROSP-2024-001", 124400, "2024-01-01", "2024-12-31"),
        Payment("2025-05-02", "ROSP-2024-002", 4190, "2024-01-01", "2024-12-31"),
    ]


def test_a_header_alone_is_no_payment() -> None:
    assert parse_payments(HEADER + "\n") == []
    assert parse_payments("\ufeff" + HEADER) == []


GOOD = "2025-04-15;R1;41,00;2024-01-01;2024-12-31"


@pytest.mark.parametrize(
    ("body", "line", "why"),
    [
        (f"{GOOD}\n2025-04-15;R2;41.5;2024-01-01;2024-12-31", 3, "amount"),
        (f"{GOOD}\n2025-04-15;R2;abc;2024-01-01;2024-12-31", 3, "amount"),
        (f"{GOOD}\n2025-04-15;R2;-3,00;2024-01-01;2024-12-31", 3, "amount"),
        ("2025-04-15;R1;41,00;2024-01-01", 2, "expected 5 fields, got 4"),
        (f"{GOOD}\n\n2025-04-15;R2;41,00;2024-01-01;2024-12-31;x", 4, "got 6"),
        ("2025-13-15;R1;41,00;2024-01-01;2024-12-31", 2, "date"),
        (f"{GOOD}\n2025-04-15;R2;41,00;31/02/2024;2024-12-31", 3, "date"),
        ("2025-04-15;R1;41,00;2024-12-31;2024-01-01", 2, "ends before it starts"),
        (f"{GOOD}\n2025-04-16;R1;12,00;2024-01-01;2024-12-31", 3, "already on line 2"),
        (f"{GOOD}\n2025-04-15; ;41,00;2024-01-01;2024-12-31", 3, "reference"),
        (f"{GOOD}\n2025-04-15;{'R' * 65};41,00;2024-01-01;2024-12-31", 3, "reference"),
        (f"{GOOD}\n2025-04-15;R\x1f2;41,00;2024-01-01;2024-12-31", 3, "reference"),
    ],
)
def test_a_bad_line_refuses_the_file_naming_the_line(body: str, line: int, why: str) -> None:
    with pytest.raises(PaymentFileError, match=f"^line {line}: .*{why}"):
        parse_payments(f"{HEADER}\n{body}\n")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "date;reference;montant;periode_debut;periode_fin",
        "date_paiement,reference,montant,periode_debut,periode_fin",
        "reference;date_paiement;montant;periode_debut;periode_fin",
        "date_paiement;reference;montant;periode_debut",
        GOOD,
    ],
)
def test_a_wrong_header_is_line_one(header: str) -> None:
    with pytest.raises(PaymentFileError, match=r"^line 1: the header must be"):
        parse_payments(f"{header}\n{GOOD}\n")


def test_header_cells_may_be_padded() -> None:
    padded = " ; ".join(HEADER.split(";"))
    assert len(parse_payments(f"{padded}\n{GOOD}\n")) == 1


# -- reconcile -------------------------------------------------------------------------


def pay(reference: str, cents: int, start: str, end: str) -> Payment:
    return Payment("2025-04-15", reference, cents, start, end)


def test_reconcile_groups_payments_by_period_and_lists_the_uncovered_days() -> None:
    due = {
        "2023-12-31": (1, 100),
        "2024-01-01": (2, 200),
        "2024-06-30": (1, 100),
        "2024-12-31": (3, 300),
        "2025-01-01": (1, 150),
        "2025-03-10": (0, 0),
    }
    payments = [
        pay("B", 250, "2024-01-01", "2024-12-31"),
        pay("A", 300, "2024-01-01", "2024-12-31"),
        pay("C", 90, "2023-01-01", "2023-12-31"),
        pay("D", 0, "2026-01-01", "2026-12-31"),
    ]
    balances, unpaid = reconcile(due, payments)
    assert balances == [
        PeriodBalance("2023-01-01", "2023-12-31", 1, 100, 90, ("C",)),
        PeriodBalance("2024-01-01", "2024-12-31", 6, 600, 550, ("A", "B")),
        PeriodBalance("2026-01-01", "2026-12-31", 0, 0, 0, ("D",)),
    ]
    assert [b.balance_cents for b in balances] == [10, 50, 0]
    assert unpaid == PeriodBalance("2025-01-01", "2025-03-10", 1, 150, 0, ())


def test_reconcile_overpaid_is_negative_and_nothing_left_is_none() -> None:
    balances, unpaid = reconcile(
        {"2024-05-01": (1, 100)}, [pay("X", 4190, "2024-01-01", "2024-12-31")]
    )
    assert balances[0].balance_cents == 100 - 4190
    assert unpaid is None


def test_reconcile_with_no_payment_leaves_everything_unpaid() -> None:
    balances, unpaid = reconcile({"2024-05-01": (1, 100), "2024-02-01": (2, 200)}, [])
    assert balances == []
    assert unpaid == PeriodBalance("2024-02-01", "2024-05-01", 3, 300, 0, ())
    assert reconcile({}, []) == ([], None)


def test_overlapping_periods_each_count_their_days() -> None:
    balances, unpaid = reconcile(
        {"2024-06-15": (1, 100)},
        [pay("Y", 100, "2024-01-01", "2024-12-31"), pay("H", 50, "2024-06-01", "2024-06-30")],
    )
    assert [(b.period_start, b.due_cents, b.paid_cents) for b in balances] == [
        ("2024-01-01", 100, 100),
        ("2024-06-01", 100, 50),
    ]
    assert unpaid is None
