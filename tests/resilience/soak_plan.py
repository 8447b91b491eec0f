"""The soak's journeys, drawn at random from a seed: who comes, what they do, and which
fault the service has meanwhile. Pure: the same seed gives the same journeys.

Every patient is new (a fresh NIR, valid key) but for the ``returning`` ones, who come
back with the card of an earlier patient whose DMP this kiosk opened. The sandbox
derives its INS from the NIR (a beneficiary without one: from the holder's NIR and the
traits), so the soak knows each patient's INS without asking anyone.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.flow import Outcome
from kiosk.hardware.nir import with_key

CODE = "2468"  # the site's pharmacist code in the soak
MOBILE = "06 12 34 56 78"


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault of the service during one journey, and what the journey must end with."""

    name: str
    path: str  # the journey it happens in: "create", "create_web" or "reactivate"
    faults: dict[str, str]
    outcome: Outcome


# The service's faults, each on the journey where it matters. "@N" counts from the
# journey's start (tests/resilience/soak_sandbox.py shifts it).
FAULTS: tuple[Fault, ...] = (
    Fault("identity_http500", "create", {"identity": "http500"}, Outcome.ERROR),
    Fault("identity_reset", "create", {"identity": "reset"}, Outcome.ERROR),
    Fault("status_malformed", "create", {"status": "malformed"}, Outcome.ERROR),
    Fault("status_soap_fault", "create", {"status": "soap_fault"}, Outcome.ERROR),
    Fault("create_http500", "create", {"create": "http500"}, Outcome.ERROR),
    Fault("create_soap_fault", "create", {"create": "soap_fault"}, Outcome.ERROR),
    Fault("create_reset", "create", {"create": "reset"}, Outcome.ERROR),
    Fault("create_timeout", "create", {"create": "timeout"}, Outcome.ERROR),
    Fault("create_lost_answer", "create", {"create": "commit_then_reset"}, Outcome.CREATED),
    Fault("create_late_answer", "create", {"create": "commit_then_timeout"}, Outcome.CREATED),
    Fault(  # TD1.1 committed, its answer lost, TD0.2 down: uncertain until recovery
        "create_unresolved",
        "create",
        {"create": "commit_then_reset", "status": "http500@2-"},
        Outcome.ERROR,
    ),
    Fault(  # a reactivation's lost answer is resolved by recovery only
        "reactivate_lost_answer", "reactivate", {"reactivate": "commit_then_reset"}, Outcome.ERROR
    ),
    Fault("reactivate_http500", "reactivate", {"reactivate": "http500"}, Outcome.ERROR),
    Fault("web_access_http500", "create_web", {"web_access": "http500"}, Outcome.CREATED),
)

# kind -> weight (percent); "fault" draws one of FAULTS
KINDS: dict[str, int] = {
    "created": 30,
    "exists_other": 8,  # a DMP another structure opened
    "returning": 7,  # a patient whose DMP this kiosk opened comes back
    "reactivated": 10,  # a closed DMP, reactivated
    "refused": 12,
    "pulled": 5,  # the card pulled on the consent screen
    "fault": 28,
}
OUTCOME: dict[str, Outcome] = {
    "created": Outcome.CREATED,
    "exists_other": Outcome.ALREADY_EXISTS,
    "returning": Outcome.ALREADY_EXISTS,
    "reactivated": Outcome.REACTIVATED,
    "refused": Outcome.REFUSED,
    "pulled": Outcome.CANCELLED,
}


@dataclass(frozen=True, slots=True)
class Plan:
    number: int  # the journey's number, from 0
    kind: str  # a key of KINDS
    patient: int  # the journey whose patient comes (itself, or an earlier one: returning)
    child: bool  # the card's minor is the patient (the holder represents them)
    mobile: bool  # web access asked for
    seed: str  # "active" | "closed" | "": what the sandbox holds before the journey
    fault: Fault | None = None
    faults: dict[str, str] = field(default_factory=dict)

    @property
    def expected(self) -> Outcome:
        return self.fault.outcome if self.fault is not None else OUTCOME[self.kind]

    @property
    def label(self) -> str:
        return self.fault.name if self.fault is not None else self.kind


def nir(rng: random.Random, number: int, year: int, month: int) -> str:
    """A valid NIR, unique per journey number within a run."""
    department = rng.choice([d for d in range(1, 96) if d != 20])
    body = (
        f"{rng.choice('12')}{year % 100:02d}{month:02d}{department:02d}"
        f"{1 + number // 999 % 999:03d}{1 + number % 999:03d}"
    )
    return with_key(body)


FIRST = ("Jeanne", "Élodie", "Moussa", "Zoé", "Hélène-Marie", "Luc", "Inès", "Noël")
LAST = ("MARTIN", "N'DIAYE", "DUPONT-LÉGER", "OUÉDRAOGO", "LE GALL", "ÇELIK")


def patient_profile(seed: int, number: int, child: bool) -> dict[str, Any]:
    """The Vitale profile of journey ``number``'s patient (the same every time)."""
    rng = random.Random(f"{seed}:{number}")
    year, month, day = rng.randint(1940, 2000), rng.randint(1, 12), rng.randint(1, 28)
    holder = nir(rng, number, year, month)
    last = rng.choice(LAST)
    people = [
        {"quality": "0", "nir": holder, "last_name": last, "birth_name": last,
         "first_name": rng.choice(FIRST), "birth_date": f"{year}{month:02d}{day:02d}",
         "birth_rank": 1},
    ]  # fmt: skip
    if child:
        people.append(
            {"quality": "6", "nir": None, "last_name": last, "birth_name": last,
             "first_name": rng.choice(FIRST), "birth_date": f"2016{month:02d}{day:02d}",
             "birth_rank": 1}
        )  # fmt: skip
    return {
        "card": "vitale", "serial": f"{number % 10**10:010d}", "valid_from": "20200101",
        "holder_nir": holder, "regime": "01", "caisse": "751", "centre": "0001",
        "beneficiaries": people,
    }  # fmt: skip


class Planner:
    """Draws the journeys one by one; remembers only the last few patients whose DMP
    was opened (bounded: the soak's own memory must not grow)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.opened: deque[tuple[int, bool]] = deque(maxlen=64)  # (journey, child)

    def next(self, number: int) -> Plan:
        kind = self.rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        child = self.rng.random() < 0.15
        mobile = self.rng.random() < 0.3
        if kind == "returning" and self.opened:
            patient, child = self.rng.choice(self.opened)
            return Plan(number, kind, patient, child, False, "")
        if kind == "returning":
            kind = "exists_other"  # nobody opened yet
        if kind == "fault":
            fault = self.rng.choice(FAULTS)
            seed = "closed" if fault.path == "reactivate" else ""
            mobile = fault.path == "create_web"
            return Plan(number, kind, number, child, mobile, seed, fault, dict(fault.faults))
        seed = {"exists_other": "active", "reactivated": "closed"}.get(kind, "")
        return Plan(number, kind, number, child, mobile and kind == "created", seed)

    def done(self, plan: Plan, outcome: Outcome) -> None:
        """A journey ended: a DMP it opened is one a patient may come back for."""
        if outcome is Outcome.CREATED:
            self.opened.append((plan.patient, plan.child))
