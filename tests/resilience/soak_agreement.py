"""Do the ledger and the sandbox agree after the soak? Pure over what both hold and the
soak's journal of journeys (one JSON object a line: ``label``, ``kind``, ``seed``,
``expected``, ``outcome`` and the patient's ``key``, the ledger's pseudonym of the INS).

- every DMP the sandbox holds as this kiosk's (this structure, this pharmacist) has
  exactly one act that opened it: a creation paid once (confirmed, amount > 0, no
  ``duplicate_of``) or, for a DMP that was closed, one confirmed reactivation (its
  tariff is 0: recorded, not paid);
- nothing is paid, nor confirmed, that the sandbox does not hold as ours, and nothing
  unconfirmed carries an amount;
- a refusal, an existing DMP, a pulled card and a fault after which the service holds
  nothing are never paid; a returning patient stays paid once;
- nothing is left pending or uncertain (the soak runs start-up recovery first).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kiosk.billing.chain import CONFIRMED, PENDING, UNCERTAIN
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE

# faults after which the service holds the DMP: committed before the answer was lost, or
# a web access refused after the DMP was opened
OPENING = frozenset({"create_lost_answer", "create_late_answer", "create_unresolved",
                     "reactivate_lost_answer", "web_access_http500"})  # fmt: skip
NEVER_HELD = frozenset({"refused", "exists_other", "pulled"})


def read_journal(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def agreement(
    acts: Iterable[tuple[str, str, int, str, str]],  # act_code, status, amount, dup, key
    dmps: Iterable[dict[str, Any]],
    patient_key: Callable[[str], str],
    rpps: str,
    structure_id: str,
    journal: list[dict[str, Any]],
) -> dict[str, Any]:
    acts = list(acts)
    paid = Counter(
        k
        for code, s, amount, dup, k in acts
        if code == DMP_OPEN and s == CONFIRMED and amount > 0 and not dup
    )
    reactivated = Counter(
        k for code, s, _a, _d, k in acts if code == DMP_REACTIVATE and s == CONFIRMED
    )
    confirmed = {k for _c, s, _a, _d, k in acts if s == CONFIRMED}
    held = [d for d in dmps if d["status"] == "active"]
    ours = {patient_key(d["ins"]) for d in held
            if d["structure_id"] == structure_id and d["created_by_rpps"] == rpps}  # fmt: skip
    closed_seeded = {j["key"] for j in journal if j["seed"] == "closed"}

    def one_opening(key: str) -> bool:
        if key in closed_seeded:
            return paid[key] == 0 and reactivated[key] == 1
        return paid[key] == 1 and reactivated[key] == 0

    by_label: dict[str, Counter[str]] = {}
    for j in journal:
        by_label.setdefault(j["label"], Counter())[str(j["outcome"])] += 1
    unpaid_journeys = [
        j for j in journal
        if j["kind"] in NEVER_HELD or (j["kind"] == "fault" and j["label"] not in OPENING)
    ]  # fmt: skip
    problems = {
        "ours_without_exactly_one_opening": sum(1 for k in ours if not one_opening(k)),
        "paid_not_held_by_sandbox": sum(n for k, n in paid.items() if k not in ours),
        "confirmed_not_held_by_sandbox": len(confirmed - ours),
        "paid_more_than_once": sum(1 for n in paid.values() if n > 1),
        "amount_on_unconfirmed_act": sum(
            1 for _c, s, a, _d, _k in acts if s != CONFIRMED and a != 0
        ),
        "unresolved_acts": sum(1 for _c, s, _a, _d, _k in acts if s in (PENDING, UNCERTAIN)),
        "never_paid_journey_paid": sum(1 for j in unpaid_journeys if paid[j["key"]]),
        "returning_not_paid_once": sum(
            1 for j in journal if j["kind"] == "returning" and paid[j["key"]] != 1
        ),
        "unexpected_outcome": sum(1 for j in journal if j["outcome"] != j["expected"]),
    }
    return {
        "agree": not any(problems.values()),
        "problems": problems,
        "sandbox": {"held": len(held), "ours": len(ours)},
        "ledger": {
            "acts": len(acts),
            "paid_openings": sum(paid.values()),
            "reactivations": sum(reactivated.values()),
            "by_status": dict(Counter(s for _c, s, _a, _d, _k in acts)),
            "amount_due_cents": sum(a for _c, s, a, _d, _k in acts if s == CONFIRMED),
        },
        "journeys_by_label": {label: dict(c) for label, c in sorted(by_label.items())},
    }
