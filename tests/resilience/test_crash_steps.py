"""SIGKILL the kiosk at each step of a creation, of a creation with web access and of a
reactivation, and during a payment import; restart it. Each kill point is reached by a
named hook (the kiosk process's ledger and printer, the sandbox's :data:`Hook`), never
by luck. After each restart, start-up recovery must leave nothing open once the CPS's
PIN is typed, ledger and sandbox must agree (one confirmed act per DMP held as ours, an
opening paid once), ``kiosk ledger verify`` must say intact, and the patient coming back
is never charged twice. Random kills over many journeys come on top. The step x outcome
table is printed at the end of the run (the CI log)."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.billing.chain import PENDING, UNCERTAIN
from kiosk.billing.ledger import read_only_connection
from kiosk.sim.sandbox.server import SandboxServer
from tests.conftest import wait_for
from tests.resilience.crash_run import (
    STAND_IN_RENDERER,
    Hold,
    KioskProcess,
    Site,
    agree,
    patient,
    renderer_alive,
    statuses,
    verified,
)
from tests.resilience.tables import table

MOBILE = "06 12 34 56 78"
VARIANTS: dict[str, dict[str, object]] = {
    "creation": {},
    "creation + web access": {"mobile": MOBILE},
    "reactivation": {"closed": True},
    "already exists (ours)": {"ours_before": True},  # recorded unpaid, nothing sent
}
LEDGER_STEPS = ("before_pending", "checkpoint", "after_pending", "after_outcome")
# step -> (acts open after the kill, what the patient coming back gets)
STEPS: dict[str, tuple[int, str]] = {
    "before_pending": (0, "opened"),
    "checkpoint": (1, "opened"),  # signed as the day's first entry, the pending one, commits
    "after_pending": (1, "opened"),
    "td_in_flight": (1, "opened"),  # TD1.1/TD1.2 received, dropped undone
    "td_committed": (1, "already_exists"),  # done, the answer never sent
    "after_outcome": (0, "already_exists"),
    "web_access": (0, "already_exists"),  # TD1.5a in flight
    "printing": (0, "already_exists"),  # the renderer runs
}
SANDBOX_STEPS = {"td_in_flight": ("received", False), "td_committed": ("committed", True)}

STEP_TABLE = table(
    "crash_steps", "Crash at every step: SIGKILL x what recovery made of it",
    "journey", "killed at", "open after kill", "open, PIN not typed", "open, PIN typed",
    "patient comes back", "ledger vs sandbox", "verify",
)  # fmt: skip
RANDOM_TABLE = table(
    "crash_random", "Random kills over many journeys",
    "kills", "killed at", "journeys ended", "acts open at a kill", "open after recovery",
    "ledger vs sandbox", "verify",
)  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server = SandboxServer(tmp_path_factory.mktemp("sandbox"), port=0).start()
    yield Site(server)
    server.shutdown()
    server.server_close()


def cases() -> Iterator[tuple[str, str]]:
    for variant, extra in VARIANTS.items():
        for step in STEPS:
            if "ours_before" in extra and step not in LEDGER_STEPS:
                continue  # nothing is sent for a DMP that exists: no call, no receipt
            if step != "web_access" or "mobile" in extra:
                yield variant, step


CASES = list(cases())


def kill_at(site: Site, state: Path, who: dict[str, Any], step: str) -> None:
    """Run ``who``'s journey and SIGKILL the kiosk at ``step``."""
    operation = "reactivate" if who.get("closed") else "create"
    hold, extra = None, dict[str, object]()
    if step in SANDBOX_STEPS:
        phase, go_on = SANDBOX_STEPS[step]
        hold = Hold(operation, phase, go_on)
    elif step == "web_access":
        hold = Hold("web_access", "received", False)
    elif step == "printing":
        extra = {"renderer": [sys.executable, str(STAND_IN_RENDERER), str(state / "renderer.pid")]}
    else:
        extra = {"stop_at": step}
    site.server.hook = hold
    try:
        with KioskProcess(site.job(state, "journeys", patients=[who]) | extra) as kiosk:
            reach(kiosk, step, hold, state)
    finally:
        site.server.hook = None
        if hold is not None:
            hold.release.set()
    if step == "printing":  # a killed kiosk leaves no child behind
        pid_file = state / "renderer.pid"
        try:
            wait_for(lambda: not renderer_alive(pid_file), 10, "the renderer to die with it")
        finally:
            if renderer_alive(pid_file):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def reach(kiosk: KioskProcess, step: str, hold: Hold | None, state: Path) -> None:
    kiosk.until("READY")
    if hold is not None:
        kiosk.until("END", also=hold.reached)
    elif step == "printing":
        kiosk.until("AT printing")
        wait_for((state / "renderer.pid").exists, 10, "the renderer to start")
    else:
        kiosk.until(f"AT {step}")


@pytest.mark.parametrize(("variant", "step"), CASES, ids=[f"{v}-{s}" for v, s in CASES])
def test_kill_at_each_step_then_restart(
    site: Site, tmp_path: Path, variant: str, step: str
) -> None:
    who = patient(CASES.index((variant, step)), **VARIANTS[variant])
    if who.get("closed"):
        site.server.store.seed([{"ins": who["nir"], "status": "closed"}])
    if who.get("ours_before"):  # opened by this pharmacy before (another kiosk of it)
        site.opened_before(who)
    state = tmp_path / "state"
    kill_at(site, state, who, step)
    open_after_kill = sum(statuses(state)[s] for s in (PENDING, UNCERTAIN))
    lines = KioskProcess(site.job(state, "recover", patients=[who])).finish()
    unresolved = [int(line.split()[1]) for line in lines if line.startswith("UNRESOLVED")]
    (came_back,) = [line.split()[1] for line in lines if line.startswith("END")]
    agreement = agree(site, state, [who])
    intact = verified(state)
    STEP_TABLE.add(
        variant, step, open_after_kill, unresolved[0], unresolved[1], came_back, agreement,
        "intact" if intact else "BROKEN",
    )  # fmt: skip
    wanted_open, wanted_back = STEPS[step]
    if who.get("ours_before"):
        wanted_back = "already_exists"
    elif wanted_back == "opened":
        wanted_back = "reactivated" if who.get("closed") else "created"
    assert (open_after_kill, came_back) == (wanted_open, wanted_back)
    # the existing DMP's record is settled at once; the others wait for the PIN
    assert unresolved == [0 if who.get("ours_before") else wanted_open, 0]
    assert intact
    assert statuses(state)[PENDING] == statuses(state)[UNCERTAIN] == 0


def test_kill_during_a_payment_import_then_import_again(site: Site, tmp_path: Path) -> None:
    state = tmp_path / "state"
    payments = [
        {"paid_on": "2026-11-30", "reference": f"VIR-{n}", "amount_cents": 100,
         "period_start": "2026-11-01", "period_end": "2026-11-30"}
        for n in range(5)
    ]  # fmt: skip
    who = patient(900)
    KioskProcess(site.job(state, "journeys", patients=[who])).finish()  # one act first
    kiosk = KioskProcess(site.job(state, "import", payments=payments, stop_at="payment_import"))
    try:
        kiosk.until("AT payment_import")
    finally:
        kiosk.kill()
    kept = statuses(state)
    assert verified(state)
    lines = KioskProcess(site.job(state, "import", payments=payments)).finish()
    assert "END imported" in lines
    assert verified(state)
    imported = _payments(state)
    STEP_TABLE.add(
        "payment import", "payment_import (2 of 5 inserted)", 0, "-", "-",
        f"{imported} of 5 after re-import", agree(site, state, [who]), "intact",
    )  # fmt: skip
    assert kept == statuses(state)  # the acts untouched
    assert imported == 5


def _payments(state: Path) -> int:
    conn = read_only_connection(state / "ledger.db")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0])
    finally:
        conn.close()


# More with CRASH_KILLS=1000 CRASH_SEED=… (the budget grows with it).
KILLS = int(os.environ.get("CRASH_KILLS", "30"))
RANDOM_BUDGET_S = 60.0 * KILLS / 30
SEED = int(os.environ.get("CRASH_SEED", "51365"))
KINDS: list[dict[str, object]] = [{}, {"mobile": MOBILE}, {"closed": True}, {"consent": False}]


def test_random_kills_over_many_journeys(site: Site, tmp_path: Path) -> None:
    """Journeys of a pool of patients (new, closed, with web access, refusing) killed at
    random moments, restarted each time; the pool is small, so patients come back."""
    rng = random.Random(SEED)
    pool = []
    for n in range(24):
        extra = KINDS[n % len(KINDS)]
        pool.append(patient(1000 + n, **extra))
    site.server.store.seed([{"ins": p["nir"], "status": "closed"} for p in pool if p.get("closed")])
    state = tmp_path / "state"
    ended = open_at_kill = kills = 0
    points: Counter[str] = Counter()
    started = time.monotonic()
    while kills < KILLS and time.monotonic() - started < RANDOM_BUDGET_S:
        stop_after = rng.randint(1, 60)  # the process stops at its Nth named point
        job = site.job(state, "loop", patients=pool, seed=rng.randrange(1 << 30))
        with KioskProcess(job | {"stop_after": stop_after}) as kiosk:
            for _point in range(stop_after):  # recovery's own points count too
                at = kiosk.until("AT ")
        kills += 1
        points[at.split()[1]] += 1
        ended += sum(line.startswith("END") for line in kiosk.drain())
        open_at_kill += sum(statuses(state)[s] for s in (PENDING, UNCERTAIN))
    assert kills >= min(KILLS, 10)
    lines = KioskProcess(site.job(state, "recover")).finish()
    unresolved = [int(line.split()[1]) for line in lines if line.startswith("UNRESOLVED")]
    agreement = agree(site, state, pool)
    intact = verified(state)
    killed_at = ", ".join(f"{point} {n}" for point, n in sorted(points.items()))
    RANDOM_TABLE.add(
        kills, killed_at, ended, open_at_kill, unresolved[-1], agreement,
        "intact" if intact else "BROKEN",
    )  # fmt: skip
    assert unresolved[-1] == 0
    assert intact
    assert ended > 0


class DropStatusUntilIdentity:
    """A sandbox hook: every TD0.2 is dropped unanswered until a TD0.0 arrives, so the
    start-up recovery's TD0.2 fails (the act waits) and the journey's goes through."""

    def __init__(self) -> None:
        self.identity_seen = False
        self.dropped = 0

    def __call__(self, operation: str, phase: str) -> bool:
        if operation == "identity":
            self.identity_seen = True
        if operation == "status" and phase == "received" and not self.identity_seen:
            self.dropped += 1
            return False
        return True


def test_a_lost_act_superseded_by_the_patients_next_visit_is_not_claimed(
    site: Site, tmp_path: Path
) -> None:
    """Killed with TD1.1 in flight (nothing created); at the restart the service cannot
    be reached, so the act waits; the patient comes back and the DMP is opened by a new
    act. The next recovery's TD0.2 says "exists, ours", but that is the new act's doing:
    the lost act is failed, the DMP confirmed and paid once."""
    who = patient(950)
    state = tmp_path / "state"
    kill_at(site, state, who, "td_in_flight")
    hook = DropStatusUntilIdentity()
    site.server.hook = hook
    try:
        lines = KioskProcess(site.job(state, "journeys", patients=[who])).finish()
    finally:
        site.server.hook = None
    assert hook.dropped > 0
    assert "END created" in lines
    assert statuses(state)[PENDING] == 1  # the lost act, still waiting
    lines = KioskProcess(site.job(state, "recover")).finish()
    assert [line for line in lines if line.startswith("UNRESOLVED")] == [
        "UNRESOLVED 1", "UNRESOLVED 0"
    ]  # fmt: skip
    agreement = agree(site, state, [who])  # one confirmed act: the new one, paid once
    assert statuses(state) == {"failed": 1, "confirmed": 1}
    assert verified(state)
    STEP_TABLE.add(
        "creation, then the patient's next visit", "td_in_flight, recovery unreachable", 1,
        1, 0, "created (the lost act failed)", agreement, "intact",
    )  # fmt: skip
