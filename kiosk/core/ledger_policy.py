"""The ledger policy: every act is recorded ``pending`` before the DMP call and its
outcome after it; an outcome nobody knows is ``uncertain`` and resolved later with TD0.2.
One service for the journey, start-up recovery (:mod:`kiosk.core.recovery`) and
``kiosk dmp create``, so the three cannot drift apart.

No Kivy; the ledger is built on first use (SQLite and cryptography load then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING

from kiosk.billing.chain import ALREADY_EXISTED, CONFIRMED, FAILED, UNCERTAIN, LedgerError
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.lost_outcomes import confirmed_later, records_an_existing_dmp
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE
from kiosk.core.consent_text import CONSENT_TEXT_VERSION, consent_text_sha256
from kiosk.dmp.models import CertifiedIdentity, Consent, DmpState, DmpStatus, Guardian
from kiosk.dmp.rules import check_consent
from kiosk.dmp.service_errors import DmpError, DmpInputError, DmpRejected
from kiosk.logs import event, failure

if TYPE_CHECKING:
    from kiosk.billing.ledger import Ledger, OpenAct
    from kiosk.dmp.client import DmpSession

log = logging.getLogger(__name__)


class Settlement(Enum):
    """What :meth:`LedgerPolicy.settle_without_call` did with an open act."""

    SETTLED = "settled"  # its outcome is written
    NEEDS_CALL = "needs_call"  # only TD0.2 can tell
    SETTLED_ELSEWHERE = "settled_elsewhere"  # another process wrote it meanwhile


class LedgerDown(Exception):
    """The act could not be recorded: no DMP call was made."""


def consent_record(
    consent: Consent,
    web_access: bool,
    language: str,
    rpps: str,
    representative_role: str | None = None,
    warning_language: str | None = None,
) -> ConsentRecord:
    """What was shown (the texts' version and hash) and chosen, attested with the site's
    pharmacist code under the CPS ``rpps``. ``language`` is the one on screen when consent
    was ticked; with ``web_access`` the warning counts as shown in ``warning_language``
    (``language`` when not told)."""
    warned = (warning_language or language) if web_access else None
    return ConsentRecord(
        text_version=CONSENT_TEXT_VERSION,
        text_sha256=consent_text_sha256(language, representative_role, warned),
        consent=consent.consent,
        bris_de_glace_allowed=consent.bris_de_glace_allowed,
        centre15_allowed=consent.centre15_allowed,
        web_access=web_access,
        language=language,
        attested_by=rpps,
        representative_role=representative_role,
        warning_language=warned,
    )


@dataclass(frozen=True, slots=True)
class Opening:
    """A DMP to open (TD1.1) or reactivate (TD1.2) for an identity certified this session."""

    identity: CertifiedIdentity
    consent: Consent
    record: ConsentRecord  # what the ledger keeps of the consent
    guardian: Guardian | None = None
    reactivate: bool = False


@dataclass(frozen=True, slots=True)
class Opened:
    reactivated: bool
    created_at: str | None  # the service's time; None when resolved after a lost answer
    resolved_after_error: bool = False


def status_outcome(status: DmpStatus) -> str:
    """The outcome of an act whose answer was lost, from TD0.2: ours only if this pharmacy
    is authorized on the DMP (one another structure opened exists, but is not ours)."""
    if status.state is DmpState.EXISTS:
        return CONFIRMED if status.authorized else ALREADY_EXISTED
    return FAILED


class LedgerPolicy:
    def __init__(self, ledger: Callable[[], Ledger]) -> None:
        self.ledger = ledger
        self._used = False  # since the last between_patients

    def _ledger(self) -> Ledger:
        ledger = self.ledger()
        self._used = True
        return ledger

    def between_patients(self) -> None:
        """Once a journey that used the ledger has ended: its WAL copied back when that
        is due (:meth:`~kiosk.billing.ledger.Ledger.checkpoint_wal`), off any patient's
        act."""
        if not self._used:
            return
        self._used = False
        try:
            self.ledger().checkpoint_wal()
        except Exception as exc:  # noqa: BLE001 - SQLite's own checkpoint still runs
            failure(log, "the ledger's WAL was not copied back", exc)

    def open_dmp(self, session: DmpSession, rpps: str, opening: Opening) -> Opened:
        """Pending, the call, the outcome. Raises :class:`LedgerDown` (nothing was sent)
        or the call's :class:`DmpError` (its outcome recorded: failed, or uncertain when
        nobody knows whether the DMP was created)."""
        code = DMP_REACTIVATE if opening.reactivate else DMP_OPEN
        check_consent(opening.consent)  # never begun without consent: recovery relies on it
        try:
            ledger = self._ledger()
            act = ledger.begin(code, rpps, opening.identity.ins, opening.record)
        except Exception as exc:  # disk full, file damaged…: nothing may be created unrecorded
            log.exception("the ledger could not record the act: no DMP call made")
            raise LedgerDown(str(exc)) from None
        try:
            if opening.reactivate:
                created = session.reactivate(opening.identity, opening.consent, opening.guardian)
                opened = Opened(reactivated=True, created_at=created.created_at)
            else:
                outcome = session.create_or_resolve(
                    opening.identity, opening.consent, opening.guardian
                )
                opened = Opened(False, outcome.created_at, outcome.resolved_after_error)
        except DmpRejected as exc:  # the service refused TD1.1/TD1.2 itself
            self.finish(act, FAILED)
            log.warning("DMP creation refused [%s]: %s", exc.problem.key, exc.code)
            raise
        except DmpInputError as exc:  # refused before anything was sent
            self.finish(act, FAILED)
            log.warning("DMP creation not sent [%s]", exc.problem.key)
            raise
        except DmpError as exc:
            # the answer was lost: not created (TD0.2 said so) is failed; TD0.2 failed too
            # (or a reactivation, which nothing resolves at once) is uncertain, its INS kept
            # sealed and resolved later (kiosk.core.recovery)
            self.finish(act, FAILED if exc.outcome_known else UNCERTAIN)
            log.warning("DMP creation failed [%s]: %s", exc.problem.key, type(exc).__name__)
            raise
        except Exception:  # whatever broke after sending: nobody knows what became of it
            self.finish(act, UNCERTAIN)
            log.exception("DMP call ended unexpectedly: left uncertain")
            raise
        self.finish(act, CONFIRMED)
        return opened

    def record_existing(
        self, rpps: Callable[[], str], identity: CertifiedIdentity, language: str
    ) -> None:
        """A DMP that already existed: recorded, unpaid (nothing was consented to); a
        failure is logged, the patient is told all the same."""
        try:
            record = consent_record(Consent(False), False, language, rpps())
            ledger = self._ledger()
            act = ledger.begin(DMP_OPEN, record.attested_by, identity.ins, record)
            ledger.finish(act, ALREADY_EXISTED)
        except Exception:
            log.exception("the ledger could not record a DMP that already existed")

    def record_refusal(self, rpps: Callable[[], str], language: str) -> None:
        """Consent refused: nothing sent, recorded unpaid; a failure is logged."""
        try:
            record = consent_record(Consent(False), False, language, rpps())
            self._ledger().record_refusal(DMP_OPEN, record.attested_by, record)
        except Exception:  # the patient's refusal stands; only its record is missing
            log.exception("the ledger could not record a refusal")

    def finish(self, act: str, status: str) -> None:
        """The outcome after the call; if the ledger fails now, the act stays pending
        and recovery resolves it with TD0.2."""
        try:
            self._ledger().finish(act, status)
        except Exception:
            log.exception("the ledger could not record an outcome: left pending")

    def unresolved(self) -> list[tuple[OpenAct, str]]:
        """Acts left pending or uncertain, each with the INS sealed for its resolution."""
        ledger = self._ledger()
        acts = ((act, ledger.pending_ins(act.act_id)) for act in ledger.unresolved())
        return [(act, ins) for act, ins in acts if ins is not None]

    def settle_without_call(self, act: OpenAct) -> Settlement:
        """Settle an act whose outcome needs no call: the record of a DMP that already
        existed, its outcome lost in a crash (nothing was sent for it)."""
        ledger = self._ledger()
        if not ledger.read(partial(records_an_existing_dmp, act_id=act.act_id)):
            return Settlement.NEEDS_CALL
        if not self._finish_open(act.act_id, ALREADY_EXISTED):
            return Settlement.SETTLED_ELSEWHERE
        return Settlement.SETTLED

    def resolve(self, act: OpenAct, status: DmpStatus) -> str | None:
        """An unresolved act's outcome, now that TD0.2 told what became of it: confirmed
        only if no later act of the same patient was (then "ours" may be that act's
        doing: not claimed); the outcome, or None when another process settled the act
        meanwhile (its outcome stands)."""
        ledger = self._ledger()
        outcome = status_outcome(status)
        if outcome == CONFIRMED and ledger.read(partial(confirmed_later, act_id=act.act_id)):
            outcome = FAILED
        return outcome if self._finish_open(act.act_id, outcome) else None

    def _finish_open(self, act_id: str, outcome: str) -> bool:
        """Record ``outcome`` for an act read as open; False when it no longer is: another
        process (a second kiosk process on the same file, a technician's command) settled
        it between the read and this write, and ``finish`` refused the transition."""
        from kiosk.billing.ledger import unresolved_acts  # with the ledger: loaded by now

        ledger = self._ledger()
        try:
            ledger.finish(act_id, outcome)
        except LedgerError:
            if any(open_act.act_id == act_id for open_act in ledger.read(unresolved_acts)):
                raise  # still open: the transition itself is wrong
            event(log, "recovery.settled_elsewhere", act=act_id)
            return False
        return True
