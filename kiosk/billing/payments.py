"""Payment statements (CSV from the CPAM / amelipro) and reconciliation. Pure.

Format (docs/architecture.md §3): ``;``-separated UTF-8 (a BOM is accepted), header
``date_paiement;reference;montant;periode_debut;periode_fin``, amounts written the French
way (``41,00``, ``1 244,00``), dates ``YYYY-MM-DD`` or ``DD/MM/YYYY``. A file with any
bad line is refused whole, with the line number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.billing.ledger import Payment
from kiosk.messages import MessageEnum

HEADER = ("date_paiement", "reference", "montant", "periode_debut", "periode_fin")
_AMOUNT = re.compile(r"(\d{1,3}(?:[ .]\d{3})+|\d+)(?:,(\d{1,2}))?")
_SPACES = str.maketrans("", "", "\u00a0\u202f\t")


class PaymentProblem(MessageEnum):
    """What is wrong with a payment file, for the pharmacist (the admin screen)."""

    HEADER = "payments.header"
    FIELDS = "payments.fields"
    DATE = "payments.date"
    AMOUNT = "payments.amount"
    REFERENCE = "payments.reference"
    PERIOD = "payments.period"
    DUPLICATE = "payments.duplicate"
    CONFLICT = "payments.conflict"  # already imported with other values (the ledger says)
    ENCODING = "payments.encoding"


class PaymentFileError(ValueError):
    """An English message for the CLI and the logs; ``problem`` and ``line`` for the admin."""

    def __init__(self, message: str, problem: PaymentProblem, line: int | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.line = line


def parse_amount(text: str) -> int:
    """``"1 244,00"`` → 124400 cents. Raises ValueError."""
    match = _AMOUNT.fullmatch(text.strip().translate(_SPACES).replace("€", "").strip())
    if not match:
        raise ValueError(f"amount {text!r} is not like 41,00")
    units = int(re.sub(r"[ .]", "", match.group(1)))
    cents = int((match.group(2) or "0").ljust(2, "0"))
    return units * 100 + cents


def parse_date(text: str) -> dt.date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or DD/MM/YYYY")


def parse_payments(text: str) -> list[Payment]:
    lines = text.removeprefix("\ufeff").splitlines()
    if not lines or tuple(h.strip() for h in lines[0].split(";")) != HEADER:
        raise PaymentFileError(
            f"line 1: the header must be {';'.join(HEADER)}", PaymentProblem.HEADER, 1
        )
    payments: list[Payment] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(";")
        if len(fields) != len(HEADER):
            raise PaymentFileError(
                f"line {number}: expected {len(HEADER)} fields, got {len(fields)}",
                PaymentProblem.FIELDS, number,
            )  # fmt: skip
        try:
            paid_on, start, end = (parse_date(fields[i]) for i in (0, 3, 4))
        except ValueError as exc:
            raise PaymentFileError(f"line {number}: {exc}", PaymentProblem.DATE, number) from None
        try:
            amount = parse_amount(fields[2])
        except ValueError as exc:
            raise PaymentFileError(f"line {number}: {exc}", PaymentProblem.AMOUNT, number) from None
        reference = fields[1].strip()
        if not reference or len(reference) > 64 or "\x1f" in reference or "\x1e" in reference:
            raise PaymentFileError(
                f"line {number}: the reference must be 1 to 64 characters",
                PaymentProblem.REFERENCE, number,
            )  # fmt: skip
        if end < start:
            raise PaymentFileError(
                f"line {number}: the period ends before it starts", PaymentProblem.PERIOD, number
            )
        if reference in seen:
            raise PaymentFileError(
                f"line {number}: reference {reference!r} already on line {seen[reference]}",
                PaymentProblem.DUPLICATE, number,
            )  # fmt: skip
        seen[reference] = number
        payments.append(
            Payment(paid_on.isoformat(), reference, amount, start.isoformat(), end.isoformat())
        )
    return payments


@dataclass(frozen=True, slots=True)
class PeriodBalance:
    period_start: str
    period_end: str
    openings: int
    due_cents: int
    paid_cents: int
    references: tuple[str, ...]

    @property
    def balance_cents(self) -> int:
        """Positive: still owed; negative: overpaid."""
        return self.due_cents - self.paid_cents


def reconcile(
    due_by_day: dict[str, tuple[int, int]], payments: Iterable[Payment]
) -> tuple[list[PeriodBalance], PeriodBalance | None]:
    """Per payment period: openings and amount due in it vs what was paid for it; and
    what no payment period covers yet. ``due_by_day``: day → (openings, due cents)."""
    periods: dict[tuple[str, str], list[Payment]] = {}
    for payment in payments:
        periods.setdefault((payment.period_start, payment.period_end), []).append(payment)
    covered: set[str] = set()
    balances = []
    for (start, end), group in sorted(periods.items()):
        days = [d for d in due_by_day if start <= d <= end]
        covered.update(days)
        balances.append(
            PeriodBalance(
                start, end,
                openings=sum(due_by_day[d][0] for d in days),
                due_cents=sum(due_by_day[d][1] for d in days),
                paid_cents=sum(p.amount_cents for p in group),
                references=tuple(sorted(p.reference for p in group)),
            )
        )  # fmt: skip
    rest = sorted(d for d in due_by_day if d not in covered)
    unpaid = None
    if rest:
        unpaid = PeriodBalance(
            rest[0], rest[-1],
            openings=sum(due_by_day[d][0] for d in rest),
            due_cents=sum(due_by_day[d][1] for d in rest),
            paid_cents=0, references=(),
        )  # fmt: skip
    return balances, unpaid
