"""The ledger against a model, over random sequences of journeys (begin, outcome,
uncertain then resolved, left pending), refusals, the same patient again, payments and
tariff changes: the report's figures, the duplicate rule, the unresolved acts, the
encrypted INS, verify() and the append-only chain hold after every step."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from kiosk.billing.chain import (
    ALREADY_EXISTED,
    CONFIRMED,
    FAILED,
    PENDING,
    REFUSED,
    UNCERTAIN,
    LedgerError,
)
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import KioskKeys
from kiosk.billing.ledger import Ledger, Payment
from kiosk.billing.reports import report
from kiosk.billing.tariffs import (
    DEFAULT_TARIFFS,
    DMP_OPEN,
    DMP_REACTIVATE,
    Tariff,
    TariffError,
    TariffSchedule,
)

PARIS = ZoneInfo("Europe/Paris")
VACCINATION = "VACCINATION"  # a paid act other than the opening: a new tariff row
VACCINATION_FROM = dt.date(2024, 4, 1)
FIRST_DAY, LAST_DAY = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
PATIENTS = ("180057512345627", "280057512345634", "190122A12345678", "299129912345601")
PHARMACISTS = ("10001234567", "10007654321")
KEYS = KioskKeys("kiosk-test", b"\x07" * 32, Ed25519PrivateKey.generate())
BASE = TariffSchedule([*DEFAULT_TARIFFS, Tariff(VACCINATION, VACCINATION_FROM, 750)])

days = st.integers(0, (LAST_DAY - FIRST_DAY).days).map(lambda n: FIRST_DAY + dt.timedelta(n))
# Around Paris midnight (22:00 or 23:00 UTC) the Paris day is not the UTC day.
times = st.sampled_from([0, 59, 60 * 21 + 59, 60 * 22, 60 * 22 + 30, 60 * 23, 60 * 23 + 59])
moments = st.builds(
    lambda day, minute: dt.datetime.combine(day, dt.time(), dt.UTC) + dt.timedelta(minutes=minute),
    days,
    times | st.integers(0, 24 * 60 - 1),
)
codes = st.sampled_from([DMP_OPEN, DMP_OPEN, DMP_REACTIVATE, VACCINATION])
patients = st.sampled_from(PATIENTS)
pharmacists = st.sampled_from(PHARMACISTS)
final = st.sampled_from([CONFIRMED, FAILED, ALREADY_EXISTED])


def consent(rpps: str) -> ConsentRecord:
    return ConsentRecord("v1", "ab" * 32, True, True, True, False, "fr", rpps)


@dataclass
class Act:
    code: str
    ins: str
    rpps: str
    day: dt.date
    status: str
    duplicate: bool = False
    cents: int = 0


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory(prefix="ledger-prop-")
        self.book: Ledger | None = None
        self.changes: dict[dt.date, int] = {}
        self.acts: dict[str, Act] = {}
        self.payments: dict[str, Payment] = {}
        self.seen_rows: list[tuple[Any, ...]] = []
        self.entries = 0

    # -- model --------------------------------------------------------------------------

    def tariff(self, code: str, day: dt.date) -> int:
        if code == DMP_REACTIVATE:
            return 0
        if code == VACCINATION:
            if day < VACCINATION_FROM:
                raise AssertionError("no tariff yet")
            return 750
        earlier = [d for d in self.changes if d <= day]
        return self.changes[max(earlier)] if earlier else 100

    def original_opening(self, ins: str) -> str | None:
        for act_id, act in self.acts.items():
            if (act.code, act.ins, act.status) == (DMP_OPEN, ins, CONFIRMED) and not act.duplicate:
                return act_id
        return None

    def open_ids(self) -> set[str]:
        return {i for i, a in self.acts.items() if a.status in (PENDING, UNCERTAIN)}

    def expected(self, low: dt.date, high: dt.date) -> dict[str, Any]:
        acts = [a for a in self.acts.values() if low <= a.day <= high]
        confirmed = [a for a in acts if a.status == CONFIRMED]
        openings = [a for a in confirmed if a.code == DMP_OPEN and not a.duplicate]
        due = sum(a.cents for a in confirmed)
        paid = sum(
            p.amount_cents
            for p in self.payments.values()
            if p.period_start >= low.isoformat() and p.period_end <= high.isoformat()
        )
        months: dict[str, list[int]] = {}
        for act in confirmed:
            if act not in openings and not act.cents:
                continue  # a duplicate or an unpaid act: no month of its own
            month = months.setdefault(act.day.isoformat()[:7], [0, 0])
            month[0] += act in openings
            month[1] += act.cents
        by_rpps: dict[str, int] = {}
        for act in openings:
            by_rpps[act.rpps] = by_rpps.get(act.rpps, 0) + 1
        return {
            "openings": len(openings),
            "reactivations": sum(a.code == DMP_REACTIVATE for a in confirmed),
            "duplicates": sum(a.duplicate for a in confirmed),
            "already_existed": sum(a.status == ALREADY_EXISTED for a in acts),
            "refused": sum(a.status == REFUSED for a in acts),
            "failed": sum(a.status == FAILED for a in acts),
            "pending": sum(a.status in (PENDING, UNCERTAIN) for a in acts),
            "amount_due_cents": due,
            "amount_paid_cents": paid,
            "outstanding_cents": due - paid,
            "months": {m: tuple(v) for m, v in months.items()},
            "by_pharmacist": by_rpps,
        }

    @property
    def ledger(self) -> Ledger:
        assert self.book is not None
        return self.book

    def rows(self) -> list[tuple[Any, ...]]:
        return self.ledger._conn.execute("SELECT * FROM entries ORDER BY seq").fetchall()

    # -- rules --------------------------------------------------------------------------

    @initialize(changes=st.lists(st.tuples(days, st.integers(0, 5000)), max_size=3))
    def create(self, changes: list[tuple[dt.date, int]]) -> None:
        schedule = BASE
        for day, cents in changes:
            schedule = schedule.with_change(DMP_OPEN, day, cents)
            self.changes[day] = cents
        self.book = Ledger(Path(self._dir.name) / "ledger.db", KEYS, tariffs=schedule)

    def _begin(self, code: str, ins: str, rpps: str, at: dt.datetime) -> str | None:
        day = at.astimezone(PARIS).date()
        if code == VACCINATION and day < VACCINATION_FROM:
            with pytest.raises(TariffError):
                self.ledger.begin(code, rpps, ins, consent(rpps), at=at)
            return None
        act_id = self.ledger.begin(code, rpps, ins, consent(rpps), at=at)
        self.acts[act_id] = Act(code, ins, rpps, day, PENDING)
        self.entries += 1
        return act_id

    def _finish(self, act_id: str, status: str, at: dt.datetime) -> None:
        act = self.acts[act_id]
        original = self.original_opening(act.ins) if act.code == DMP_OPEN else None
        entry = self.ledger.finish(act_id, status, at=at)
        self.entries += 1
        act.status = status
        if status == CONFIRMED:
            if original is not None:
                act.duplicate = True
                assert entry.duplicate_of == original
                assert entry.amount_cents == 0  # never paid twice
            else:
                act.cents = self.tariff(act.code, act.day)
                assert entry.duplicate_of == ""
        assert entry.amount_cents == act.cents
        assert entry.status == status

    @rule(
        code=codes,
        ins=patients,
        rpps=pharmacists,
        at=moments,
        outcome=st.sampled_from([CONFIRMED, CONFIRMED, FAILED, ALREADY_EXISTED, UNCERTAIN]),
        resolution=st.none() | final,
    )
    def journey(
        self,
        code: str,
        ins: str,
        rpps: str,
        at: dt.datetime,
        outcome: str,
        resolution: str | None,
    ) -> None:
        act_id = self._begin(code, ins, rpps, at)
        if act_id is None:
            return
        self._finish(act_id, outcome, at + dt.timedelta(seconds=40))
        if outcome == UNCERTAIN and resolution is not None:
            self._finish(act_id, resolution, at + dt.timedelta(minutes=5))

    @rule(code=codes, ins=patients, rpps=pharmacists, at=moments)
    def begin_only(self, code: str, ins: str, rpps: str, at: dt.datetime) -> None:
        """The kiosk crashed, or the answer is still awaited."""
        self._begin(code, ins, rpps, at)

    @precondition(lambda self: bool(self.open_ids()))
    @rule(
        pick=st.integers(0, 99),
        status=st.sampled_from([CONFIRMED, FAILED, ALREADY_EXISTED, UNCERTAIN]),
        at=moments,
    )
    def resolve(self, pick: int, status: str, at: dt.datetime) -> None:
        ids = sorted(self.open_ids())
        act_id = ids[pick % len(ids)]
        if self.acts[act_id].status == UNCERTAIN and status == UNCERTAIN:
            status = CONFIRMED
        self._finish(act_id, status, at)

    @precondition(lambda self: any(a.status != PENDING for a in self.acts.values()))
    @rule(pick=st.integers(0, 99), status=st.sampled_from([PENDING, CONFIRMED, UNCERTAIN]))
    def forbidden_transition(self, pick: int, status: str) -> None:
        ids = sorted(i for i, a in self.acts.items() if a.status != PENDING)
        act_id = ids[pick % len(ids)]
        if self.acts[act_id].status == UNCERTAIN and status == CONFIRMED:
            status = PENDING
        before = len(self.rows())
        with pytest.raises(LedgerError):
            self.ledger.finish(act_id, status)
        assert len(self.rows()) == before

    @rule(code=codes, rpps=pharmacists, at=moments)
    def refusal(self, code: str, rpps: str, at: dt.datetime) -> None:
        act_id = self.ledger.record_refusal(code, rpps, consent(rpps), at=at)
        self.acts[act_id] = Act(code, "", rpps, at.astimezone(PARIS).date(), REFUSED)
        self.entries += 1

    @rule(
        batch=st.lists(
            st.tuples(st.integers(0, 500_000), days, st.integers(0, 200)), min_size=1, max_size=3
        ),
        at=moments,
    )
    def payments_received(self, batch: list[tuple[int, dt.date, int]], at: dt.datetime) -> None:
        new: list[Payment] = []
        for cents, start, length in batch:
            end = min(start + dt.timedelta(days=length), LAST_DAY)
            reference = f"ROSP-{len(self.payments) + len(new):04d}"
            paid_on = (end + dt.timedelta(days=100)).isoformat()
            new.append(Payment(paid_on, reference, cents, start.isoformat(), end.isoformat()))
        assert self.ledger.import_payments(new, at=at) == len(new)
        self.payments |= {p.reference: p for p in new}
        self.entries += len(new)

    @precondition(lambda self: bool(self.payments))
    @rule(pick=st.integers(0, 99), conflicting=st.booleans())
    def payments_again(self, pick: int, conflicting: bool) -> None:
        """Re-importing adds nothing; the same reference with other values adds nothing
        either, and takes the whole file down with it."""
        old = sorted(self.payments.values(), key=lambda p: p.reference)
        again = old[pick % len(old)]
        fresh = Payment("2025-04-15", f"NEW-{len(self.payments)}", 100, "2024-01-01", "2024-01-31")
        before = self.rows()
        if conflicting:
            changed = Payment(again.paid_on, again.reference, again.amount_cents + 1,
                              again.period_start, again.period_end)  # fmt: skip
            with pytest.raises(LedgerError, match="already imported"):
                self.ledger.import_payments([fresh, changed])
            assert self.rows() == before
        else:
            assert self.ledger.import_payments([again]) == 0
            assert self.rows() == before

    @rule(low=days, high=days)
    def report_over_a_period(self, low: dt.date, high: dt.date) -> None:
        self.check_report(low, high)

    # -- invariants ---------------------------------------------------------------------

    def check_report(self, low: dt.date, high: dt.date) -> None:
        want = self.expected(low, high)
        got = report(self.ledger._conn, low, high)
        for key in (
            "openings", "reactivations", "duplicates", "already_existed", "refused", "failed",
            "pending", "amount_due_cents", "amount_paid_cents", "outstanding_cents",
        ):  # fmt: skip
            assert got[key] == want[key], key
        assert got["outstanding_cents"] == got["amount_due_cents"] - got["amount_paid_cents"]
        months = {m["month"]: (m["openings"], m["amount_due_cents"]) for m in got["by_month"]}
        assert months == want["months"]
        assert sum(m["openings"] for m in got["by_month"]) == got["openings"]
        assert sum(m["amount_due_cents"] for m in got["by_month"]) == got["amount_due_cents"]
        assert {p["rpps"]: p["openings"] for p in got["by_pharmacist"]} == want["by_pharmacist"]
        assert sum(p["openings"] for p in got["by_pharmacist"]) == got["openings"]

    @invariant()
    def report_matches_the_model(self) -> None:
        if self.book is None:
            return
        self.check_report(FIRST_DAY, LAST_DAY)
        whole = report(self.ledger._conn)
        # openings == distinct patients with a confirmed opening
        confirmed = {
            a.ins for a in self.acts.values() if (a.code, a.status) == (DMP_OPEN, CONFIRMED)
        }
        assert whole["openings"] == len(confirmed)
        # the whole ledger: an act at 23:00 UTC on 31 December is on 1 January in Paris,
        # past LAST_DAY (hypothesis found it)
        assert (
            whole["amount_due_cents"] == self.expected(dt.date.min, dt.date.max)["amount_due_cents"]
        )

    @invariant()
    def never_paid_twice(self) -> None:
        if self.book is None:
            return
        for key, originals, paid in self.ledger._conn.execute(
            "SELECT patient_key, SUM(duplicate_of = ''), SUM(duplicate_of != '' AND"
            " amount_cents != 0) FROM entries WHERE act_code = ? AND status = ?"
            " GROUP BY patient_key",
            (DMP_OPEN, CONFIRMED),
        ):
            assert originals == 1, key
            assert paid == 0, key

    @invariant()
    def unresolved_acts_are_the_open_ones(self) -> None:
        if self.book is None:
            return
        unresolved = self.ledger.unresolved()
        assert {a.act_id for a in unresolved} == self.open_ids()
        for act in unresolved:
            assert act.status == self.acts[act.act_id].status
            assert self.ledger.pending_ins(act.act_id) == self.acts[act.act_id].ins
        for act_id in self.acts.keys() - self.open_ids():
            assert self.ledger.pending_ins(act_id) is None

    @invariant()
    def verifies_and_never_rewrites_an_entry(self) -> None:
        if self.book is None:
            return
        verdict = self.ledger.verify()
        assert verdict.ok, verdict.message
        assert verdict.entries == self.entries
        assert verdict.checkpoints >= (1 if self.entries else 0)
        rows = self.rows()
        assert len(rows) == self.entries
        assert rows[: len(self.seen_rows)] == self.seen_rows  # earlier entries unchanged
        self.seen_rows = rows

    def teardown(self) -> None:
        if self.book is not None:
            self.book.close()
        self._dir.cleanup()


LedgerMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_model = LedgerMachine.TestCase
