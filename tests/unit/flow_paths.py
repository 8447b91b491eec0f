"""Shared by the journey state machine tests: the shipped cards, a driver that stamps
taps the way the journey does (``touched`` then ``step``), and ``reach(screen)``, which
gets to every screen through real events from the welcome screen."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import InitVar, dataclass, field, replace

from kiosk.core.code_gate import Accepted, CodeGate
from kiosk.core.flow import (
    AttestationChecked,
    CardFailed,
    CardInserted,
    CardRead,
    CheckAttestation,
    CheckDmp,
    Command,
    DmpChecked,
    DmpDone,
    Event,
    Finished,
    Flow,
    OpenDmp,
    Outcome,
    PrintReceipt,
    ReadCard,
    RecordRefusal,
    Screen,
    Speak,
    Tap,
    Wipe,
    step,
    touched,
)
from kiosk.hardware.card_errors import CardProblem
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

COMMAND_KINDS = frozenset(
    {ReadCard, CheckDmp, OpenDmp, CheckAttestation, RecordRefusal, PrintReceipt, Finished, Wipe,
     Speak}
)  # fmt: skip
GOOD_CODE = "1234"  # the pharmacist code the tests' gate accepts


def start(**changes: object) -> Flow:
    return replace(Flow(today=TODAY, last_touch=T0), **changes)  # type: ignore[arg-type]


def send(flow: Flow, event: Event, now: float = T0) -> tuple[Flow, list[Command]]:
    """One event as the journey delivers it: a tap is stamped with the time first."""
    if isinstance(event, Tap):
        flow = touched(flow, now)
    return step(flow, event)


def code_gate(run: Run) -> CodeGate:
    """The pharmacist-code gate, in memory, on the run's clock."""
    return CodeGate(lambda code: code == GOOD_CODE, clock=lambda: run.now)


@dataclass
class Run:
    """A journey in progress: the flow, the clock, every command produced, and the
    pharmacist-code gate the journey would ask."""

    flow: Flow
    now: float = T0
    commands: list[Command] = field(default_factory=list)
    shared_gate: InitVar[CodeGate | None] = None  # another journey's, on the same kiosk
    gate: CodeGate = field(init=False)

    def __post_init__(self, shared_gate: CodeGate | None) -> None:
        self.gate = shared_gate or code_gate(self)

    def send(self, *events: Event) -> list[Command]:
        produced: list[Command] = []
        for event in events:
            self.flow, commands = send(self.flow, event, self.now)
            produced += commands
        self.commands += produced
        return produced

    def screen(self) -> Screen:
        return self.flow.screen

    def kinds(self) -> list[type]:
        return [type(c) for c in self.commands]

    def attest(self, code: str) -> list[Command]:
        """Type ``code``; the gate answers the check at once, as the journey does."""
        commands = self.send(Tap("attest", code))
        for command in list(commands):
            if isinstance(command, CheckAttestation):
                commands += self.send(AttestationChecked(self.gate.try_code(command.code)))
        return commands


TO_CHOOSE: tuple[Event, ...] = (Tap("start"), CardInserted("vitale"), CardRead(MARTIN))
TO_CHECKING: tuple[Event, ...] = (*TO_CHOOSE, Tap("choose", HOLDER))
TO_INFORMATION: tuple[Event, ...] = (*TO_CHECKING, DmpChecked("not_found"))
TO_CONSENT: tuple[Event, ...] = (*TO_INFORMATION, Tap("next"))
TO_CONTACT: tuple[Event, ...] = (*TO_CONSENT, Tap("toggle", "consent"), Tap("next"))
TO_ATTESTATION: tuple[Event, ...] = (*TO_CONTACT, Tap("skip"))
TO_CREATING: tuple[Event, ...] = (
    *TO_ATTESTATION,
    Tap("attest", GOOD_CODE),
    AttestationChecked(Accepted()),
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
    Screen.ERROR: (Tap("start"), CardInserted("vitale"), CardFailed(CardProblem.UNREADABLE)),
}


def reach_run(
    screen: Screen, flow: Flow | None = None, now: float = T0, gate: CodeGate | None = None
) -> Run:
    run = Run(start() if flow is None else flow, now, shared_gate=gate)
    run.send(*PATHS[screen])
    assert run.flow.screen is screen, (screen, run.flow.screen)
    return run


def reach(screen: Screen, flow: Flow | None = None, now: float = T0) -> Flow:
    """A flow on ``screen``, got there through real events; last touch at ``now``."""
    return reach_run(screen, flow, now).flow


def opened(commands: list[Command]) -> list[OpenDmp]:
    return [c for c in commands if isinstance(c, OpenDmp)]
