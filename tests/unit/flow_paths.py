"""Shared by the journey state machine tests: the shipped cards, a driver that stamps
taps the way the journey does (``touched`` then ``step``), and ``reach(screen)``, which
gets to every screen through real events from the welcome screen."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace

from kiosk.core.flow import (
    AttestationChecked,
    CardFailed,
    CardInserted,
    CardRead,
    Command,
    DmpChecked,
    DmpDone,
    Event,
    Flow,
    Outcome,
    Screen,
    Tap,
    step,
    touched,
)
from kiosk.hardware.cards import vitale_from_profile
from kiosk.sim.data import CARDS_DIR

CARDS = CARDS_DIR
TODAY = dt.date(2026, 11, 23)
T0 = 1000.0  # monotonic seconds at which every path starts

MARTIN = vitale_from_profile(
    json.loads((CARDS / "vitale-famille-martin.json").read_text(encoding="utf-8"))
)
CASANOVA = vitale_from_profile(
    json.loads((CARDS / "vitale-famille-casanova.json").read_text(encoding="utf-8"))
)
EMPTY = replace(MARTIN, beneficiaries=())

# indexes on the Martin card
HOLDER, SPOUSE, TWIN_LEO, TWIN_ZOE, CHILD_2019 = range(5)

COMMAND_NAMES = frozenset(
    {
        "read_card",
        "check_dmp",
        "open_dmp",
        "check_attestation",
        "record_refusal",
        "print_receipt",
        "finished",
        "wipe",
        "speak",
    }
)


def start(**changes: object) -> Flow:
    return replace(Flow(today=TODAY, last_touch=T0), **changes)  # type: ignore[arg-type]


def send(flow: Flow, event: Event, now: float = T0) -> tuple[Flow, list[Command]]:
    """One event as the journey delivers it: a tap is stamped with the time first."""
    if isinstance(event, Tap):
        flow = touched(flow, now)
    return step(flow, event)


@dataclass
class Run:
    """A journey in progress: the flow, the clock and every command produced."""

    flow: Flow
    now: float = T0
    commands: list[Command] = field(default_factory=list)

    def send(self, *events: Event) -> list[Command]:
        produced: list[Command] = []
        for event in events:
            self.flow, commands = send(self.flow, event, self.now)
            produced += commands
        self.commands += produced
        return produced

    def screen(self) -> Screen:
        return self.flow.screen

    def names(self) -> list[str]:
        return [c.name for c in self.commands]


TO_CHOOSE: tuple[Event, ...] = (Tap("start"), CardInserted("vitale"), CardRead(MARTIN))
TO_CHECKING: tuple[Event, ...] = (*TO_CHOOSE, Tap("choose", HOLDER))
TO_INFORMATION: tuple[Event, ...] = (*TO_CHECKING, DmpChecked("not_found"))
TO_CONSENT: tuple[Event, ...] = (*TO_INFORMATION, Tap("next"))
TO_CONTACT: tuple[Event, ...] = (*TO_CONSENT, Tap("toggle", "consent"), Tap("next"))
TO_ATTESTATION: tuple[Event, ...] = (*TO_CONTACT, Tap("skip"))
TO_CREATING: tuple[Event, ...] = (
    *TO_ATTESTATION,
    Tap("attest", "1234"),
    AttestationChecked(True),
)

PATHS: dict[Screen, tuple[Event, ...]] = {
    Screen.WELCOME: (),
    Screen.INSERT_CARD: (Tap("start"),),
    Screen.READING: (Tap("start"), CardInserted("vitale")),
    Screen.CHOOSE: TO_CHOOSE,
    Screen.GUARDIAN: (*TO_CHOOSE, Tap("choose", TWIN_LEO)),
    Screen.CHECKING: TO_CHECKING,
    Screen.EXISTS: (*TO_CHECKING, DmpChecked("exists")),
    Screen.CLOSED: (*TO_CHECKING, DmpChecked("closed")),
    Screen.INFORMATION: TO_INFORMATION,
    Screen.CONSENT: TO_CONSENT,
    Screen.CONTACT: TO_CONTACT,
    Screen.ATTESTATION: TO_ATTESTATION,
    Screen.CREATING: TO_CREATING,
    Screen.DONE: (*TO_CREATING, DmpDone(Outcome.CREATED, web_access=False)),
    Screen.ERROR: (Tap("start"), CardInserted("vitale"), CardFailed("Carte illisible.")),
}


def reach_run(screen: Screen, flow: Flow | None = None, now: float = T0) -> Run:
    run = Run(start() if flow is None else flow, now)
    run.send(*PATHS[screen])
    assert run.flow.screen is screen, (screen, run.flow.screen)
    return run


def reach(screen: Screen, flow: Flow | None = None, now: float = T0) -> Flow:
    """A flow on ``screen``, got there through real events; last touch at ``now``."""
    return reach_run(screen, flow, now).flow


def opened(commands: list[Command]) -> list[Command]:
    return [c for c in commands if c.name == "open_dmp"]
