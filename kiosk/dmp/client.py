"""DmpClient: the DMP transactions as typed calls, one :class:`DmpSession` per journey.

Every call has a deadline. Only calls that are safe to repeat (TD0.0 identity, TD0.2
status) are retried, and only within that deadline. ``create`` is never retried: after
a timeout or a dropped connection the caller resolves the outcome with ``status``
(:meth:`DmpSession.create_or_resolve` does exactly that).

An INS is accepted only if it came from ``certified_identity`` in the same session:
the journey cannot open a DMP for an identity it did not certify itself.

Every VIHF sent (one per attempt) is told to ``on_vihf`` once its call ended
(:mod:`kiosk.dmp.trace`): the application keeps the trace; its failure is only logged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from lxml import etree

from kiosk.dmp import transactions as m
from kiosk.dmp.models import (
    CertifiedIdentity,
    Consent,
    Contact,
    Created,
    DmpState,
    DmpStatus,
    Guardian,
    PatientTraits,
    Practitioner,
    WebAccess,
)
from kiosk.dmp.rules import check_consent, check_contact
from kiosk.dmp.service_errors import (
    DmpAuthenticationError,
    DmpError,
    DmpInputError,
    DmpProtocolError,
    DmpRejected,
    DmpTimeout,
    DmpUnavailable,
)
from kiosk.dmp.soap import EnvelopeError, build_envelope, fault_of, parse_envelope
from kiosk.dmp.trace import VihfListener, VihfTrace, notify, result_of
from kiosk.dmp.transport import Transport
from kiosk.dmp.vihf import VihfSigner
from kiosk.logs import event

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_DEADLINE = 10.0
SERVICES_PATH = "/si-dmp-server/v2/services"


@dataclass(frozen=True, slots=True)
class CreateOutcome:
    """What became of a creation: ``created`` or ``resolved_after_error`` (the service
    had created it although the answer was lost)."""

    created: bool
    resolved_after_error: bool
    created_at: str | None = None


class DmpClient:
    def __init__(
        self,
        transport: Transport,
        base_url: str,
        signer: VihfSigner,
        deadline: float = DEFAULT_DEADLINE,
        retries: int = 1,
        on_vihf: VihfListener | None = None,
    ) -> None:
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.deadline = deadline
        self.retries = retries
        # told of every VIHF sent, once its call ended [EX_AIR-070]; never breaks a call
        self.on_vihf = on_vihf

    def session(self, practitioner: Practitioner) -> DmpSession:
        """A journey: the practitioner whose CPS is in the reader, and the identities it
        certifies."""
        return DmpSession(self, practitioner)

    def url(self, transaction: m.Transaction) -> str:
        if self.base_url.endswith(SERVICES_PATH):
            return f"{self.base_url}/{transaction.service}"
        return f"{self.base_url}{SERVICES_PATH}/{transaction.service}"

    def call(
        self,
        transaction: m.Transaction,
        body: etree._Element,
        practitioner: Practitioner,
        ins: str | None,
        read: Callable[[etree._Element], T],
    ) -> T:
        started = time.monotonic()
        attempts = 1 + (self.retries if transaction.safe_to_retry else 0)
        for attempt in range(1, attempts + 1):
            remaining = self.deadline - (time.monotonic() - started)
            if remaining <= 0.05:
                raise DmpTimeout(f"{transaction.code}: deadline of {self.deadline:g} s reached")
            sent = time.monotonic()
            try:
                answer = self._once(transaction, body, practitioner, ins, read, remaining)
            except DmpError as exc:
                _logged(transaction, sent, attempt, exc)
                transient = isinstance(exc, (DmpUnavailable, DmpTimeout)) and _retryable(exc)
                if attempt == attempts or not transient:
                    raise
                log.warning("%s failed (%s), retrying once", transaction.code, type(exc).__name__)
            else:
                _logged(transaction, sent, attempt, None)
                return answer
        raise AssertionError("unreachable")

    def _once(
        self,
        transaction: m.Transaction,
        body: etree._Element,
        practitioner: Practitioner,
        ins: str | None,
        read: Callable[[etree._Element], T],
        timeout: float,
    ) -> T:
        vihf = self.signer.assertion(practitioner, ins)
        payload, message_id = build_envelope(
            transaction.action, self.url(transaction), body, security=[vihf]
        )
        sent = time.monotonic()
        error: BaseException | None = None
        try:
            return self._answer(transaction, payload, message_id, read, timeout)
        except BaseException as exc:
            error = exc
            raise
        finally:
            notify(self.on_vihf, VihfTrace(
                assertion_id=vihf.get("ID", ""), issued_at=vihf.get("IssueInstant", ""),
                transaction=transaction.code, rpps=practitioner.rpps,
                structure_id=self.signer.structure_id, result=result_of(error),
                duration_ms=round((time.monotonic() - sent) * 1000), ins=ins,
            ))  # fmt: skip

    def _answer(
        self,
        transaction: m.Transaction,
        payload: bytes,
        message_id: str,
        read: Callable[[etree._Element], T],
        timeout: float,
    ) -> T:
        answer = self.transport.post(self.url(transaction), payload, timeout)
        try:
            envelope = parse_envelope(answer)
        except EnvelopeError as exc:
            raise DmpProtocolError(f"{transaction.code}: unreadable answer: {exc}") from None
        fault = fault_of(envelope)
        if fault is not None:
            raise DmpRejected(fault.code, fault.reason)
        if envelope.relates_to not in (None, message_id):
            raise DmpProtocolError(f"{transaction.code}: answer relates to another request")
        try:
            return read(envelope.body)
        except m.MessageError as exc:
            raise DmpProtocolError(f"{transaction.code}: {exc}") from None


def _logged(transaction: m.Transaction, sent: float, attempt: int, error: DmpError | None) -> None:
    """One ``dmp.call`` line: the transaction, its duration and result (a problem key)."""
    event(
        log, "dmp.call", f"{transaction.code} {'ok' if error is None else error.problem.key}",
        level=logging.INFO if error is None else logging.WARNING,
        transaction=transaction.code, duration_ms=round((time.monotonic() - sent) * 1000),
        result="ok" if error is None else error.problem.key, attempt=attempt,
    )  # fmt: skip


def _retryable(exc: DmpError) -> bool:
    return not isinstance(exc, DmpAuthenticationError)


class DmpSession:
    """One patient journey against the DMP service."""

    def __init__(self, client: DmpClient, practitioner: Practitioner) -> None:
        self.client = client
        self.practitioner = practitioner
        self.id = uuid.uuid4().hex

    def _own(self, identity: CertifiedIdentity) -> str:
        if identity.session_id != self.id:
            raise DmpInputError("this INS was not obtained by certified_identity in this journey")
        return identity.ins

    def recovered_identity(self, ins: str) -> CertifiedIdentity:
        """For start-up recovery only: an INS kept (encrypted) by the ledger for an act
        whose outcome was lost in a crash. Usable for :meth:`status` only."""
        return CertifiedIdentity(ins, "", "", "", session_id=f"{self.id}:recovered")

    def status_of_recovered(self, identity: CertifiedIdentity) -> DmpStatus:
        if identity.session_id != f"{self.id}:recovered":
            raise DmpInputError("not a recovered identity of this session")
        return self._status(identity.ins)

    def certified_identity(self, traits: PatientTraits) -> CertifiedIdentity:
        """TD0.0: the certified identity (INS) from the Vitale traits."""
        return self.client.call(
            m.IDENTITY,
            m.identity_request(traits),
            self.practitioner,
            None,
            lambda body: m.read_identity_response(body, self.id),
        )

    def status(self, identity: CertifiedIdentity) -> DmpStatus:
        """TD0.2: exists / closed / not found, and whether we are authorized."""
        return self._status(self._own(identity))

    def _status(self, ins: str) -> DmpStatus:
        return self.client.call(
            m.STATUS, m.status_request(ins), self.practitioner, ins, m.read_status_response
        )

    def create(
        self, identity: CertifiedIdentity, consent: Consent, guardian: Guardian | None = None
    ) -> Created:
        """TD1.1, sent once. On DmpTimeout, DmpUnavailable or DmpProtocolError the
        outcome is unknown: resolve it with :meth:`status` (or use create_or_resolve)."""
        ins = self._own(identity)
        check_consent(consent)
        return self.client.call(
            m.CREATE,
            m.create_request(identity, consent, guardian),
            self.practitioner,
            ins,
            lambda body: m.read_created_response(body, m.CREATE),
        )

    def create_or_resolve(
        self, identity: CertifiedIdentity, consent: Consent, guardian: Guardian | None = None
    ) -> CreateOutcome:
        """Create; if the answer is lost, ask TD0.2 whether the DMP now exists.

        Raises the TD1.1 error: with ``outcome_known`` True when TD0.2 answered that this
        call created nothing, False when TD0.2 failed too (nobody knows: whatever TD0.2's
        error, a fault included, it says nothing of the creation)."""
        try:
            created = self.create(identity, consent, guardian)
        except (DmpTimeout, DmpUnavailable, DmpProtocolError) as exc:
            log.warning("TD1.1 outcome unknown (%s): resolving with TD0.2", type(exc).__name__)
            try:
                status = self.status(identity)
            except DmpError as unresolved:
                log.warning(
                    "TD0.2 did not resolve the creation (%s): outcome unknown",
                    type(unresolved).__name__,
                )
                exc.outcome_known = False
                raise exc from unresolved
            # Ours only if we are authorized on it: a DMP another structure opened
            # meanwhile exists too, but was not created (nor is paid) by this call.
            if status.state is DmpState.EXISTS and status.authorized:
                return CreateOutcome(created=True, resolved_after_error=True)
            exc.outcome_known = True  # TD0.2 answered: this call created nothing
            raise
        return CreateOutcome(
            created=True, resolved_after_error=False, created_at=created.created_at
        )

    def reactivate(
        self, identity: CertifiedIdentity, consent: Consent, guardian: Guardian | None = None
    ) -> Created:
        """TD1.2: reopen a closed DMP, with the same consent as a creation (the patient's
        choices, the legal representative). Sent once, as TD1.1."""
        ins = self._own(identity)
        check_consent(consent)
        return self.client.call(
            m.REACTIVATE,
            m.reactivate_request(identity, consent, guardian),
            self.practitioner,
            ins,
            lambda body: m.read_created_response(body, m.REACTIVATE),
        )

    def create_web_access(self, identity: CertifiedIdentity, contact: Contact) -> WebAccess:
        """TD1.5a: the patient's online access; the password goes on paper only."""
        ins = self._own(identity)
        contact = check_contact(contact)
        return self.client.call(
            m.WEB_ACCESS,
            m.web_access_request(identity, contact),
            self.practitioner,
            ins,
            m.read_web_access_response,
        )
