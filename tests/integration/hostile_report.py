"""What the hostile-peer tests drew and what came out, for the CI log (one table for the
card and the DMP sweeps), and their hypothesis settings.

CI runs a fixed, derandomized set of examples. ``BORNE_HOSTILE_SCALE=N`` multiplies
every example count by N and draws new examples each run (a long run, e.g.
``BORNE_HOSTILE_SCALE=20 flock /tmp/borne-pcsc.lock .venv/bin/python -m pytest
tests/integration/test_hostile_cards.py tests/integration/test_hostile_dmp.py``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings

from tests.resilience.tables import table

SCALE = max(1, int(os.environ.get("BORNE_HOSTILE_SCALE", "1") or "1"))

TABLE = table(
    "hostile_peers",
    "Hostile peers: what was drawn x what came out",
    "peer",
    "examples",
    "behaviours drawn",
    "errors seen (typed)",
    "longest call / deadline",
)


def sweep(examples: int) -> settings:
    """``examples`` (times the scale), reproducible in CI, no per-example deadline (the
    tests assert their own), and no complaint about slow draws or fixtures."""
    return settings(
        max_examples=examples * SCALE,
        derandomize=SCALE == 1,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


@dataclass
class Tally:
    """One row of the table: a peer's examples, behaviours and outcomes, longest call."""

    peer: str
    deadline: float | None  # None: no deadline (the readers fed directly)
    examples: int = 0
    behaviours: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    longest: float = 0.0

    def saw(self, behaviours: Iterable[str], outcome: str, elapsed: float) -> None:
        self.examples += 1
        self.behaviours.update(set(behaviours))
        self.outcomes[outcome] += 1
        self.longest = max(self.longest, elapsed)

    def report(self) -> None:
        limit = "none" if self.deadline is None else f"{self.deadline:g} s"
        TABLE.add(
            self.peer,
            self.examples,
            _counts(self.behaviours),
            _counts(self.outcomes),
            f"{self.longest:.2f} s / {limit}",
        )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()))
