"""Runs the journey's state machine (:mod:`kiosk.core.flow`) with the real services.

Card reads and DMP calls run on a worker thread, so the UI never waits; their results
come back as flow events through :meth:`Journey.dispatch`, which the UI also calls for
taps (from the Kivy thread) and ticks. Results from a journey that has since ended (card
pulled, timeout) are dropped: each journey has a generation number.

What is written to the ledger, and when, is the ledger policy's
(:mod:`kiosk.core.ledger_policy`); what a crash left unresolved is finished by
:func:`kiosk.core.recovery.recover`, run by :meth:`Journey.warm_up`.

This module never imports Kivy.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from kiosk.core import flow as f
from kiosk.core.journey_log import JourneyLog
from kiosk.core.lazy import Lazy
from kiosk.hardware.card_errors import CardError
from kiosk.hardware.cards import VitaleCard
from kiosk.logs import context, failure

if TYPE_CHECKING:
    # The worker's side (the ledger policy, the DMP's models and errors, the receipt)
    # is imported where it is used: it loads with the services on the worker, once the
    # welcome screen is drawn (warm_up), not before the first frame (~20 ms here).
    from kiosk.billing.ledger import Ledger
    from kiosk.core.code_gate import CodeVerdict
    from kiosk.core.ledger_policy import LedgerPolicy
    from kiosk.dmp.client import DmpClient, DmpSession
    from kiosk.dmp.models import CertifiedIdentity, Guardian, Practitioner
    from kiosk.documents.facts import ReceiptFacts

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the journey needs from the outside; each is a real implementation.

    ``client`` and ``ledger`` are built on first use (see :class:`kiosk.core.lazy.Lazy`):
    importing TLS, XML signing and SQLite costs the kiosk's start-up ~200 ms, so they
    load on the journey's worker once the welcome screen is drawn (:meth:`Journey.warm_up`).
    """

    read_vitale: Callable[[], VitaleCard]
    client: Callable[[], DmpClient]
    ledger: Callable[[], Ledger]
    practitioner: Callable[[], Practitioner | None]  # the CPS in the reader, PIN verified
    rpps: Callable[[], str]
    check_code: Callable[[str], CodeVerdict]  # the one pharmacist-code gate
    print_receipt: Callable[[ReceiptFacts], None] = lambda _facts: None
    # why the ledger cannot record a journey now (None: it can), asked before each one
    ledger_room: Callable[[], str | None] = lambda: None
    speak: Callable[[str, str], None] = lambda _screen, _language: None
    # starts the DMP calls a step asked for once the screen saying they are under way is
    # drawn (the UI's; at once without one): on a slow CPU their first burst (ledger,
    # VIHF signature, TLS) would otherwise share the CPU with that frame
    when_shown: Callable[[Callable[[], None]], None] = lambda start: start()


@dataclass
class _Remote:
    """Journey-local secrets: never in the Flow shown to the UI, wiped with it."""

    session: DmpSession | None = None
    identity: CertifiedIdentity | None = None
    receipt: ReceiptFacts | None = field(default=None, repr=False)  # with the secrets


@dataclass(frozen=True)
class _Creation:
    """What the patient chose, carried from the Kivy thread to the worker."""

    session: DmpSession
    identity: CertifiedIdentity
    choices: f.Choices = field(repr=False)
    guardian: Guardian | None = field(repr=False)
    reactivate: bool
    language: str
    receipt: ReceiptFacts = field(repr=False)  # what the accusé says, without the outcome


class Journey:
    def __init__(
        self,
        services: Services,
        on_change: Callable[[f.Flow], None] = lambda _flow: None,
        on_finished: Callable[[f.Outcome], None] = lambda _outcome: None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] = dt.date.today,
        language: str = "fr",  # the first language ([kiosk] language); one tap changes it
        timeouts: f.Timeouts | None = None,  # the site's ([kiosk] idle_warning, idle_grace)
    ) -> None:
        self.services = services
        self._acts: Lazy[LedgerPolicy] = Lazy(lambda: _ledger_policy(services.ledger))
        self.on_change = on_change
        self.on_finished = on_finished
        self.clock = clock
        self.today = today
        self.flow = f.Flow(
            today=today(),
            last_touch=clock(),
            language=language,
            home_language=language,
            timeouts=timeouts or f.Timeouts(),
        )
        self._remote = _Remote()
        self._generation = 0
        self._unsettled = False  # an act was left uncertain: resolve it when a journey ends
        self._lock = threading.RLock()
        self.trail = JourneyLog(clock)  # what the technician reads in the journal
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journey")

    @property
    def acts(self) -> LedgerPolicy:
        """What is written to the ledger, and when (built on the worker's first use)."""
        return self._acts()

    def close(self) -> None:
        self._worker.shutdown(wait=True)

    def wait_idle(self, timeout: float) -> None:
        """Until the worker has done all it was asked so far (tests, benchmarks)."""
        self._worker.submit(lambda: None).result(timeout)

    # -- events in ----------------------------------------------------------------------

    def dispatch(self, event: f.Event, generation: int | None = None) -> None:
        with self._lock:
            if generation is not None and generation != self._generation:
                return  # a result for a journey that has ended
            if isinstance(event, f.Tap):
                self.flow = f.touched(self.flow, self.clock())
            self._step(event)
            flow = self.flow
        self.on_change(flow)

    def tick(self) -> None:
        self.dispatch(f.Tick(self.clock()))

    def _step(self, event: f.Event) -> None:
        before = self.flow
        self.flow, commands = f.step(before, event)
        ended = next((c.outcome for c in commands if isinstance(c, f.Finished)), None)
        if (
            ended is None
            and self.flow.screen is f.Screen.WELCOME
            and any(isinstance(c, f.Wipe) for c in commands)
        ):  # the card was pulled during a creation: the creation finishes unseen
            ended = f.Outcome.CANCELLED
        if ended is not None:
            self.trail.finished(ended, before)
        else:
            self.trail.observe(before, self.flow)
        for command in commands:
            self._run(command)

    # -- commands -----------------------------------------------------------------------

    def _run(self, command: f.Command) -> None:
        generation = self._generation
        match command:
            case f.ReadCard():
                self._submit(self._read_card, generation)
            case f.CheckDmp(beneficiary):
                card = self.flow.card
                if card is not None:
                    self._submit_when_shown(
                        lambda: self._check_dmp(card, beneficiary, generation), generation
                    )
            case f.CheckAttestation(code):  # the code's hash and the gate's file: off the UI
                check = self.services.check_code
                self._submit(lambda: f.AttestationChecked(check(code)), generation)
            case f.OpenDmp():
                self._open_dmp(command, generation)
            case f.RecordRefusal():
                language, journey = self.flow.language, self.trail.journey_id

                def refusal() -> None:
                    with context(journey=journey):
                        self.acts.record_refusal(self.services.rpps, language)

                self._worker.submit(refusal)
            case f.PrintReceipt():
                receipt, self._remote.receipt = self._remote.receipt, None
                if receipt is not None:  # the secrets exist on paper only from now on
                    with context(journey=self.trail.journey_id):
                        self.services.print_receipt(receipt)
            case f.Speak(screen, language):
                self.services.speak(screen.value, language)
            case f.Finished(outcome):
                self.on_finished(outcome)
            case f.Wipe():
                self._remote = _Remote()
                self._generation += 1
                self.flow = replace(self.flow, today=self.today())
                if self._unsettled:  # after the creation still running, on the worker
                    self._worker.submit(self._settle)
                # self.acts is read on the worker: the policy is never built on the UI thread
                self._worker.submit(lambda: self.acts.between_patients())

    def _submit(self, work: Callable[[], f.Event | None], generation: int) -> None:
        """``work`` on the worker; its event (None: it dispatched its own) goes to the
        flow unless the journey has ended since."""
        journey = self.trail.journey_id

        def run() -> None:
            with context(journey=journey):
                try:
                    result = work()
                except Exception as exc:  # noqa: BLE001 - a bug must not freeze the kiosk
                    failure(log, "journey worker failed", exc)
                    result = f.DmpFailed(f.JourneyProblem.UNEXPECTED)
            if result is not None:
                self.dispatch(result, generation)

        self._worker.submit(run)

    def _submit_when_shown(self, work: Callable[[], f.Event | None], generation: int) -> None:
        """:meth:`_submit` once the screen this step shows is drawn (``when_shown``)."""
        self.services.when_shown(lambda: self._submit(work, generation))

    # -- work done on the worker thread ---------------------------------------------------

    def _read_card(self) -> f.Event:
        if not self._can_record():  # before the card is read: nothing of the patient kept
            return f.JourneyRefused(f.JourneyProblem.CANNOT_RECORD)
        try:
            return f.CardRead(self.services.read_vitale())
        except CardError as exc:
            log.info("card read failed [%s]: %s", exc.problem.key, type(exc).__name__)
            return f.CardFailed(exc.problem)

    def _can_record(self) -> bool:
        """Whether the ledger can record a journey now: one it could not record is
        refused before it starts (the ledger policy refuses the act itself too, should
        the disk fill up meanwhile)."""
        try:
            why = self.services.ledger_room()
        except Exception as exc:  # noqa: BLE001 - a probe that fails says no
            why = f"the check failed ({type(exc).__name__})"
        if why is not None:
            log.error("no journey: the ledger cannot record one: %s", why)
        return why is None

    def _session(self) -> DmpSession:
        from kiosk.dmp.service_errors import PharmacistNotReady

        practitioner = self.services.practitioner()
        if practitioner is None:
            raise PharmacistNotReady("no pharmacist CPS is ready (PIN not entered)")
        return self.services.client().session(practitioner)

    def _check_dmp(self, card: VitaleCard, index: int, generation: int) -> f.Event:
        from kiosk.dmp.models import DmpState
        from kiosk.dmp.service_errors import DmpError
        from kiosk.dmp.traits import traits_from_vitale

        try:
            session = self._session()
            identity = session.certified_identity(traits_from_vitale(card, index))
            status = session.status(identity)
        except DmpError as exc:
            log.warning("DMP check failed [%s]: %s", exc.problem.key, exc.journal)
            return f.DmpFailed(exc.problem)
        with self._lock:
            if generation != self._generation:
                return f.DmpChecked("not_found")  # the patient left: keep nothing, dropped
            self._remote.session, self._remote.identity = session, identity
        if status.state is DmpState.EXISTS:
            self.acts.record_existing(self.services.rpps, identity, self.flow.language)
            return f.DmpChecked("exists")
        if status.state is DmpState.CLOSED:
            return f.DmpChecked("closed")
        if status.state is DmpState.NOT_FOUND:
            return f.DmpChecked("not_found")
        return f.DmpFailed(f.JourneyProblem.DMP_NOT_CHECKED)

    def _open_dmp(self, command: f.OpenDmp, generation: int) -> None:
        from kiosk.dmp.models import Guardian
        from kiosk.documents.facts import ReceiptFacts

        session, identity, card = self._remote.session, self._remote.identity, self.flow.card
        if session is None or identity is None or card is None:
            self._step(f.DmpFailed(f.JourneyProblem.CHECK_EXPIRED))
            return
        guardian = None
        representative = command.representative
        if command.guardian_role and representative is not None:
            # the adult on the card who picked themselves on the guardian screen
            adult = card.beneficiaries[representative]
            guardian = Guardian(
                adult.last_name, adult.first_name, command.guardian_role, adult.birth_date
            )
        person = card.beneficiaries[command.beneficiary]
        choices = command.choices
        pharmacist = session.practitioner
        receipt = ReceiptFacts(
            outcome=f.Outcome.REACTIVATED if command.reactivate else f.Outcome.CREATED,
            language=choices.consent_language or self.flow.language,
            first_name=person.first_name,
            last_name=person.last_name,
            birth_date=person.birth_date,
            guardian=guardian,
            pharmacist=" ".join(n for n in (pharmacist.first_name, pharmacist.last_name) if n),
            bris_de_glace=choices.bris_de_glace,
            centre15=choices.centre15,
            web_access_requested=bool(choices.mobile or choices.email),
        )
        request = _Creation(
            session,
            identity,
            choices,
            guardian,
            command.reactivate,
            choices.consent_language or self.flow.language,
            receipt,
        )
        self._submit_when_shown(lambda: self._create(request, generation), generation)

    def _create(self, request: _Creation, generation: int) -> f.Event | None:
        """On the worker: the pharmacist is checked just before the act is recorded and
        TD1.1/TD1.2 sent (ledger policy); web access (TD1.5a) last. A patient who pulled
        the card meanwhile still gets the accusé, from the pharmacist (:meth:`_unseen`),
        and is told where it is whatever happened, a bug included."""
        try:
            return self._open(request, generation)
        except Exception as exc:  # noqa: BLE001 - after the call: nobody knows the outcome
            failure(log, "journey worker failed", exc)
            self._unsettled = True
            return self._failed(f.DmpFailed(f.JourneyProblem.UNEXPECTED), generation, None)

    def _open(self, request: _Creation, generation: int) -> f.Event | None:
        from kiosk.core.ledger_policy import LedgerDown, Opening, consent_record
        from kiosk.dmp.models import Consent, Contact
        from kiosk.dmp.service_errors import (
            DmpError,
            DmpInputError,
            DmpRejected,
            PharmacistNotReady,
        )

        with self._lock:
            left = generation != self._generation
        if left:  # the patient left before anything was sent: nothing was created
            self._unseen(None, opened=False)
            return None
        session, choices = request.session, request.choices
        practitioner = self.services.practitioner()
        if practitioner is None or practitioner != session.practitioner:
            log.warning("the CPS that checked the DMP is no longer ready: no DMP call made")
            return self._failed(f.DmpFailed(PharmacistNotReady.problem), generation, False)
        contact = (
            Contact(choices.mobile, choices.email) if choices.mobile or choices.email else None
        )
        consent = Consent(choices.consent, choices.bris_de_glace, choices.centre15)
        rpps = self.services.rpps()
        role = request.guardian.role if request.guardian is not None else None
        record = consent_record(
            consent, contact is not None, request.language, rpps, role, choices.warning_language
        )
        opening = Opening(request.identity, consent, record, request.guardian, request.reactivate)
        try:
            self.acts.open_dmp(session, rpps, opening)
        except LedgerDown:
            return self._failed(f.DmpFailed(f.JourneyProblem.LEDGER_DOWN), generation, False)
        except DmpError as exc:  # recorded failed, or uncertain when nobody knows
            known = exc.outcome_known or isinstance(exc, (DmpRejected, DmpInputError))
            self._unsettled = self._unsettled or not known
            # an outcome nobody knows is told as such, not as the error that hid it
            problem = exc.problem if known else f.JourneyProblem.OUTCOME_UNKNOWN
            return self._failed(f.DmpFailed(problem), generation, False if known else None)
        web_access = None
        with self._lock:
            present = generation == self._generation
        if contact is not None and present:  # nobody left to hand the codes to
            try:
                web_access = session.create_web_access(request.identity, contact)
            except DmpError as exc:
                log.warning("web access not created [%s]: %s", exc.problem.key, exc.journal)
        outcome = f.Outcome.REACTIVATED if request.reactivate else f.Outcome.CREATED
        receipt = replace(request.receipt, web_access=web_access)
        with self._lock:
            if generation == self._generation:
                # kept and shown at once, under the lock: a card pulled between the two
                # would wipe the accusé before the "done" screen printed it
                self._remote.receipt = receipt
                self.dispatch(f.DmpDone(outcome, web_access is not None), generation)
                return None
        # the codes, if TD1.5a made them just before the pull, go to nobody: the paper
        # would pass through other hands; the patient activates the access online instead
        self._unseen(replace(receipt, patient_left=True, web_access=None), opened=True)
        return None

    def _failed(self, failed: f.DmpFailed, generation: int, opened: bool | None) -> f.DmpFailed:
        """``failed`` for the patient still there; for one who left, the welcome notice
        (``opened`` False: nothing was created; None: nobody knows yet)."""
        with self._lock:
            left = generation != self._generation
        if left:
            self._unseen(None, opened)
        return failed

    def _unseen(self, receipt: ReceiptFacts | None, opened: bool | None) -> None:
        """A creation ended after its patient pulled the card: the accusé prints for the
        pharmacist to hand over, and the welcome screen tells the patient where it is."""
        if receipt is not None:
            try:
                self.services.print_receipt(receipt)
            except Exception as exc:  # noqa: BLE001 - the notice must still be given
                failure(log, "receipt for a patient who left not printed", exc)
        self.dispatch(f.FinishedUnseen(opened, self.clock()))

    # -- start-up ---------------------------------------------------------------------------

    def warm_up(self, then: Callable[[bool], None] | None = None) -> None:
        """Load the ledger and the DMP client on the worker, then finish what a crash
        left pending, then call ``then(up)`` (on the worker; ``up`` is False when a
        service failed to load). Queued first, so a card read submitted meanwhile waits
        for it."""

        def work() -> None:
            up = True
            try:
                self.services.ledger()
                self.services.client()
                self.recover()
            except Exception:  # logged (a file, a certificate: no patient data here)
                log.exception("kiosk services failed to start")
                up = False
            if then is not None:
                then(up)

        self._worker.submit(work)

    def _settle(self) -> None:
        """On the worker, once a journey has ended: resolve the acts an earlier one left
        uncertain (TD0.2), rather than wait for the next start-up or CPS PIN; what cannot
        be resolved yet waits for the next journey's end."""
        self._unsettled = False
        try:
            self.recover()
            left = bool(self.acts.unresolved())
        except Exception as exc:  # noqa: BLE001 - the next journey's end tries again
            failure(log, "uncertain acts not resolved", exc)
            left = True
        self._unsettled = self._unsettled or left

    def recover(self) -> int:
        """Finish acts a crash left pending or uncertain (:func:`kiosk.core.recovery.recover`)."""
        from kiosk.core.recovery import recover

        return recover(self.acts, self._session)


def _ledger_policy(ledger: Callable[[], Ledger]) -> LedgerPolicy:
    from kiosk.core.ledger_policy import LedgerPolicy

    return LedgerPolicy(ledger)
