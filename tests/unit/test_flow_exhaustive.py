"""Every screen × every event (docs/architecture.md §1, kiosk/core/flow.py): each screen is
reached through real events, then every kind of event is applied; the next screen must
be the one the table below says, card removal and timeouts end the journey everywhere,
and random event sequences never open a DMP without consent and a successful
attestation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.code_gate import LOCK_SECONDS, Accepted, CodeLocked, WrongCode
from kiosk.core.flow import (
    GUARDIAN_ROLES,
    RESET_AFTER,
    WARN_AFTER,
    AttestationChecked,
    CardFailed,
    CardInserted,
    CardRead,
    CardRemoved,
    CheckAttestation,
    Choices,
    DmpChecked,
    DmpDone,
    DmpFailed,
    Event,
    Finished,
    Flow,
    JourneyProblem,
    OpenDmp,
    Outcome,
    Screen,
    Speak,
    Tap,
    Tick,
    Wipe,
    is_minor,
    step,
)
from kiosk.dmp.service_errors import DmpProblem
from kiosk.hardware.card_errors import CardProblem
from tests.unit.flow_paths import (
    CASANOVA,
    COMMAND_KINDS,
    EMPTY,
    MARTIN,
    PATHS,
    T0,
    TODAY,
    reach,
    send,
    start,
)

S = Screen

# --- every kind of event, with representative values -------------------------------

EVENTS: dict[str, Event] = {
    "insert_vitale": CardInserted("vitale"),
    "insert_cps": CardInserted("cps"),
    "insert_unknown": CardInserted("unknown"),
    "removed": CardRemoved(),
    "read_martin": CardRead(MARTIN),
    "read_casanova": CardRead(CASANOVA),
    "read_empty": CardRead(EMPTY),
    "read_failed": CardFailed(CardProblem.UNREADABLE),
    "tick_now": Tick(T0),
    "dmp_exists": DmpChecked("exists"),
    "dmp_closed": DmpChecked("closed"),
    "dmp_not_found": DmpChecked("not_found"),
    "dmp_bogus": DmpChecked("bogus"),
    "dmp_created": DmpDone(Outcome.CREATED, web_access=True),
    "dmp_reactivated": DmpDone(Outcome.REACTIVATED, web_access=False),
    "dmp_failed": DmpFailed(DmpProblem.UNAVAILABLE),
    "attestation_ok": AttestationChecked(Accepted()),
    "attestation_wrong": AttestationChecked(WrongCode(2)),
    "attestation_locked": AttestationChecked(CodeLocked(T0 + 60, just_now=True)),
    # every Tap action flow.py knows, plus unknown ones and ill-typed values
    "start": Tap("start"),
    "cancel": Tap("cancel"),
    "next": Tap("next"),
    "back": Tap("back"),
    "done": Tap("done"),
    "skip": Tap("skip"),
    "refuse": Tap("refuse"),
    "language": Tap("language"),
    "read_aloud": Tap("read_aloud"),
    "choose_holder": Tap("choose", 0),
    "choose_spouse": Tap("choose", 1),
    "choose_twin": Tap("choose", 2),
    "choose_2019": Tap("choose", 4),
    "choose_out_of_range": Tap("choose", 99),
    "choose_negative": Tap("choose", -1),
    "choose_bool": Tap("choose", True),
    "choose_str": Tap("choose", "0"),
    "choose_none": Tap("choose"),
    "guardian_mere": Tap("guardian", "mere"),
    "guardian_pere": Tap("guardian", "pere"),
    "guardian_tuteur": Tap("guardian", "tuteur"),
    "guardian_unknown": Tap("guardian", "voisin"),
    "guardian_none": Tap("guardian"),
    "representative_holder": Tap("representative", 0),
    "representative_minor": Tap("representative", 2),
    "representative_out_of_range": Tap("representative", 99),
    "representative_bool": Tap("representative", True),
    "toggle_consent": Tap("toggle", "consent"),
    "toggle_bris": Tap("toggle", "bris_de_glace"),
    "toggle_centre15": Tap("toggle", "centre15"),
    "toggle_unknown": Tap("toggle", "marketing"),
    "mobile": Tap("mobile", "0612345678"),
    "mobile_clear": Tap("mobile", ""),
    "email": Tap("email", "jeanne@example.org"),
    "email_clear": Tap("email", None),
    "attest": Tap("attest", "1234"),
    "attest_int": Tap("attest", 1234),
    "reactivate_yes": Tap("reactivate", True),
    "reactivate_no": Tap("reactivate", False),
    "unknown_action": Tap("frobnicate", 3),
    "confirm": Tap("confirm"),
    "keep": Tap("keep"),
    "more_time": Tap("more_time"),
    "speech_on": Tap("speech", True),
    "large_text": Tap("text_size", "large"),
    "activity": Tap("activity"),
}

# --- the transition table: (screen, event) -> next screen; absent = stays ----------

TABLE: dict[Screen, dict[str, Screen]] = {
    S.WELCOME: {
        "start": S.INSERT_CARD,
        "insert_vitale": S.READING,
        "insert_cps": S.ERROR,
        "insert_unknown": S.ERROR,
    },
    S.INSERT_CARD: {
        "insert_vitale": S.READING,
        "insert_cps": S.ERROR,
        "insert_unknown": S.ERROR,
    },
    S.READING: {
        "read_martin": S.CHOOSE,
        "read_casanova": S.CHOOSE,
        "read_empty": S.ERROR,
        "read_failed": S.ERROR,
    },
    S.CHOOSE: {
        "choose_holder": S.CHECKING,
        "choose_spouse": S.CHECKING,
        "choose_twin": S.GUARDIAN,
        "choose_2019": S.GUARDIAN,
    },
    # reached with nobody named yet: a role alone stays (tests/unit/test_flow.py goes on)
    S.GUARDIAN: {"back": S.CHOOSE},
    S.CHECKING: {
        "dmp_exists": S.EXISTS,
        "dmp_closed": S.CLOSED,
        "dmp_not_found": S.INFORMATION,
        "dmp_bogus": S.ERROR,
        "dmp_failed": S.ERROR,
    },
    S.EXISTS: {"done": S.WELCOME, "next": S.WELCOME},
    S.CLOSED: {"reactivate_yes": S.INFORMATION, "reactivate_no": S.WELCOME},
    S.INFORMATION: {"next": S.CONSENT},
    # reached with consent unticked: "next" stays
    # "Je refuse" asks once more (tests/unit/test_flow.py); nothing leaves the screen
    S.CONSENT: {},
    # reached with no contact: "next" goes on at once
    S.CONTACT: {"next": S.ATTESTATION, "skip": S.ATTESTATION},
    # reached with no check pending: an unasked AttestationChecked is ignored
    S.ATTESTATION: {},
    S.CREATING: {"dmp_created": S.DONE, "dmp_reactivated": S.DONE, "dmp_failed": S.ERROR},
    S.DONE: {"done": S.WELCOME, "next": S.WELCOME},
    S.ERROR: {"done": S.WELCOME, "next": S.WELCOME},
}

AFTER_READ = (
    S.CHOOSE, S.GUARDIAN, S.CHECKING, S.EXISTS, S.CLOSED, S.INFORMATION,
    S.CONSENT, S.CONTACT, S.ATTESTATION, S.CREATING, S.DONE,
)  # fmt: skip
WAITING = (S.READING, S.CHECKING, S.CREATING)  # a remote call is under way
INTERACTIVE = tuple(s for s in S if s is not S.WELCOME and s not in WAITING)
# a journey ended on a screen that already shows a result keeps that result
ENDING_OUTCOME = {
    S.DONE: Outcome.CREATED,
    S.EXISTS: Outcome.ALREADY_EXISTS,
    S.ERROR: Outcome.ERROR,
}


# "Annuler" ends at once where a result is shown; elsewhere it asks first (tests below)
SHOWING_RESULT = (S.DONE, S.EXISTS, S.ERROR)


def expected(screen: Screen, name: str) -> Screen:
    if name == "removed":
        return S.WELCOME
    if name == "cancel" and screen in SHOWING_RESULT:
        return S.WELCOME
    return TABLE[screen].get(name, screen)


def assert_wiped(after: Flow, before: Flow) -> None:
    assert after.screen is S.WELCOME
    assert not after.holds_patient_data()
    assert after.card is None
    assert after.beneficiary is None
    assert after.guardian_role is None
    assert after.representative is None
    assert after.choices == Choices()
    assert after.dmp_state is None
    assert after.outcome is None
    assert after.message is None
    assert after.warning is False
    assert after.confirming is None
    # the next patient finds the kiosk as the site set it
    assert (after.language, after.speech, after.text_size, after.patience) == (
        before.home_language,
        False,
        "normal",
        1,
    )
    assert after.timeouts == before.timeouts
    assert after.today == before.today


def test_the_table_covers_every_screen_and_names_only_known_events() -> None:
    assert set(TABLE) == set(S)
    assert set(PATHS) == set(S)
    for row in TABLE.values():
        assert set(row) <= set(EVENTS)


@pytest.mark.parametrize("screen", list(S), ids=str)
def test_reach_gets_to_every_screen(screen: Screen) -> None:
    assert reach(screen).screen is screen


@pytest.mark.parametrize("name", list(EVENTS))
@pytest.mark.parametrize("screen", list(S), ids=str)
def test_every_screen_every_event(screen: Screen, name: str) -> None:
    before = reach(screen)
    event = EVENTS[name]
    after, commands = send(before, event)

    assert after.screen is expected(screen, name)
    assert {type(c) for c in commands} <= COMMAND_KINDS
    if after.screen is S.WELCOME and screen is not S.WELCOME:
        assert_wiped(after, before)
        assert commands[-1] == Wipe()
    if not isinstance(event, AttestationChecked):
        assert not [c for c in commands if isinstance(c, OpenDmp)]
    if isinstance(event, Tap):
        assert after.warning is False
    if after.screen in AFTER_READ:
        assert after.card is not None


@pytest.mark.parametrize("screen", list(S), ids=str)
def test_card_removed_ends_the_journey_and_wipes_everywhere(screen: Screen) -> None:
    before = reach(screen, start(language="en"))
    after, commands = step(before, CardRemoved())
    if screen is S.WELCOME:
        assert (after, commands) == (before, [])
        return
    assert_wiped(after, before)
    assert after.language == "fr"  # the kiosk's own, whatever the patient chose
    if screen is S.CREATING:
        # the DMP call runs on and the ledger records it; the screen and the memory
        # are cleared now and no outcome is claimed before the answer
        assert commands == [Wipe()]
    else:
        outcome = ENDING_OUTCOME.get(screen, Outcome.CANCELLED)
        assert commands == [Finished(outcome), Wipe()]


@pytest.mark.parametrize("screen", list(S), ids=str)
def test_cancel_ends_the_journey_except_while_creating(screen: Screen) -> None:
    before = reach(screen)
    after, commands = send(before, Tap("cancel"))
    if screen is S.WELCOME:
        assert (after.screen, commands) == (S.WELCOME, [])
    elif screen is S.CREATING:
        assert (after, commands) == (before, [])
    else:
        if screen not in SHOWING_RESULT:  # asked first: "Voulez-vous vraiment arrêter ?"
            assert (after.screen, after.confirming, commands) == (screen, "cancel", [])
            kept, commands = send(after, Tap("keep"))
            assert (kept.screen, kept.confirming, commands) == (screen, None, [])
            after, commands = send(after, Tap("confirm"))
        assert_wiped(after, before)
        outcome = ENDING_OUTCOME.get(screen, Outcome.CANCELLED)
        assert commands == [Finished(outcome), Wipe()]


@pytest.mark.parametrize("screen", INTERACTIVE, ids=str)
def test_inactivity_reset_on_every_interactive_screen(screen: Screen) -> None:
    before = reach(screen, start(language="en"))
    after, commands = step(before, Tick(T0 + RESET_AFTER))
    assert_wiped(after, before)
    assert after.last_touch == T0 + RESET_AFTER
    outcome = ENDING_OUTCOME.get(screen, Outcome.CANCELLED)
    assert commands == [Finished(outcome), Wipe()]


@pytest.mark.parametrize("screen", INTERACTIVE, ids=str)
def test_just_before_the_reset_nothing_ends(screen: Screen) -> None:
    warned, _ = step(reach(screen), Tick(T0 + WARN_AFTER))
    after, commands = step(warned, Tick(T0 + RESET_AFTER - 0.001))
    assert (after, commands) == (warned, [])


@pytest.mark.parametrize("screen", INTERACTIVE, ids=str)
def test_warning_then_any_tap_clears_it(screen: Screen) -> None:
    before = reach(screen)
    quiet, commands = step(before, Tick(T0 + WARN_AFTER - 0.001))
    assert (quiet, commands) == (before, [])
    warned, commands = step(before, Tick(T0 + WARN_AFTER))
    assert commands == []
    assert warned.screen is screen
    assert warned.warning is True
    again, commands = step(warned, Tick(T0 + WARN_AFTER + 5))
    assert (again, commands) == (warned, [])
    for name, event in EVENTS.items():
        if isinstance(event, Tap):
            after, _ = send(warned, event, T0 + WARN_AFTER + 5)
            assert after.warning is False, name
            assert after.screen is expected(screen, name), name


@pytest.mark.parametrize("screen", [S.WELCOME, *WAITING], ids=str)
def test_welcome_and_waiting_screens_never_time_out(screen: Screen) -> None:
    before = reach(screen)
    for now in (T0 + WARN_AFTER, T0 + RESET_AFTER, T0 + 100 * RESET_AFTER):
        after, commands = step(before, Tick(now))
        assert commands == []
        assert after.screen is screen
        assert after.warning is False
        assert after.holds_patient_data() == before.holds_patient_data()


@pytest.mark.parametrize(
    ("waiting", "result", "next_screen"),
    [
        (S.READING, CardRead(MARTIN), S.CHOOSE),
        (S.CHECKING, DmpChecked("not_found"), S.INFORMATION),
        (S.CHECKING, DmpFailed(DmpProblem.UNAVAILABLE), S.ERROR),
        (S.CREATING, DmpDone(Outcome.CREATED, web_access=True), S.DONE),
    ],
    ids=["reading", "checking", "checking-failed", "creating"],
)
def test_time_spent_waiting_on_a_call_is_not_inactivity(
    waiting: Screen, result: Event, next_screen: Screen
) -> None:
    # the journey ticks every second while the call runs; a slow call (deadline per
    # call) must not leave the patient a screen that warns or resets at once
    flow = reach(waiting)
    for now in range(int(T0) + 1, int(T0 + RESET_AFTER) + 30):
        flow, commands = step(flow, Tick(float(now)))
        assert commands == []
    flow, _ = step(flow, result)
    assert flow.screen is next_screen
    done_waiting = T0 + RESET_AFTER + 29
    flow, commands = step(flow, Tick(done_waiting + WARN_AFTER - 1))
    assert (flow.screen, flow.warning, commands) == (next_screen, False, [])
    flow, commands = step(flow, Tick(done_waiting + RESET_AFTER))
    assert flow.screen is S.WELCOME
    assert commands[-1] == Wipe()


@pytest.mark.parametrize("screen", list(S), ids=str)
def test_language_toggle_on_every_screen(screen: Screen) -> None:
    before = reach(screen)
    assert before.language == "fr"
    english, commands = send(before, Tap("language"))
    assert commands == []
    assert english.screen is screen
    assert english.language == "en"
    assert english.card == before.card
    assert english.choices == before.choices
    french, _ = send(english, Tap("language"))
    assert french.language == "fr"
    assert french.screen is screen


@pytest.mark.parametrize("screen", list(S), ids=str)
def test_read_aloud_on_every_screen(screen: Screen) -> None:
    for language in ("fr", "en"):
        before = reach(screen, start(language=language))
        after, commands = send(before, Tap("read_aloud"))
        assert after.screen is screen
        assert commands == [Speak(screen, language)]


# --- random event sequences ------------------------------------------------------------

POOL = [
    *EVENTS.values(),
    # more of what moves a journey forward, so random runs get far
    Tap("toggle", "consent"),
    Tap("next"),
    Tap("attest", "1234"),
    AttestationChecked(Accepted()),
    DmpChecked("closed"),
    DmpChecked("not_found"),
    Tap("guardian", "mere"),
    Tap("representative", 0),
    Tap("representative", 1),
    Tap("skip"),
    Tap("reactivate", True),
    Tap("attest", "0000"),
    AttestationChecked(WrongCode(1)),
    AttestationChecked(CodeLocked(T0)),
    DmpFailed(JourneyProblem.LEDGER_DOWN),
    Tap("cancel"),
    Tap("refuse"),
    Tap("confirm"),
    Tap("confirm"),
]
DELAYS = st.sampled_from([0.0, 0.0, 0.0, 1.0, WARN_AFTER, RESET_AFTER, LOCK_SECONDS])
STEPS = st.lists(st.tuples(DELAYS, st.sampled_from(POOL)), max_size=60)


@dataclass
class Witness:
    """What happened in the journey under way, seen from outside the flow."""

    attestation_asked: bool = False  # a CheckAttestation not answered yet
    closed_seen: bool = False


def check_open_dmp(flow: Flow, event: Event, command: OpenDmp, seen: Witness) -> None:
    assert isinstance(event, AttestationChecked)
    assert isinstance(event.verdict, Accepted)
    assert seen.attestation_asked, "OpenDmp without an asked CheckAttestation"
    assert flow.choices.consent, "OpenDmp without consent"
    beneficiary, choices = command.beneficiary, command.choices
    role, reactivate = command.guardian_role, command.reactivate
    assert choices.consent
    assert beneficiary == flow.beneficiary
    assert flow.card is not None
    person = flow.card.beneficiaries[flow.beneficiary] if flow.beneficiary is not None else None
    assert person is not None
    if is_minor(person.birth_date, TODAY):
        assert role in GUARDIAN_ROLES
        # the declarer is an adult named on the card, never the minor
        assert command.representative is not None
        adult = flow.card.beneficiaries[command.representative]
        assert not is_minor(adult.birth_date, TODAY)
    else:
        assert command.representative is None
    assert reactivate is (flow.dmp_state == "closed")
    assert reactivate is seen.closed_seen


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.sampled_from(list(S)), steps=STEPS)
def test_random_sequences_hold_the_guards(first: Screen, steps: list[tuple[float, Event]]) -> None:
    seen = Witness()
    flow = start()
    now = T0
    events = [(0.0, e) for e in PATHS[first]] + steps
    for delay, event in events:
        now += delay
        if isinstance(event, Tick):
            event = Tick(now)
        before = flow
        flow, commands = send(flow, event, now)
        kinds = [type(c) for c in commands]
        assert set(kinds) <= COMMAND_KINDS
        for command in commands:
            if isinstance(command, OpenDmp):
                check_open_dmp(before, event, command, seen)
                assert flow.screen is S.CREATING
        if isinstance(event, AttestationChecked) and before.screen is S.ATTESTATION:
            seen.attestation_asked = False  # answered
        if CheckAttestation in kinds:
            seen.attestation_asked = True
            assert before.screen is S.ATTESTATION
        if flow.screen is S.CLOSED:
            seen.closed_seen = True
        if Wipe in kinds:
            assert_wiped(flow, before)
            seen = Witness()
        elif flow.screen is S.WELCOME:
            assert not flow.holds_patient_data()
        if flow.screen in (S.CHECKING, S.EXISTS, S.CLOSED, S.INFORMATION, S.CONSENT):
            assert flow.beneficiary is not None
            if flow.needs_guardian:
                assert flow.guardian_role in GUARDIAN_ROLES
        if flow.screen in (S.CONTACT, S.ATTESTATION, S.CREATING):
            assert flow.choices.consent
        if flow.screen in AFTER_READ:
            assert flow.card is not None
        if flow.screen is S.GUARDIAN:
            assert flow.needs_guardian
