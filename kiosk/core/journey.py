"""Runs the journey's state machine (:mod:`kiosk.core.flow`) with the real services.

Card reads and DMP calls run on a worker thread, so the UI never waits; their results
come back as flow events through :meth:`Journey.dispatch`, which the UI also calls for
taps (from the Kivy thread) and ticks. Results from a journey that has since ended (card
pulled, timeout) are dropped: each journey has a generation number.

The ledger is written before the remote call (``pending``) and after it (the outcome);
an answer lost in transit is resolved with TD0.2 before the patient is told anything,
and :meth:`Journey.recover` finishes at start-up what a crash left pending.

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

from kiosk.billing.chain import ALREADY_EXISTED, CONFIRMED, FAILED, UNCERTAIN
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE
from kiosk.core import flow as f
from kiosk.core.consent_text import CONSENT_TEXT_VERSION, consent_text_sha256
from kiosk.dmp.models import (
    CertifiedIdentity,
    Consent,
    Contact,
    DmpState,
    Guardian,
    Practitioner,
    WebAccess,
)
from kiosk.dmp.service_errors import DmpError, DmpRejected, PharmacistNotReady
from kiosk.dmp.traits import traits_from_vitale
from kiosk.hardware.card_errors import CardError
from kiosk.hardware.cards import VitaleCard

if TYPE_CHECKING:  # loaded on first use, after the welcome screen is up (warm_up)
    from kiosk.billing.ledger import Ledger
    from kiosk.dmp.client import DmpClient, DmpSession

log = logging.getLogger(__name__)
LEDGER_DOWN = (
    "La borne ne peut pas enregistrer l'ouverture pour le moment : rien n'a été envoyé. "
    "Adressez-vous au pharmacien."
)


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
    pharmacist_code_ok: Callable[[str], bool]
    print_receipt: Callable[[f.Outcome, str, WebAccess | None], None] = lambda _o, _l, _w: None
    speak: Callable[[str, str], None] = lambda _screen, _language: None


@dataclass
class _Remote:
    """Journey-local secrets: never in the Flow shown to the UI, wiped with it."""

    session: DmpSession | None = None
    identity: CertifiedIdentity | None = None
    web_access: WebAccess | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _Creation:
    """What the patient chose, carried from the Kivy thread to the worker."""

    session: DmpSession
    identity: CertifiedIdentity
    choices: f.Choices
    language: str
    guardian: Guardian | None
    contact: Contact | None
    reactivate: bool


class Journey:
    def __init__(
        self,
        services: Services,
        on_change: Callable[[f.Flow], None] = lambda _flow: None,
        on_finished: Callable[[f.Outcome], None] = lambda _outcome: None,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] = dt.date.today,
        language: str = "fr",  # the first language ([kiosk] language); one tap changes it
    ) -> None:
        self.services = services
        self.on_change = on_change
        self.on_finished = on_finished
        self.clock = clock
        self.today = today
        self.flow = f.Flow(today=today(), last_touch=clock(), language=language)
        self._remote = _Remote()
        self._generation = 0
        self._lock = threading.RLock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journey")

    def close(self) -> None:
        self._worker.shutdown(wait=True)

    # -- events in ----------------------------------------------------------------------

    def dispatch(self, event: f.Event, generation: int | None = None) -> None:
        with self._lock:
            if generation is not None and generation != self._generation:
                return  # a result for a journey that has ended
            if isinstance(event, f.Tap):
                self.flow = f.touched(self.flow, self.clock())
            self.flow, commands = f.step(self.flow, event)
            for command in commands:
                self._run(command)
            flow = self.flow
        self.on_change(flow)

    def tick(self) -> None:
        self.dispatch(f.Tick(self.clock()))

    # -- commands -----------------------------------------------------------------------

    def _run(self, command: f.Command) -> None:
        generation = self._generation
        name, args = command.name, command.args
        if name == "read_card":
            self._submit(self._read_card, generation)
        elif name == "check_dmp":
            card = self.flow.card
            index = args[0]
            if card is not None and isinstance(index, int):
                self._submit(lambda: self._check_dmp(card, index, generation), generation)
        elif name == "check_attestation":
            ok = self.services.pharmacist_code_ok(str(args[0]))
            self.flow, more = f.step(self.flow, f.AttestationChecked(ok))
            for extra in more:
                self._run(extra)
        elif name == "open_dmp":
            self._open_dmp(generation, *args)
        elif name == "record_refusal":
            self._record_refusal()
        elif name == "print_receipt":
            outcome = args[0]
            if isinstance(outcome, f.Outcome):
                self.services.print_receipt(outcome, self.flow.language, self._remote.web_access)
            self._remote.web_access = None  # the secrets exist on paper only
        elif name == "speak":
            self.services.speak(str(args[0]), str(args[1]))
        elif name == "finished":
            outcome = args[0]
            if isinstance(outcome, f.Outcome):
                self.on_finished(outcome)
        elif name == "wipe":
            self._remote = _Remote()
            self._generation += 1
            self.flow = replace(self.flow, today=self.today())

    def _submit(self, work: Callable[[], f.Event], generation: int) -> None:
        def run() -> None:
            try:
                event = work()
            except Exception:  # a bug must not freeze the kiosk: logged, shown as an error
                log.exception("journey worker failed")
                event = f.DmpFailed("Une erreur inattendue est survenue. Réessayez.")
            self.dispatch(event, generation)

        self._worker.submit(run)

    # -- work done on the worker thread ---------------------------------------------------

    def _read_card(self) -> f.Event:
        try:
            return f.CardRead(self.services.read_vitale())
        except CardError as exc:
            log.info("card read failed: %s", type(exc).__name__)
            return f.CardFailed(exc.patient_message)

    def _session(self) -> DmpSession:
        practitioner = self.services.practitioner()
        if practitioner is None:
            raise PharmacistNotReady("no pharmacist CPS is ready (PIN not entered)")
        return self.services.client().session(practitioner)

    def _check_dmp(self, card: VitaleCard, index: int, generation: int) -> f.Event:
        try:
            session = self._session()
            identity = session.certified_identity(traits_from_vitale(card, index))
            status = session.status(identity)
        except DmpError as exc:
            log.warning("DMP check failed: %s", exc.message)
            return f.DmpFailed(exc.patient_message)
        with self._lock:
            if generation != self._generation:
                return f.DmpChecked("not_found")  # the patient left: keep nothing, dropped
            self._remote.session, self._remote.identity = session, identity
        if status.state is DmpState.EXISTS:
            self._record_existing(identity)
            return f.DmpChecked("exists")
        if status.state is DmpState.CLOSED:
            return f.DmpChecked("closed")
        if status.state is DmpState.NOT_FOUND:
            return f.DmpChecked("not_found")
        return f.DmpFailed("Le service DMP n'a pas pu vérifier ce dossier.")

    def _consent_record(self, choices: f.Choices, language: str, rpps: str) -> ConsentRecord:
        return ConsentRecord(
            text_version=CONSENT_TEXT_VERSION,
            text_sha256=consent_text_sha256(language),
            consent=choices.consent,
            bris_de_glace_allowed=choices.bris_de_glace,
            centre15_allowed=choices.centre15,
            web_access=bool(choices.mobile or choices.email),
            language=language,
            attested_by=rpps,
        )

    def _record_existing(self, identity: CertifiedIdentity) -> None:
        """Recorded, unpaid; a ledger failure here is logged, the patient still told."""
        rpps = self.services.rpps()
        try:
            ledger = self.services.ledger()
            consent = self._consent_record(f.Choices(), self.flow.language, rpps)
            ledger.finish(ledger.begin(DMP_OPEN, rpps, identity.ins, consent), ALREADY_EXISTED)
        except Exception:
            log.exception("the ledger could not record a DMP that already existed")

    def _record_refusal(self) -> None:
        try:
            rpps = self.services.rpps()
            self.services.ledger().record_refusal(
                DMP_OPEN, rpps, self._consent_record(f.Choices(), self.flow.language, rpps)
            )
        except Exception:  # the patient's refusal stands; only its record is missing
            log.exception("the ledger could not record a refusal")

    def _open_dmp(self, generation: int, *args: object) -> None:
        _index, choices, guardian_role, reactivate = args
        session, identity = self._remote.session, self._remote.identity
        person = self.flow.person
        if not isinstance(choices, f.Choices) or session is None or identity is None:
            failed = f.DmpFailed("La vérification du dossier a expiré. Recommencez.")
            self.flow, _ = f.step(self.flow, failed)
            return
        guardian = None
        if guardian_role and self.flow.card is not None and person is not None:
            # [A] the legal representative is the card holder presenting the card
            holder = self.flow.card.beneficiaries[0]
            guardian = Guardian(holder.last_name, holder.first_name, str(guardian_role))
        contact = (
            Contact(choices.mobile, choices.email) if choices.mobile or choices.email else None
        )
        request = _Creation(
            session, identity, choices, self.flow.language, guardian, contact, bool(reactivate)
        )
        self._submit(lambda: self._create(request, generation), generation)

    def _create(self, request: _Creation, generation: int) -> f.Event:
        """On the worker: the pharmacist is checked and the act recorded ``pending``
        before TD1.1/TD1.2 is sent, its outcome after; web access (TD1.5a) last."""
        with self._lock:
            if generation != self._generation:
                return f.DmpFailed("")  # the patient left before anything was sent: dropped
        session, identity = request.session, request.identity
        practitioner = self.services.practitioner()
        if practitioner is None or practitioner != session.practitioner:
            log.warning("the CPS that checked the DMP is no longer ready: no DMP call made")
            return f.DmpFailed(PharmacistNotReady.patient_message)
        rpps = self.services.rpps()
        code = DMP_REACTIVATE if request.reactivate else DMP_OPEN
        consent_record = self._consent_record(request.choices, request.language, rpps)
        try:
            ledger = self.services.ledger()
            act = ledger.begin(code, rpps, identity.ins, consent_record)
        except Exception:  # disk full, file damaged…: nothing may be created unrecorded
            log.exception("the ledger could not record the act: no DMP call made")
            return f.DmpFailed(LEDGER_DOWN)
        choices = request.choices
        consent = Consent(choices.consent, choices.bris_de_glace, choices.centre15)
        try:
            if request.reactivate:
                session.reactivate(identity, consent)
            else:
                session.create_or_resolve(identity, consent, request.guardian)
        except DmpRejected as exc:
            self._finish(act, FAILED)
            log.warning("DMP creation refused: %s", exc.code)
            return f.DmpFailed(exc.patient_message)
        except DmpError as exc:
            # not created (TD0.2 said so): failed; TD0.2 unanswered too: uncertain, and
            # resolved at the next start-up (recover)
            self._finish(act, FAILED if exc.outcome_known else UNCERTAIN)
            log.warning("DMP creation failed: %s", type(exc).__name__)
            return f.DmpFailed(exc.patient_message)
        self._finish(act, CONFIRMED)
        web_access = None
        with self._lock:
            present = generation == self._generation
        if request.contact is not None and present:  # nobody left to hand the codes to
            try:
                web_access = session.create_web_access(identity, request.contact)
            except DmpError as exc:
                log.warning("web access not created: %s", type(exc).__name__)
        with self._lock:
            if generation == self._generation:  # else the journey was wiped: keep nothing
                self._remote.web_access = web_access
        outcome = f.Outcome.REACTIVATED if request.reactivate else f.Outcome.CREATED
        return f.DmpDone(outcome, web_access is not None)

    def _finish(self, act: str, status: str) -> None:
        """The outcome after the call; if the ledger fails now, the act stays pending
        and the next recovery resolves it with TD0.2."""
        try:
            self.services.ledger().finish(act, status)
        except Exception:
            log.exception("the ledger could not record an outcome: left pending")

    # -- start-up ---------------------------------------------------------------------------

    def warm_up(self, then: Callable[[], None] | None = None) -> None:
        """Load the ledger and the DMP client on the worker, then finish what a crash
        left pending, then call ``then`` (on the worker). Queued first, so a card read
        submitted meanwhile waits for it."""

        def work() -> None:
            try:
                self.services.ledger()
                self.services.client()
                self.recover()
            except Exception:  # logged; each journey then reports the service as down
                log.exception("kiosk services failed to start")
            if then is not None:
                then()

        self._worker.submit(work)

    def recover(self) -> int:
        """Finish acts a crash left pending or uncertain: TD0.2 tells what happened.
        Returns how many were resolved; the others stay listed for the next try."""
        ledger = self.services.ledger()
        resolved = 0
        session: DmpSession | None = None  # one for all the acts, made only if one needs it
        for act in ledger.unresolved():
            ins = ledger.pending_ins(act.act_id)
            if ins is None:
                continue
            try:
                session = session or self._session()
                status = session.status_of_recovered(session.recovered_identity(ins))
            except DmpError as exc:
                log.warning("could not resolve a pending act yet: %s", type(exc).__name__)
                break
            if status.state is DmpState.EXISTS and status.authorized:
                ledger.finish(act.act_id, CONFIRMED)
            elif status.state is DmpState.EXISTS:
                ledger.finish(act.act_id, ALREADY_EXISTED)
            else:
                ledger.finish(act.act_id, FAILED)
            resolved += 1
        return resolved
