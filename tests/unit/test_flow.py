"""The journey's rules (docs/architecture.md §1, kiosk/core/flow.py), one by one: consent
defaults and refusal, minors through a legal representative, lunar birth dates, the
web-access warning, the pharmacist's attestation and its lock, reactivation, and the
wipe."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from kiosk.core.code_gate import LOCK_AFTER, LOCK_SECONDS, Accepted, CodeLocked, WrongCode
from kiosk.core.flow import (
    GUARDIAN_ROLES,
    RESET_AFTER,
    AttestationChecked,
    CardInserted,
    CardRead,
    CardRemoved,
    CheckAttestation,
    CheckDmp,
    Choices,
    Command,
    DmpChecked,
    DmpDone,
    DmpFailed,
    Event,
    Finished,
    FinishedUnseen,
    Flow,
    JourneyProblem,
    OpenDmp,
    Outcome,
    PrintReceipt,
    ReadCard,
    RecordRefusal,
    Screen,
    Tap,
    Tick,
    Timeouts,
    WelcomeNotice,
    Wipe,
    fresh,
    is_minor,
    step,
    touched,
)
from kiosk.messages import Message
from kiosk.ui.i18n import render
from tests.unit.flow_paths import (
    CASANOVA,
    CHILD_2019,
    GOOD_CODE,
    HOLDER,
    MARTIN,
    PATHS,
    SPOUSE,
    T0,
    TO_CHOOSE,
    TODAY,
    TWIN_LEO,
    TWIN_ZOE,
    Run,
    opened,
    reach,
    reach_run,
    send,
    start,
)

S = Screen


def consent_then(run: Run) -> None:
    """From INFORMATION to ATTESTATION, consenting and skipping the contact."""
    run.send(Tap("next"), Tap("toggle", "consent"), Tap("next"), Tap("skip"))
    assert run.flow.screen is S.ATTESTATION


def attest(run: Run, ok: bool = True) -> list[Command]:
    """Tap the right code (or a wrong one); the gate answers, as journey.py does."""
    return run.attest(GOOD_CODE if ok else "0000")


def shown(message: Message | None) -> str:
    """What the patient reads, in French."""
    assert message is not None
    return render(message, "fr")


# --- consent --------------------------------------------------------------------------


def test_choices_defaults_consent_unticked_emergency_accesses_ticked() -> None:
    assert Choices() == Choices(consent=False, bris_de_glace=True, centre15=True)
    flow = reach(S.CONSENT)
    assert flow.choices == Choices()
    assert not flow.choices.consent
    assert flow.choices.bris_de_glace
    assert flow.choices.centre15


def test_next_without_consent_stays_on_consent() -> None:
    flow = reach(S.CONSENT)
    for event in (Tap("next"), Tap("toggle", "bris_de_glace"), Tap("next")):
        flow, commands = send(flow, event)
        assert flow.screen is S.CONSENT
        assert commands == []
    # ticked then unticked again: still no way on
    flow, _ = send(flow, Tap("toggle", "consent"))
    flow, _ = send(flow, Tap("toggle", "consent"))
    flow, _ = send(flow, Tap("next"))
    assert flow.screen is S.CONSENT


def test_toggles_flip_and_the_choices_reach_open_dmp() -> None:
    run = reach_run(S.CONSENT)
    run.send(Tap("toggle", "bris_de_glace"), Tap("toggle", "centre15"))
    run.send(Tap("toggle", "consent"), Tap("toggle", "centre15"), Tap("toggle", "unknown"))
    chosen = Choices(consent=True, bris_de_glace=False, centre15=True, consent_language="fr")
    assert run.flow.choices == chosen
    run.send(Tap("next"), Tap("skip"))
    (command,) = opened(attest(run))
    assert command.choices == chosen


@pytest.mark.parametrize("consented", [False, True])
def test_refusal_records_it_and_ends_without_creation(consented: bool) -> None:
    run = reach_run(S.CONSENT, start(language="en"))
    if consented:
        run.send(Tap("toggle", "consent"))
    before = run.flow
    assert run.send(Tap("refuse")) == []  # "Vous refusez l'ouverture du DMP ?"
    assert (run.flow.screen, run.flow.confirming) == (S.CONSENT, "refuse")
    commands = run.send(Tap("confirm"))
    assert commands == [
        RecordRefusal(),
        Finished(Outcome.REFUSED),
        Wipe(),
    ]
    assert not opened(run.commands)
    assert run.flow == fresh(before, T0)
    assert run.flow.language == "fr"  # the kiosk's own, for the next patient


def test_full_creation_path_commands_in_order() -> None:
    run = reach_run(S.DONE)
    assert run.kinds() == [ReadCard, CheckDmp, CheckAttestation, OpenDmp, PrintReceipt]
    (command,) = opened(run.commands)
    consented = replace(Choices(), consent=True, consent_language="fr")
    assert command == OpenDmp(HOLDER, consented, None, False)
    assert run.flow.outcome is Outcome.CREATED
    commands = run.send(Tap("done"))
    assert commands == [Finished(Outcome.CREATED), Wipe()]


# --- minors and the legal representative --------------------------------------------


@pytest.mark.parametrize("minor", [TWIN_LEO, TWIN_ZOE, CHILD_2019])
def test_a_minor_goes_through_guardian_and_needs_a_known_role(minor: int) -> None:
    run = Run(start())
    run.send(*TO_CHOOSE, Tap("choose", minor))
    assert run.flow.screen is S.GUARDIAN
    assert run.flow.needs_guardian
    # nobody named yet: a role alone is nobody's declaration
    assert run.send(Tap("guardian", "tuteur")) == []
    assert run.flow.screen is S.GUARDIAN
    # only an adult on the card may declare: never the minor, another minor, or nobody
    for nobody in (TWIN_LEO, TWIN_ZOE, CHILD_2019, 99, -1, True, "0", None):
        assert run.send(Tap("representative", nobody)) == []
        assert run.flow.representative is None
    run.send(Tap("representative", SPOUSE))
    assert run.flow.representative == SPOUSE
    for ignored in (Tap("guardian", "voisin"), Tap("guardian"), Tap("guardian", 1), Tap("next")):
        assert run.send(ignored) == []
        assert run.flow.screen is S.GUARDIAN
        assert run.flow.guardian_role is None
    assert run.send(Tap("guardian", "tuteur")) == [CheckDmp(minor)]
    assert run.screen() is S.CHECKING
    run.send(DmpChecked("not_found"))
    consent_then(run)
    (command,) = opened(attest(run))
    assert command.beneficiary == minor
    assert command.guardian_role == "tuteur"
    assert command.representative == SPOUSE  # who picked their name, not the holder


def test_a_minor_alone_on_the_card_cannot_open_her_own_dmp() -> None:
    """A 16-year-old whose card names nobody else: she is never her own representative,
    and nobody is picked for her; the journey stops, saying who must come."""
    teen = replace(MARTIN.beneficiaries[TWIN_LEO], birth_date="20100301")
    card = replace(MARTIN, beneficiaries=(teen,))
    run = Run(start())
    commands = run.send(Tap("start"), CardInserted("vitale"), CardRead(card), Tap("choose", 0))
    assert run.flow.screen is S.ERROR
    assert run.flow.message is JourneyProblem.REPRESENTATIVE_ABSENT
    assert not any(isinstance(c, CheckDmp) for c in commands)
    assert run.send(Tap("representative", 0)) == []


@pytest.mark.parametrize("role", GUARDIAN_ROLES)
def test_every_declared_role_is_accepted(role: str) -> None:
    flow, _ = send(reach(S.GUARDIAN), Tap("representative", HOLDER))
    flow, commands = send(flow, Tap("guardian", role))
    assert flow.screen is S.CHECKING
    assert flow.guardian_role == role
    assert commands == [CheckDmp(TWIN_LEO)]


def test_guardian_back_returns_to_choose_and_forgets_the_minor() -> None:
    flow, _ = send(reach(S.GUARDIAN), Tap("representative", HOLDER))
    flow, _ = send(flow, Tap("back"))
    assert flow.screen is S.CHOOSE
    assert flow.beneficiary is None
    assert flow.guardian_role is None
    assert flow.representative is None
    flow, commands = send(flow, Tap("choose", HOLDER))
    assert flow.screen is S.CHECKING
    assert commands == [CheckDmp(HOLDER)]


@pytest.mark.parametrize("adult", [HOLDER, SPOUSE])
def test_an_adult_skips_guardian(adult: int) -> None:
    run = Run(start())
    commands = run.send(*TO_CHOOSE, Tap("choose", adult))
    assert run.flow.screen is S.CHECKING
    assert not run.flow.needs_guardian
    assert run.flow.guardian_role is None
    assert commands[-1] == CheckDmp(adult)


@pytest.mark.parametrize(
    ("index", "screen"),
    [(0, S.CHECKING), (1, S.CHECKING), (2, S.GUARDIAN)],
    ids=["1950-lunar-holder", "1955-spouse", "2012-04-lunar-child"],
)
def test_casanova_lunar_birth_dates(index: int, screen: Screen) -> None:
    run = Run(start())
    run.send(Tap("start"), CardInserted("vitale"), CardRead(CASANOVA), Tap("choose", index))
    assert run.flow.screen is screen


@pytest.mark.parametrize(
    ("birth_date", "minor"),
    [
        ("19800512", False),
        ("19500000", False),  # lunar, long an adult
        ("20120400", True),  # lunar day, a child
        ("20150301", True),
        ("20191224", True),
        ("20081123", False),  # 18 today
        ("20081124", True),  # 18 tomorrow
        ("20081122", False),
        ("20080000", True),  # doubtful (2008-12-31 at the latest): counted a minor
        ("20081100", True),  # doubtful (November 2008, maybe after the 23rd)
        ("20081000", False),  # October 2008 at the latest: 18 already
        ("20070000", False),  # 2007 at the latest: 18 already
        ("20080015", True),  # unknown month: December at the latest
        ("20081300", True),  # impossible month, clamped to December
        ("20081131", True),  # impossible day
        ("20080231", False),  # impossible day, in February: over 18
        ("20300101", True),  # in the future
        ("", True),
        ("2008", True),
        ("abcdefgh", True),
        ("2008AB23", True),
    ],
)
def test_is_minor_table(birth_date: str, minor: bool) -> None:
    assert is_minor(birth_date, TODAY) is minor


def test_is_minor_around_a_leap_birthday() -> None:
    assert is_minor("20080229", dt.date(2026, 2, 28))
    assert not is_minor("20080229", dt.date(2026, 3, 1))


@pytest.mark.parametrize("value", [-1, 5, 99, True, "0", None, 0.0])
def test_choose_ignores_a_bad_index(value: object) -> None:
    flow = reach(S.CHOOSE)
    after, commands = send(flow, Tap("choose", value))  # type: ignore[arg-type]
    assert (after.screen, after.beneficiary, commands) == (S.CHOOSE, None, [])


def test_a_card_without_beneficiary_is_an_error() -> None:
    flow, commands = step(reach(S.READING), CardRead(replace(MARTIN, beneficiaries=())))
    assert flow.screen is S.ERROR
    assert flow.card is None
    assert commands == []


# --- contact and the web-access warning ---------------------------------------------


@pytest.mark.parametrize("action", ["mobile", "email"])
def test_contact_needs_two_nexts_the_first_shows_the_warning(action: str) -> None:
    value = "0612345678" if action == "mobile" else "jeanne@example.org"
    run = reach_run(S.CONTACT)
    run.send(Tap(action, value))
    assert not run.flow.choices.web_access_warned
    assert run.send(Tap("next")) == []
    assert run.flow.screen is S.CONTACT
    assert run.flow.choices.web_access_warned
    run.send(Tap("next"))
    assert run.flow.screen is S.ATTESTATION
    (command,) = opened(attest(run))
    choices = command.choices
    assert getattr(choices, action) == value
    assert choices.web_access_warned


def test_the_warning_counts_in_the_language_it_was_confirmed_in() -> None:
    run = reach_run(S.CONTACT)
    run.send(Tap("mobile", "0612345678"), Tap("next"), Tap("language"))  # read in English
    run.send(Tap("next"))
    assert run.flow.screen is S.ATTESTATION
    assert run.flow.choices.warning_language == "en"
    assert run.flow.choices.consent_language == "fr"  # consent was ticked in French


def test_skipping_the_contact_forgets_the_warning() -> None:
    run = reach_run(S.CONTACT)
    run.send(Tap("mobile", "0612345678"), Tap("next"), Tap("skip"))
    assert run.flow.choices.warning_language is None
    assert not run.flow.choices.web_access_warned


def test_consent_counts_in_the_language_on_screen_when_ticked() -> None:
    run = reach_run(S.CONSENT)
    run.send(Tap("language"), Tap("toggle", "consent"), Tap("language"))
    assert run.flow.choices.consent_language == "en"
    run.send(Tap("toggle", "consent"))  # unticked: no consent, no language
    assert run.flow.choices.consent_language is None
    run.send(Tap("toggle", "consent"))
    assert run.flow.choices.consent_language == "fr"


def test_changing_the_contact_resets_the_warning() -> None:
    run = reach_run(S.CONTACT)
    run.send(Tap("mobile", "0612345678"), Tap("next"))
    assert run.flow.choices.web_access_warned
    run.send(Tap("mobile", "0712345678"))
    assert not run.flow.choices.web_access_warned
    run.send(Tap("next"))
    assert run.flow.screen is S.CONTACT  # warned again for the new number
    run.send(Tap("email", "a@example.org"))
    assert not run.flow.choices.web_access_warned
    run.send(Tap("next"), Tap("next"))
    assert run.flow.screen is S.ATTESTATION
    assert run.flow.choices.mobile == "0712345678"
    assert run.flow.choices.email == "a@example.org"


def test_clearing_the_contact_needs_no_warning() -> None:
    run = reach_run(S.CONTACT)
    run.send(Tap("mobile", "0612345678"), Tap("mobile", ""))
    assert run.flow.choices.mobile is None
    run.send(Tap("next"))
    assert run.flow.screen is S.ATTESTATION


def test_skip_clears_the_contact() -> None:
    run = reach_run(S.CONTACT)
    run.send(Tap("mobile", "0612345678"), Tap("email", "a@example.org"), Tap("next"))
    run.send(Tap("skip"))
    assert run.flow.screen is S.ATTESTATION
    assert run.flow.choices == replace(Choices(), consent=True, consent_language="fr")


# --- the pharmacist's attestation ------------------------------------------------------


def test_no_creation_without_a_successful_attestation() -> None:
    run = reach_run(S.ATTESTATION)
    assert run.send(Tap("attest", 1234)) == []  # not a code
    commands = attest(run, ok=False)
    assert [type(c) for c in commands] == [CheckAttestation]
    assert run.flow.screen is S.ATTESTATION
    assert not opened(run.commands)


def test_an_answer_nobody_asked_for_is_ignored() -> None:
    flow = reach(S.ATTESTATION)
    for verdict in (Accepted(), WrongCode(2)):
        after, commands = step(flow, AttestationChecked(verdict))
        assert (after, commands) == (flow, [])
    # one answer per question: a second "ok" does not open a second time
    flow, _ = send(flow, Tap("attest", "1234"))
    assert flow.attestation_pending
    flow, commands = step(flow, AttestationChecked(WrongCode(2)))
    assert not flow.attestation_pending
    flow, commands = step(flow, AttestationChecked(Accepted()))
    assert (flow.screen, commands) == (S.ATTESTATION, [])


def test_the_gate_answer_is_what_the_patient_reads() -> None:
    """The flow keeps no lock of its own: it shows the gate's answer."""
    flow, _ = send(reach(S.ATTESTATION), Tap("attest", "0000"))
    locked, commands = step(flow, AttestationChecked(CodeLocked(T0 + 60)))
    assert (locked.screen, commands) == (S.ATTESTATION, [])
    assert locked.message == CodeLocked(T0 + 60)
    assert shown(locked.message) == "Saisie bloquée : patientez quelques minutes."
    flow, _ = send(locked, Tap("attest", GOOD_CODE))
    accepted, commands = step(flow, AttestationChecked(Accepted()))
    assert accepted.screen is S.CREATING
    assert accepted.message is None
    assert [type(c) for c in commands] == [OpenDmp]


def test_a_check_that_fails_is_an_error_not_a_wait_for_ever() -> None:
    flow, _ = send(reach(S.ATTESTATION), Tap("attest", GOOD_CODE))
    assert flow.attestation_pending
    failed, commands = step(flow, DmpFailed(JourneyProblem.UNEXPECTED))
    assert (failed.screen, failed.message, commands) == (S.ERROR, JourneyProblem.UNEXPECTED, [])
    idle = reach(S.ATTESTATION)  # nothing asked: nothing to fail
    assert step(idle, DmpFailed(JourneyProblem.UNEXPECTED)) == (idle, [])


def test_three_wrong_codes_lock_the_attestation() -> None:
    run = reach_run(S.ATTESTATION)
    attest(run, ok=False)
    assert shown(run.flow.message) == "Code incorrect (2 essai(s))."
    assert run.gate.failures == 1
    attest(run, ok=False)
    assert shown(run.flow.message) == "Code incorrect (1 essai(s))."
    assert LOCK_AFTER == 3
    run.now = T0 + 7
    attest(run, ok=False)
    assert "bloquée" in shown(run.flow.message)
    assert run.gate.locked_until == T0 + 7 + LOCK_SECONDS
    assert run.flow.screen is S.ATTESTATION

    for now in (T0 + 8, T0 + 7 + LOCK_SECONDS - 0.5):
        run.now = now
        assert opened(attest(run, ok=True)) == []  # even the right code waits
        assert "bloquée" in shown(run.flow.message)
    run.now = T0 + 7 + LOCK_SECONDS
    commands = attest(run, ok=True)
    assert [type(c) for c in commands] == [CheckAttestation, OpenDmp]
    assert run.screen() is S.CREATING
    assert run.gate.failures == 0


def test_a_good_code_resets_the_count_of_failures() -> None:
    run = reach_run(S.ATTESTATION)
    attest(run, ok=False)
    attest(run, ok=False)
    attest(run, ok=True)
    assert run.gate.failures == 0
    assert run.gate.locked_until == 0.0


def test_the_lock_survives_the_end_of_the_journey() -> None:
    run = reach_run(S.ATTESTATION)
    for _ in range(LOCK_AFTER):
        attest(run, ok=False)
    locked_until = run.gate.locked_until
    assert locked_until == T0 + LOCK_SECONDS
    for end in (Tap("confirm"), CardRemoved(), Tick(T0 + RESET_AFTER)):
        asked = replace(run.flow, confirming="cancel")  # "Annuler", then "Oui, arrêter"
        flow, commands = send(asked, end)
        assert commands[-1] == Wipe()
        assert run.gate.locked_until == locked_until
        # the next patient, a minute later, cannot have the code tried either
        again = reach_run(S.ATTESTATION, flow, now=T0 + 60, gate=run.gate)
        assert opened(attest(again, ok=True)) == []
        assert "bloquée" in shown(again.flow.message)


def test_failures_count_across_journeys() -> None:
    run = reach_run(S.ATTESTATION)
    attest(run, ok=False)
    attest(run, ok=False)
    flow, _ = send(run.flow, Tap("cancel"))
    assert run.gate.failures == 2
    run = reach_run(S.ATTESTATION, flow, gate=run.gate)
    attest(run, ok=False)
    assert run.gate.locked_until == T0 + LOCK_SECONDS


# --- existing and closed DMPs ---------------------------------------------------------


def test_closed_then_reactivate_carries_reactivate_to_open_dmp() -> None:
    run = reach_run(S.CLOSED)
    assert run.send(Tap("reactivate", True)) == []
    assert run.flow.screen is S.INFORMATION
    consent_then(run)
    (command,) = opened(attest(run))
    assert command.reactivate is True
    run.send(DmpDone(Outcome.REACTIVATED, web_access=False))
    assert run.screen() is S.DONE
    assert run.commands[-1] == PrintReceipt(Outcome.REACTIVATED, False)
    assert run.send(Tap("next")) == [
        Finished(Outcome.REACTIVATED),
        Wipe(),
    ]


def test_not_found_creates_without_reactivate() -> None:
    (command,) = opened(reach_run(S.CREATING).commands)
    assert command.reactivate is False


def test_closed_then_decline_ends_cancelled() -> None:
    flow = reach(S.CLOSED)
    after, commands = send(flow, Tap("reactivate", False))
    assert commands == [Finished(Outcome.CANCELLED), Wipe()]
    assert after == fresh(flow, T0)


def test_exists_ends_without_creation() -> None:
    run = reach_run(S.EXISTS)
    assert run.send(Tap("next")) == [
        Finished(Outcome.ALREADY_EXISTS),
        Wipe(),
    ]
    assert not opened(run.commands)


def test_an_unknown_dmp_state_is_an_error_never_a_creation() -> None:
    flow, commands = step(reach(S.CHECKING), DmpChecked("unknown"))
    assert flow.screen is S.ERROR
    assert commands == []


# --- ends that keep the result shown --------------------------------------------------


@pytest.mark.parametrize("outcome", [Outcome.CREATED, Outcome.REACTIVATED])
@pytest.mark.parametrize("leave", ["removed", "timeout", "cancel", "next"])
def test_pulling_the_card_on_done_keeps_the_outcome(outcome: Outcome, leave: str) -> None:
    run = reach_run(S.CREATING)
    run.send(DmpDone(outcome, web_access=True))
    assert run.flow.web_access
    leaving: dict[str, Event] = {
        "removed": CardRemoved(),
        "timeout": Tick(T0 + RESET_AFTER),
        "cancel": Tap("cancel"),
        "next": Tap("next"),
    }
    event = leaving[leave]
    assert run.send(event) == [Finished(outcome), Wipe()]
    assert not run.flow.web_access  # the next patient starts afresh


@pytest.mark.parametrize("created", [True, False])
def test_done_knows_whether_web_access_was_created(created: bool) -> None:
    run = reach_run(S.CREATING)
    run.send(DmpDone(Outcome.CREATED, web_access=created))
    assert run.flow.screen is S.DONE
    assert run.flow.web_access is created
    assert run.commands[-1] == PrintReceipt(Outcome.CREATED, created)


def test_card_removed_while_creating_wipes_and_ignores_the_late_answer() -> None:
    flow = reach(S.CREATING)
    flow, commands = step(flow, CardRemoved())
    assert commands == [Wipe()]
    assert not flow.holds_patient_data()
    late, commands = step(flow, DmpDone(Outcome.CREATED, web_access=True))
    assert (late, commands) == (flow, [])


@pytest.mark.parametrize(
    ("opened", "notice"),
    [(True, WelcomeNotice.RECEIPT_AT_COUNTER), (False, WelcomeNotice.NOT_OPENED)],
)
def test_a_patient_who_pulled_the_card_is_told_where_the_accuse_is(
    opened: bool, notice: WelcomeNotice
) -> None:
    flow, _ = step(reach(S.CREATING), CardRemoved())
    assert flow.screen is S.WELCOME
    assert flow.notice is WelcomeNotice.FINISHING  # the creation runs on
    flow, commands = step(flow, FinishedUnseen(opened))
    assert (flow.notice, commands) == (notice, [])
    assert not flow.holds_patient_data()
    # for that patient, not the next: gone once a journey starts or after a while
    assert step(flow, Tap("start"))[0].notice is None
    assert step(flow, CardInserted("vitale"))[0].notice is None
    assert step(flow, Tick(T0 + RESET_AFTER))[0].notice is None
    assert step(flow, Tick(T0 + 1))[0].notice is notice


def test_an_unseen_outcome_is_not_shown_to_someone_else() -> None:
    """Nobody was told "finishing": a late FinishedUnseen changes nothing."""
    assert step(start(), FinishedUnseen(True)) == (start(), [])
    mid = reach(S.CONSENT)
    assert step(mid, FinishedUnseen(True)) == (mid, [])


# --- the wipe -------------------------------------------------------------------------

ENDS: dict[str, Event] = {
    "cancel": Tap("cancel"),
    "removed": CardRemoved(),
    "timeout": Tick(T0 + 10 * RESET_AFTER),
}


WAYS_BACK = [
    (screen, end)
    for screen in S
    for end in ENDS
    if screen not in (S.WELCOME, S.CREATING)  # CREATING: see the removal test above
    and not (end == "timeout" and screen in (S.READING, S.CHECKING))  # no idle timeout
]


@pytest.mark.parametrize(("screen", "end"), WAYS_BACK)
def test_every_way_back_to_welcome_wipes(screen: Screen, end: str) -> None:
    before = reach(screen, start(language="en", speech=True, text_size="large"))
    if end == "cancel" and screen not in (S.DONE, S.EXISTS, S.ERROR):
        before, _ = send(before, ENDS[end])  # "Voulez-vous vraiment arrêter ?"
        after, commands = send(before, Tap("confirm"))
    else:
        after, commands = send(before, ENDS[end])
    assert commands[-1] == Wipe()
    assert after.screen is S.WELCOME
    assert not after.holds_patient_data()
    assert after.card is None
    assert after.person is None
    assert after.choices == Choices()
    # the next patient gets the kiosk's own language, normal text, no speech
    assert (after.language, after.speech, after.text_size) == ("fr", False, "normal")
    assert after.message is None
    assert after == fresh(before, after.last_touch)


def test_fresh_keeps_only_the_sites_settings_and_the_date() -> None:
    site = Timeouts(warn_after=120.0, grace=45.0)
    run = reach_run(S.CREATING, start(language="en", home_language="en", timeouts=site))
    flow = replace(
        run.flow, message=WrongCode(1), warning=True, speech=True, text_size="large", patience=4
    )
    clean = fresh(replace(flow, language="fr"), 42.0)
    assert clean == Flow(
        language="en", home_language="en", timeouts=site, last_touch=42.0, today=TODAY
    )
    assert not clean.holds_patient_data()


def test_holds_patient_data_along_the_journey() -> None:
    run = Run(start())
    assert not run.flow.holds_patient_data()
    for event in PATHS[S.DONE]:
        run.send(event)
        has_card = run.flow.card is not None
        assert run.flow.holds_patient_data() is has_card


def test_touched_stamps_time_and_clears_the_warning() -> None:
    flow = replace(reach(S.CONSENT), warning=True)
    after = touched(flow, T0 + 12)
    assert (after.last_touch, after.warning) == (T0 + 12, False)
    assert replace(after, last_touch=flow.last_touch, warning=True) == flow


def test_welcome_ignores_removal_and_cancel_when_empty() -> None:
    flow = start()
    assert step(flow, CardRemoved()) == (flow, [])
    assert send(flow, Tap("cancel")) == (flow, [])
    assert step(flow, Tick(T0 + 10 * RESET_AFTER)) == (flow, [])


# --- time, speech, text size, confirmations (issue 13) ------------------------------------


def test_the_sites_timeouts_speech_and_more_time_set_the_inactivity() -> None:
    site = Timeouts(warn_after=100.0, grace=50.0)
    flow = reach(S.CONSENT, start(timeouts=site))
    assert step(flow, Tick(T0 + 99.9))[0].warning is False
    warned, _ = step(flow, Tick(T0 + 100))
    assert warned.warning
    assert step(warned, Tick(T0 + 150))[0].screen is S.WELCOME
    # speech mode doubles both times
    spoken, _ = send(flow, Tap("speech", True))
    assert step(spoken, Tick(T0 + 199))[0].warning is False
    assert step(spoken, Tick(T0 + 299))[0].screen is S.CONSENT
    assert step(spoken, Tick(T0 + 300))[0].screen is S.WELCOME
    # "Plus de temps" doubles them again, up to eight times the site's
    more, _ = send(warned, Tap("more_time"), T0 + 100)
    assert (more.warning, more.patience) == (False, 2)
    assert step(more, Tick(T0 + 100 + 299))[0].screen is S.CONSENT
    for _ in range(5):
        more, _ = send(more, Tap("more_time"))
    assert more.patience == 8


def test_typing_counts_as_activity() -> None:
    """A key of the on-screen keyboard sends Tap("activity"): a slow typist keeps going."""
    flow = reach(S.CONTACT)
    for second in range(10, 300, 10):
        flow, commands = send(flow, Tap("activity"), T0 + second)
        flow, commands = step(flow, Tick(T0 + second + 5))
        assert (flow.screen, flow.warning, commands) == (S.CONTACT, False, [])


def test_a_confirmation_is_asked_once_and_forgotten_by_any_other_tap() -> None:
    flow, _ = send(reach(S.CONSENT), Tap("cancel"))
    assert flow.confirming == "cancel"
    assert send(flow, Tap("activity"))[0].confirming == "cancel"  # a speech gesture
    for other in (Tap("keep"), Tap("toggle", "consent"), Tap("language"), Tap("next")):
        after, commands = send(flow, other)
        assert after.confirming is None
        assert not any(isinstance(c, (Finished, RecordRefusal)) for c in commands)
    # "confirm" with nothing asked does nothing
    assert send(reach(S.CONSENT), Tap("confirm")) == (reach(S.CONSENT), [])
    # a question about a screen the journey left is dropped
    checking, _ = send(reach(S.CHECKING), Tap("cancel"))
    moved, _ = step(checking, DmpChecked("not_found"))
    assert (moved.screen, moved.confirming) == (S.INFORMATION, None)


def test_speech_and_text_size_are_the_patients_for_one_journey() -> None:
    flow, _ = send(start(), Tap("speech", True))
    flow, _ = send(flow, Tap("text_size", "large"))
    assert (flow.speech, flow.text_size) == (True, "large")
    for ignored in (Tap("speech", "yes"), Tap("text_size", "huge"), Tap("speech")):
        assert send(flow, ignored)[0] == flow
    run = reach_run(S.CONSENT, flow)
    assert (run.flow.speech, run.flow.text_size) == (True, "large")
    run.send(CardRemoved())
    assert (run.flow.speech, run.flow.text_size) == (False, "normal")


def test_a_patient_who_walks_away_from_welcome_leaves_nothing_for_the_next() -> None:
    flow, _ = send(start(), Tap("language"))
    flow, _ = send(flow, Tap("speech", True))
    assert step(flow, Tick(T0 + 10))[0] == flow
    after, commands = step(flow, Tick(T0 + 2 * RESET_AFTER))  # speech mode: twice as long
    assert (after.language, after.speech, commands) == ("fr", False, [])
    assert step(start(), Tick(T0 + 10 * RESET_AFTER)) == (start(), [])
