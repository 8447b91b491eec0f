"""The patient journey as a pure state machine (docs/architecture.md §1). No Kivy, no I/O, no clock.

``step(flow, event)`` returns the next :class:`Flow` and the :class:`Command` list the
journey must carry out (read the card, call the DMP, write the ledger, print, wipe).
Everything the patient entered lives in the ``Flow`` value only, and every path back to
the welcome screen returns a fresh one: card removal, cancel, inactivity, the end.

Rules enforced here:
- a minor's DMP only through a legal representative: an adult named on the card, who
  picks themselves on the guardian screen and declares the role; a card with no adult
  stops the journey (a representative must come with the card);
- consent is unticked and required; emergency access (bris de glace) and SAMU-centre 15
  access are ticked by default [V EX_1.1-1050];
- giving a contact creates the online account: the patient sees a warning first;
- nothing is created without the pharmacist's attestation (the code is checked by the
  one pharmacist-code gate, :mod:`kiosk.core.code_gate`, which also locks it);
- inactivity: a warning, then back to welcome; the site sets both times ([kiosk]
  idle_warning, idle_grace), speech mode doubles them and "Plus de temps" doubles them
  again for the rest of the journey; any tap, keystroke or speech gesture is activity;
- "Annuler" and "Je refuse" ask for a confirmation (one more tap) before they end anything;
- speech mode, the text size and the language are the patient's: the next one starts
  with the kiosk's own.

What the patient is told travels as typed messages (:mod:`kiosk.messages`), rendered by
the UI; the commands are one small dataclass each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeAlias

from kiosk.core.code_verdicts import Accepted, CodeVerdict
from kiosk.hardware.card_errors import CardProblem
from kiosk.hardware.cards import Beneficiary, VitaleCard
from kiosk.messages import Message, MessageEnum

WARN_AFTER = 60.0  # seconds without a touch before "are you still there?" (the default)
RESET_AFTER = 90.0  # seconds without a touch before the journey ends (the default)
MAJORITY = 18
MAX_PATIENCE = 8  # "Plus de temps" doubles the times, up to eight times the site's
TEXT_SIZES = ("normal", "large")


class Screen(StrEnum):
    WELCOME = "welcome"
    INSERT_CARD = "insert_card"
    READING = "reading"
    CHOOSE = "choose_beneficiary"
    GUARDIAN = "guardian"
    CHECKING = "checking"
    EXISTS = "already_exists"
    CLOSED = "closed"
    INFORMATION = "information"
    CONSENT = "consent"
    CONTACT = "contact"
    ATTESTATION = "attestation"
    CREATING = "creating"
    DONE = "done"
    ERROR = "error"


class JourneyProblem(MessageEnum):
    """What the patient is told when the journey itself cannot go on."""

    DMP_NOT_CHECKED = "journey.dmp_not_checked"  # TD0.2 gave no usable answer
    CHECK_EXPIRED = "journey.check_expired"  # the identity check is gone: start again
    LEDGER_DOWN = "journey.ledger_down"  # the act cannot be recorded: nothing sent
    OUTCOME_UNKNOWN = "journey.outcome_unknown"  # TD1.1/TD1.2 sent, no answer: uncertain
    CANNOT_RECORD = "journey.cannot_record"  # ledger full or unwritable: no journey starts
    WRONG_READER = "journey.wrong_reader"  # the Carte Vitale is in the pharmacist's reader
    REPRESENTATIVE_ABSENT = "journey.representative_absent"  # a minor, no adult on the card
    UNEXPECTED = "journey.unexpected"  # a bug, logged


class WelcomeNotice(MessageEnum):
    """What the welcome screen says after a patient pulled the card during a creation."""

    FINISHING = "notice.finishing"  # the creation runs on: the accusé is at the counter
    RECEIPT_AT_COUNTER = "notice.receipt_at_counter"  # created: the pharmacist hands it over
    NOT_OPENED = "notice.not_opened"  # it failed: ask the pharmacist
    UNCERTAIN = "notice.uncertain"  # the answer was lost: the pharmacist will know later


class Outcome(StrEnum):
    CREATED = "created"
    ALREADY_EXISTS = "already_exists"
    REACTIVATED = "reactivated"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    ERROR = "error"


# --- events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInserted:
    kind: str  # "vitale" | "cps" | "unknown"
    wrong_reader: bool = False  # in the reader a site pinned to the pharmacist's CPS


@dataclass(frozen=True)
class CardRemoved:
    pass


@dataclass(frozen=True)
class CardRead:
    card: VitaleCard


@dataclass(frozen=True)
class CardFailed:
    message: Message  # for the patient


@dataclass(frozen=True)
class JourneyRefused:
    """The kiosk cannot record a journey now (its ledger is full or unwritable): the card
    is not read and nothing is sent."""

    message: Message  # for the patient


@dataclass(frozen=True)
class Tap:
    action: str  # start|cancel|next|back|choose|guardian|toggle|contact|attest|reactivate|…
    value: str | int | bool | None = None


@dataclass(frozen=True)
class Tick:
    now: float  # monotonic seconds


@dataclass(frozen=True)
class DmpChecked:
    state: str  # "exists" | "closed" | "not_found"


@dataclass(frozen=True)
class DmpDone:
    outcome: Outcome  # CREATED or REACTIVATED
    web_access: bool


@dataclass(frozen=True)
class DmpFailed:
    message: Message  # for the patient


@dataclass(frozen=True)
class AttestationChecked:
    verdict: CodeVerdict  # the pharmacist-code gate's answer


@dataclass(frozen=True)
class FinishedUnseen:
    """A creation whose patient had left ended: ``opened`` tells whether the DMP exists
    (None: nobody knows yet, recovery will); ``now`` is when (monotonic seconds)."""

    opened: bool | None
    now: float = 0.0


Event: TypeAlias = (
    CardInserted | CardRemoved | CardRead | CardFailed | JourneyRefused | Tap | Tick
    | DmpChecked | DmpDone | DmpFailed | AttestationChecked | FinishedUnseen
)  # fmt: skip


# --- commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadCard:
    """Read the Carte Vitale just inserted."""


@dataclass(frozen=True)
class CheckDmp:
    """TD0.0 then TD0.2 for the beneficiary chosen."""

    beneficiary: int


@dataclass(frozen=True)
class CheckAttestation:
    """Ask the pharmacist-code gate about the code typed."""

    code: str


@dataclass(frozen=True)
class OpenDmp:
    """Record the act, then create (TD1.1) or reactivate (TD1.2) the DMP."""

    beneficiary: int
    choices: Choices
    guardian_role: str | None
    reactivate: bool
    representative: int | None = None  # the adult on the card who declared the role


@dataclass(frozen=True)
class RecordRefusal:
    """The patient refused: recorded, unpaid, nothing sent."""


@dataclass(frozen=True)
class PrintReceipt:
    outcome: Outcome
    web_access: bool


@dataclass(frozen=True)
class Finished:
    outcome: Outcome


@dataclass(frozen=True)
class Wipe:
    """Forget everything of the patient: the journey is over."""


@dataclass(frozen=True)
class Speak:
    screen: Screen
    language: str


Command: TypeAlias = (
    ReadCard | CheckDmp | CheckAttestation | OpenDmp | RecordRefusal | PrintReceipt | Finished
    | Wipe | Speak
)  # fmt: skip


# --- state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeouts:
    """The site's inactivity times, in seconds ([kiosk] idle_warning, idle_grace)."""

    warn_after: float = WARN_AFTER  # without a touch, then the warning
    grace: float = RESET_AFTER - WARN_AFTER  # after the warning, then the journey ends


@dataclass(frozen=True)
class Choices:
    consent: bool = False  # unticked: the patient must tick it
    bris_de_glace: bool = True  # ticked by default [V]
    centre15: bool = True
    mobile: str | None = None
    email: str | None = None
    web_access_warned: bool = False
    consent_language: str | None = None  # the language on screen when consent was ticked
    warning_language: str | None = None  # the language the web-access warning was shown in


@dataclass(frozen=True)
class Flow:
    screen: Screen = Screen.WELCOME
    language: str = "fr"
    card: VitaleCard | None = field(default=None, repr=False)
    beneficiary: int | None = None
    representative: int | None = None  # the adult on the card opening a minor's DMP
    guardian_role: str | None = None
    choices: Choices = field(default_factory=Choices)
    dmp_state: str | None = None
    outcome: Outcome | None = None
    web_access: bool = False  # the online access asked for was created (DmpDone)
    message: Message | None = None  # for the patient (error screen, attestation feedback)
    last_touch: float = 0.0
    warning: bool = False
    attestation_pending: bool = False  # a CheckAttestation was asked and not answered
    notice: WelcomeNotice | None = None  # welcome only: a creation its patient left
    today: dt.date = dt.date(2026, 1, 1)
    # the patient's ways of using the kiosk, for this journey only (fresh() resets them)
    speech: bool = False  # every screen spoken; explore by touch, a second tap acts
    text_size: str = "normal"  # "normal" | "large"
    patience: int = 1  # "Plus de temps" doubles it (up to MAX_PATIENCE)
    confirming: str | None = None  # "cancel" | "refuse": asked once more before ending
    # the site's, kept across journeys
    home_language: str = "fr"
    timeouts: Timeouts = field(default_factory=Timeouts)

    @property
    def person(self) -> Beneficiary | None:
        if self.card is None or self.beneficiary is None:
            return None
        return self.card.beneficiaries[self.beneficiary]

    @property
    def needs_guardian(self) -> bool:
        person = self.person
        return person is not None and is_minor(person.birth_date, self.today)

    @property
    def warn_after(self) -> float:
        """Seconds without a touch before the warning, speech mode and more time applied."""
        return self.timeouts.warn_after * self._factor

    @property
    def reset_after(self) -> float:
        return (self.timeouts.warn_after + self.timeouts.grace) * self._factor

    @property
    def _factor(self) -> int:
        return self.patience * (2 if self.speech else 1)

    @property
    def adults(self) -> tuple[int, ...]:
        """The card's people who may represent the chosen minor: every adult on it."""
        if self.card is None:
            return ()
        people = enumerate(self.card.beneficiaries)
        return tuple(i for i, p in people if not is_minor(p.birth_date, self.today))

    def holds_patient_data(self) -> bool:
        return (
            self.card is not None
            or self.beneficiary is not None
            or self.choices != Choices()
            or self.guardian_role is not None
            or self.representative is not None
        )


GUARDIAN_ROLES = ("mere", "pere", "tuteur")


def is_minor(birth_date: str, today: dt.date) -> bool:
    """From the card's raw YYYYMMDD; lunar dates (00 day/month) count from the year's
    end of the known part, so a doubtful case is treated as a minor (safer)."""
    try:
        year = int(birth_date[:4])
        month = int(birth_date[4:6]) or 12
        day = int(birth_date[6:8]) or 31
    except ValueError:
        return True
    month = min(max(month, 1), 12)
    years = today.year - year - ((today.month, today.day) < (month, min(day, 31)))
    return years < MAJORITY


def fresh(flow: Flow, now: float, notice: WelcomeNotice | None = None) -> Flow:
    """Back to welcome with nothing of the patient kept, in the kiosk's own language, size
    and voice: the next patient starts as the site set it."""
    return Flow(
        language=flow.home_language,
        home_language=flow.home_language,
        timeouts=flow.timeouts,
        last_touch=now,
        today=flow.today,
        notice=notice,
    )


def _leaving(flow: Flow) -> Outcome:
    """The outcome of a journey ended by removal, timeout or cancel: a screen that
    already shows a result keeps it (the patient pulls the card on "done")."""
    if flow.screen is Screen.DONE and flow.outcome is not None:
        return flow.outcome
    if flow.screen is Screen.EXISTS:
        return Outcome.ALREADY_EXISTS
    if flow.screen is Screen.ERROR:
        return Outcome.ERROR
    return Outcome.CANCELLED


def _end(flow: Flow, outcome: Outcome, now: float | None = None) -> tuple[Flow, list[Command]]:
    """The journey is over: wipe and go back to welcome."""
    return fresh(flow, flow.last_touch if now is None else now), [Finished(outcome), Wipe()]


def step(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    after, commands = _step(flow, event)
    if after.screen is not flow.screen and after.confirming is not None:
        after = replace(after, confirming=None)  # a question about the screen left
    return after, commands


def _step(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    # Events valid anywhere first: a pulled card or a timeout ends everything.
    if isinstance(event, CardRemoved):
        if flow.screen is Screen.WELCOME and not flow.holds_patient_data():
            return flow, []
        if flow.screen is Screen.CREATING:
            # the creation runs on: the ledger and the DMP call finish it, the accusé
            # prints for the pharmacist to hand over; the patient's data is wiped now
            return fresh(flow, flow.last_touch, WelcomeNotice.FINISHING), [Wipe()]
        return _end(flow, _leaving(flow))
    if isinstance(event, Tick):
        return _tick(flow, event.now)
    if isinstance(event, Tap):
        return _tap(flow, event)
    handler = _HANDLERS.get(flow.screen)
    if handler is None:
        return flow, []
    return handler(flow, event)


# Screens where "Annuler" loses nothing (a result is shown): it ends at once.
_SHOWING_RESULT = frozenset({Screen.DONE, Screen.EXISTS, Screen.ERROR})


def _tap(flow: Flow, event: Tap) -> tuple[Flow, list[Command]]:
    """Taps valid on any screen, then the screen's own. The journey has stamped
    ``last_touch`` already (:func:`touched`): every tap is activity."""
    confirming, flow = flow.confirming, replace(flow, warning=False, confirming=None)
    action = event.action
    if action == "activity":  # a keystroke, a speech gesture: only activity
        return replace(flow, confirming=confirming), []
    if action == "language":
        return replace(flow, language="en" if flow.language == "fr" else "fr"), []
    if action == "read_aloud":
        return flow, [Speak(flow.screen, flow.language)]
    if action == "speech" and isinstance(event.value, bool):
        return replace(flow, speech=event.value), []
    if action == "text_size" and event.value in TEXT_SIZES:
        return replace(flow, text_size=str(event.value)), []
    if action == "more_time":
        return replace(flow, patience=min(flow.patience * 2, MAX_PATIENCE)), []
    if action == "confirm" and confirming == "cancel":
        return _end(flow, _leaving(flow))
    if action == "confirm" and confirming == "refuse" and flow.screen is Screen.CONSENT:
        ended, commands = _end(flow, Outcome.REFUSED)
        return ended, [RecordRefusal(), *commands]
    if action == "cancel" and flow.screen not in (Screen.CREATING, Screen.WELCOME):
        if flow.screen in _SHOWING_RESULT:
            return _end(flow, _leaving(flow))
        return replace(flow, confirming="cancel"), []  # "Vraiment arrêter ?"
    if action == "cancel":
        return flow, []
    handler = _HANDLERS.get(flow.screen)
    if handler is None:
        return flow, []
    return handler(flow, event)


def touched(flow: Flow, now: float) -> Flow:
    """Called by the journey on every touch, with the monotonic time."""
    return replace(flow, last_touch=now, warning=False)


def _tick(flow: Flow, now: float) -> tuple[Flow, list[Command]]:
    if flow.screen is Screen.WELCOME:
        if now - flow.last_touch >= flow.reset_after and flow != fresh(flow, flow.last_touch):
            # a notice, a language, speech or large text left by someone who walked away:
            # the next patient finds the kiosk as the site set it
            return fresh(flow, flow.last_touch), []
        return flow, []
    if flow.screen in (Screen.CREATING, Screen.CHECKING, Screen.READING):
        # waiting on a call with its own deadline: the kiosk is busy, the patient is not
        # idle, so the wait does not eat into the next screen's inactivity time
        return replace(flow, last_touch=max(flow.last_touch, now)), []
    idle = now - flow.last_touch
    if idle >= flow.reset_after:
        return _end(flow, _leaving(flow), now)
    if idle >= flow.warn_after and not flow.warning:
        return replace(flow, warning=True), []
    return flow, []


# --- per-screen handlers --------------------------------------------------------------


def _welcome(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, FinishedUnseen) and flow.notice is WelcomeNotice.FINISHING:
        notice = {
            True: WelcomeNotice.RECEIPT_AT_COUNTER,
            False: WelcomeNotice.NOT_OPENED,
            None: WelcomeNotice.UNCERTAIN,
        }[event.opened]
        # shown from now on, for as long as the site's reset time
        return replace(flow, notice=notice, last_touch=max(flow.last_touch, event.now)), []
    if isinstance(event, Tap) and event.action == "start":
        return replace(flow, screen=Screen.INSERT_CARD, notice=None), []
    if isinstance(event, CardInserted):
        return _inserted(replace(flow, notice=None), event)
    return flow, []


def _insert_card(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, CardInserted):
        return _inserted(flow, event)
    return flow, []


def _inserted(flow: Flow, event: CardInserted) -> tuple[Flow, list[Command]]:
    if event.wrong_reader:  # never read there: the pharmacist's reader holds the CPS
        return replace(flow, screen=Screen.ERROR, message=JourneyProblem.WRONG_READER), []
    if event.kind != "vitale":
        return replace(flow, screen=Screen.ERROR, message=CardProblem.UNKNOWN), []
    return replace(flow, screen=Screen.READING), [ReadCard()]


def _reading(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, CardRead):
        if not event.card.beneficiaries:
            return replace(flow, screen=Screen.ERROR, message=CardProblem.NO_BENEFICIARY), []
        return replace(flow, screen=Screen.CHOOSE, card=event.card), []
    if isinstance(event, CardFailed | JourneyRefused):
        return replace(flow, screen=Screen.ERROR, message=event.message), []
    return flow, []


def _choose(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if not (isinstance(event, Tap) and event.action == "choose") or flow.card is None:
        return flow, []
    index = event.value
    if not isinstance(index, int) or isinstance(index, bool):
        return flow, []
    if not 0 <= index < len(flow.card.beneficiaries):
        return flow, []
    chosen = replace(flow, beneficiary=index, guardian_role=None, representative=None)
    if chosen.needs_guardian:
        if not chosen.adults:  # never the minor, never a silent default: nobody to sign
            problem = JourneyProblem.REPRESENTATIVE_ABSENT
            return replace(chosen, screen=Screen.ERROR, message=problem), []
        return replace(chosen, screen=Screen.GUARDIAN), []
    return _check(chosen, index)


def _guardian(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    """Who declares (an adult on the card, picked), then the role they declare."""
    if not isinstance(event, Tap):
        return flow, []
    if event.action == "representative":
        value = event.value
        if isinstance(value, int) and not isinstance(value, bool) and value in flow.adults:
            return replace(flow, representative=value), []
        return flow, []
    if event.action == "guardian" and event.value in GUARDIAN_ROLES:
        if flow.beneficiary is None or flow.representative is None:
            return flow, []
        return _check(replace(flow, guardian_role=str(event.value)), flow.beneficiary)
    if event.action == "back":
        return replace(
            flow, screen=Screen.CHOOSE, beneficiary=None, representative=None, guardian_role=None
        ), []
    return flow, []


def _check(flow: Flow, beneficiary: int) -> tuple[Flow, list[Command]]:
    return replace(flow, screen=Screen.CHECKING), [CheckDmp(beneficiary)]


def _checking(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, DmpChecked):
        if event.state == "exists":
            return replace(flow, screen=Screen.EXISTS, dmp_state="exists"), []
        if event.state == "closed":
            return replace(flow, screen=Screen.CLOSED, dmp_state="closed"), []
        if event.state == "not_found":
            return replace(flow, screen=Screen.INFORMATION, dmp_state="not_found"), []
        problem = JourneyProblem.DMP_NOT_CHECKED  # never create on doubt
        return replace(flow, screen=Screen.ERROR, message=problem), []
    if isinstance(event, DmpFailed):
        return replace(flow, screen=Screen.ERROR, message=event.message), []
    return flow, []


def _exists(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, Tap) and event.action in ("done", "next"):
        return _end(flow, Outcome.ALREADY_EXISTS)
    return flow, []


def _closed(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, Tap) and event.action == "reactivate":
        if event.value:
            return replace(flow, screen=Screen.INFORMATION), []
        return _end(flow, Outcome.CANCELLED)
    return flow, []


def _information(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, Tap) and event.action == "next":
        return replace(flow, screen=Screen.CONSENT), []
    return flow, []


def _consent(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if not isinstance(event, Tap):
        return flow, []
    if event.action == "toggle" and event.value in ("consent", "bris_de_glace", "centre15"):
        c = flow.choices
        consent_language = flow.language if not c.consent else None  # ticked: as read now
        choices = {
            "consent": replace(c, consent=not c.consent, consent_language=consent_language),
            "bris_de_glace": replace(c, bris_de_glace=not c.bris_de_glace),
            "centre15": replace(c, centre15=not c.centre15),
        }[str(event.value)]
        return replace(flow, choices=choices), []
    if event.action == "next" and flow.choices.consent:
        return replace(flow, screen=Screen.CONTACT), []
    if event.action == "refuse":  # asked once more; confirmed, nothing is sent (recorded)
        return replace(flow, confirming="refuse"), []
    return flow, []


def _unwarned(choices: Choices, mobile: str | None, email: str | None) -> Choices:
    """A contact changed: the warning, if one was shown, must be shown again."""
    return replace(
        choices, mobile=mobile, email=email, web_access_warned=False, warning_language=None
    )


def _contact(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if not isinstance(event, Tap):
        return flow, []
    if event.action == "mobile":
        value = str(event.value) if event.value else None
        return replace(flow, choices=_unwarned(flow.choices, value, flow.choices.email)), []
    if event.action == "email":
        value = str(event.value) if event.value else None
        return replace(flow, choices=_unwarned(flow.choices, flow.choices.mobile, value)), []
    if event.action == "next":
        wants_access = bool(flow.choices.mobile or flow.choices.email)
        if wants_access and not flow.choices.web_access_warned:
            # first "next" with a contact shows the warning; the second confirms it
            return replace(flow, choices=replace(flow.choices, web_access_warned=True)), []
        # the warning's language is the one on screen when it was confirmed
        language = flow.language if wants_access else None
        choices = replace(flow.choices, warning_language=language)
        return replace(flow, screen=Screen.ATTESTATION, choices=choices), []
    if event.action == "skip":
        choices = _unwarned(flow.choices, None, None)
        return replace(flow, screen=Screen.ATTESTATION, choices=choices), []
    return flow, []


def _attestation(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, Tap) and event.action == "attest" and isinstance(event.value, str):
        return replace(flow, attestation_pending=True), [CheckAttestation(event.value)]
    if isinstance(event, AttestationChecked) and flow.attestation_pending:
        flow = replace(flow, attestation_pending=False)  # an answer nobody asked is ignored
        if isinstance(event.verdict, Accepted) and flow.beneficiary is not None:
            opening = OpenDmp(
                flow.beneficiary,
                flow.choices,
                flow.guardian_role,
                flow.dmp_state == "closed",
                flow.representative,
            )
            return replace(flow, screen=Screen.CREATING, message=None), [opening]
        if not isinstance(event.verdict, Accepted):  # wrong, or locked: the gate says
            return replace(flow, message=event.verdict), []
    if isinstance(event, DmpFailed) and flow.attestation_pending:  # the check itself failed
        return replace(flow, screen=Screen.ERROR, message=event.message), []
    return flow, []


def _creating(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, DmpDone):
        done = replace(flow, screen=Screen.DONE, outcome=event.outcome, web_access=event.web_access)
        return done, [PrintReceipt(event.outcome, event.web_access)]
    if isinstance(event, DmpFailed):
        return replace(flow, screen=Screen.ERROR, message=event.message), []
    return flow, []


def _done(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, Tap) and event.action in ("done", "next"):
        return _end(flow, flow.outcome or Outcome.CREATED)
    return flow, []


def _error(flow: Flow, event: Event) -> tuple[Flow, list[Command]]:
    if isinstance(event, Tap) and event.action in ("done", "next"):
        return _end(flow, Outcome.ERROR)
    return flow, []


_HANDLERS = {
    Screen.WELCOME: _welcome,
    Screen.INSERT_CARD: _insert_card,
    Screen.READING: _reading,
    Screen.CHOOSE: _choose,
    Screen.GUARDIAN: _guardian,
    Screen.CHECKING: _checking,
    Screen.EXISTS: _exists,
    Screen.CLOSED: _closed,
    Screen.INFORMATION: _information,
    Screen.CONSENT: _consent,
    Screen.CONTACT: _contact,
    Screen.ATTESTATION: _attestation,
    Screen.CREATING: _creating,
    Screen.DONE: _done,
    Screen.ERROR: _error,
}
