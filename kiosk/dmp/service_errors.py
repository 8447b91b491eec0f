"""Typed DMP errors: an English message for logs, a :class:`DmpProblem` for the patient
(rendered by the UI), a fix hint. None of them carries an INS, a name or a contact.

A SOAP fault is a :class:`DmpRejected`; its problem and fix come from its typed code
(:class:`ServiceCode`, looked up in ``SERVICE_ERRORS``), never from the service's free
text. A code the kiosk does not know keeps the generic ``DmpProblem.REJECTED``
[V EX_GEN-1145: a message specific to each error code, plain to the user]."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from kiosk.messages import MessageEnum

# A SOAP fault code as the service sends it ("Sender:VIHF_INVALID"): a side and subcodes,
# each a QName's local part. Anything else in that field is free text from the service.
_FAULT_CODE = re.compile(r"[A-Za-z][A-Za-z0-9._-]*(?::[A-Za-z][A-Za-z0-9._-]*)*")
MAX_FAULT_CODE = 64
UNREADABLE_CODE = "unreadable-code"


class DmpProblem(MessageEnum):
    """What the patient is told when the DMP service could not do what was asked."""

    FAILED = "dmp.failed"
    INPUT_INVALID = "dmp.input_invalid"
    UNAVAILABLE = "dmp.unavailable"
    AUTHENTICATION = "dmp.authentication"
    TIMEOUT = "dmp.timeout"
    UNREADABLE_ANSWER = "dmp.unreadable_answer"
    REJECTED = "dmp.rejected"
    PHARMACIST_NOT_READY = "dmp.pharmacist_not_ready"
    # one per error code of the service (SERVICE_ERRORS)
    BAD_ENVELOPE = "dmp.bad_envelope"
    BAD_REQUEST = "dmp.bad_request"
    ACTION_UNKNOWN = "dmp.action_unknown"
    VIHF_INVALID = "dmp.vihf_invalid"
    STRUCTURE_MISMATCH = "dmp.structure_mismatch"
    INVALID_CERTIFICATE = "dmp.invalid_certificate"
    RESOURCE_MISMATCH = "dmp.resource_mismatch"
    IDENTITY_NOT_FOUND = "dmp.identity_not_found"
    PATIENT_NOT_FOUND = "dmp.patient_not_found"
    CONSENT_REQUIRED = "dmp.consent_required"
    REPRESENTATIVE_REQUIRED = "dmp.representative_required"
    ALREADY_EXISTS = "dmp.already_exists"
    CLOSED = "dmp.closed"
    NOT_CLOSED = "dmp.not_closed"
    NOT_FOUND = "dmp.not_found"
    BAD_CONTACT = "dmp.bad_contact"
    SERVICE_ERROR = "dmp.service_error"


class ServiceCode(StrEnum):
    """The fault subcodes of the DMP service the kiosk knows: the part after the side
    (``Sender:DMP_EXISTS`` is ``DMP_EXISTS``). The sandbox's codes are ours [A] (the real
    service's list sits in its non-public integration guide); ``DMPInvalidCertificate``
    is the real service's (``soap:Sender / soap:DMPInvalidCertificate`` for a VIHF signed
    with the authentication certificate, as a public DMP connector's notes record it)."""

    BAD_ENVELOPE = "BAD_ENVELOPE"  # the envelope could not be read
    BAD_REQUEST = "BAD_REQUEST"  # the body lacks a field or holds a bad value
    ACTION_UNKNOWN = "ACTION_UNKNOWN"  # no such action on this sub-service
    VIHF_INVALID = "VIHF_INVALID"  # signature, validity, replay, sector, auth mode
    STRUCTURE_MISMATCH = "STRUCTURE_MISMATCH"  # VIHF structure is not the TLS client's
    INVALID_CERTIFICATE = "DMPInvalidCertificate"  # real DMP: the VIHF's signer refused
    RESOURCE_MISMATCH = "RESOURCE_MISMATCH"  # VIHF resource-id is not the body's INS
    IDENTITY_NOT_FOUND = "IDENTITY_NOT_FOUND"  # TD0.0: no insured person for the traits
    PATIENT_NOT_FOUND = "DMPPatientNotFound"  # [A] real DMP name, unverified
    CONSENT_REQUIRED = "CONSENT_REQUIRED"  # TD1.1/TD1.2 without consent
    REPRESENTATIVE_REQUIRED = "REPRESENTATIVE_REQUIRED"  # TD1.1: a minor, no adult guardian
    DMP_EXISTS = "DMP_EXISTS"  # TD1.1: a DMP already exists
    DMP_CLOSED = "DMP_CLOSED"  # TD1.1: the DMP is closed (reactivate it, TD1.2)
    DMP_NOT_CLOSED = "DMP_NOT_CLOSED"  # TD1.2: there is no closed DMP
    DMP_NOT_FOUND = "DMP_NOT_FOUND"  # TD1.5a: no active DMP
    BAD_CONTACT = "BAD_CONTACT"  # TD1.5a: the mobile or e-mail refused
    SERVICE_ERROR = "SERVICE_ERROR"  # Receiver: the service itself failed


@dataclass(frozen=True, slots=True)
class ServiceError:
    """What a known code means: the patient's message, the technician's fix."""

    problem: DmpProblem
    fix: str


_E = ServiceError
SERVICE_ERRORS: dict[ServiceCode, ServiceError] = {
    ServiceCode.BAD_ENVELOPE: _E(
        DmpProblem.BAD_ENVELOPE,
        "The service could not read the SOAP envelope: check that the endpoint is the DMP"
        " service's SOAP 1.2 path and that the kiosk is up to date.",
    ),
    ServiceCode.BAD_REQUEST: _E(
        DmpProblem.BAD_REQUEST,
        "The service refused the request body as malformed: the kiosk and the service"
        " disagree on the message format; update the kiosk, report the transaction logged.",
    ),
    ServiceCode.ACTION_UNKNOWN: _E(
        DmpProblem.ACTION_UNKNOWN,
        "The service knows no such action on this sub-service: check the endpoint path"
        " (…/si-dmp-server/v2/services) in the config and the kiosk version.",
    ),
    ServiceCode.VIHF_INVALID: _E(
        DmpProblem.VIHF_INVALID,
        "The VIHF was refused (signature, validity window, replay, sector or mode): check"
        " sign_cert/sign_key in the config, the kiosk's clock (`kiosk doctor`) and the CPS.",
    ),
    ServiceCode.STRUCTURE_MISMATCH: _E(
        DmpProblem.STRUCTURE_MISMATCH,
        "The VIHF's structure is not the TLS certificate's: auth_cert, sign_cert and"
        " structure_id must all be the same pharmacy's; re-run `kiosk provision`.",
    ),
    ServiceCode.INVALID_CERTIFICATE: _E(
        DmpProblem.INVALID_CERTIFICATE,
        "The service refused the certificate that signed the VIHF: it must be the ORG_SIGN"
        " signature certificate, not the authentication one; check sign_cert and its expiry.",
    ),
    ServiceCode.RESOURCE_MISMATCH: _E(
        DmpProblem.RESOURCE_MISMATCH,
        "The VIHF's resource-id is not the INS in the request: a kiosk bug; report it with"
        " the journey id from the journal.",
    ),
    ServiceCode.IDENTITY_NOT_FOUND: _E(
        DmpProblem.IDENTITY_NOT_FOUND,
        "TD0.0 found no insured person for the card's traits: the card may be out of date"
        " (update it on a terminal) or the beneficiary not registered; the kiosk is fine.",
    ),
    ServiceCode.PATIENT_NOT_FOUND: _E(
        DmpProblem.PATIENT_NOT_FOUND,
        "[A] The service knows no patient for this INS: check the INS came from TD0.0 in"
        " this journey and that the card is up to date.",
    ),
    ServiceCode.CONSENT_REQUIRED: _E(
        DmpProblem.CONSENT_REQUIRED,
        "The service got a creation or reactivation without consent; the journey requires"
        " the box ticked, so report this as a kiosk bug.",
    ),
    ServiceCode.REPRESENTATIVE_REQUIRED: _E(
        DmpProblem.REPRESENTATIVE_REQUIRED,
        "TD1.1 refused: a minor's DMP needs an adult legal representative in the request;"
        " check the birth dates read from the card and the guardian chosen.",
    ),
    ServiceCode.DMP_EXISTS: _E(
        DmpProblem.ALREADY_EXISTS,
        "TD1.1 refused: a DMP already exists for this INS (opened elsewhere since TD0.2);"
        " nothing to do, nothing is owed.",
    ),
    ServiceCode.DMP_CLOSED: _E(
        DmpProblem.CLOSED,
        "TD1.1 refused: the DMP is closed; start the journey again and reopen it from the"
        " closed-DMP screen (TD1.2).",
    ),
    ServiceCode.DMP_NOT_CLOSED: _E(
        DmpProblem.NOT_CLOSED,
        "TD1.2 refused: this INS has no closed DMP (active, or none); start the journey"
        " again so TD0.2 shows its state.",
    ),
    ServiceCode.DMP_NOT_FOUND: _E(
        DmpProblem.NOT_FOUND,
        "No active DMP for this INS (web access, TD1.5a, needs one): check its state with"
        " a new journey; the online access can be created later.",
    ),
    ServiceCode.BAD_CONTACT: _E(
        DmpProblem.BAD_CONTACT,
        "TD1.5a refused the mobile or e-mail although the kiosk's own check passed: the"
        " service's rule differs; the online access can be created later.",
    ),
    ServiceCode.SERVICE_ERROR: _E(
        DmpProblem.SERVICE_ERROR,
        "The service reported its own failure (Receiver side), nothing was done: retry"
        " later; if it lasts, check the DMP service's status.",
    ),
}


class DmpError(Exception):
    problem: DmpProblem = DmpProblem.FAILED  # a class's; a DmpRejected's own, by its code
    fix = "Run `kiosk doctor`; check the network and the DMP endpoint in the config."

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # True once a creation's lost answer was resolved by TD0.2 as "not created"
        self.outcome_known = False

    @property
    def journal(self) -> str:
        """What a log line may say of this error beside its problem key: its type, never
        its message (which may quote what the service sent)."""
        return type(self).__name__


class DmpInputError(DmpError):
    """A rule checked before anything is sent (consent, contact syntax, INS origin)."""

    problem = DmpProblem.INPUT_INVALID
    fix = "Correct the input; nothing was sent to the DMP service."


class DmpUnavailable(DmpError):
    problem = DmpProblem.UNAVAILABLE
    fix = "Check the network and the endpoint; the service may be down (try `kiosk dmp status`)."


class DmpAuthenticationError(DmpUnavailable):
    problem = DmpProblem.AUTHENTICATION
    fix = "Check the pharmacy certificates (auth/sign) in the config and their expiry dates."


class DmpTimeout(DmpError):
    problem = DmpProblem.TIMEOUT
    fix = (
        "The call exceeded its deadline; for a creation the outcome is checked with a status call."
    )


class DmpProtocolError(DmpError):
    problem = DmpProblem.UNREADABLE_ANSWER
    fix = "The response could not be parsed; check the endpoint is the DMP service."


class DmpRejected(DmpError):
    """The service answered with a SOAP fault: a known code has its own problem and fix
    (``SERVICE_ERRORS``), an unknown one the generic ``REJECTED``."""

    problem = DmpProblem.REJECTED
    fix = "An unknown fault code: read it in the journal and ask the DMP service's support."

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"DMP service refused the request: {code}: {message}")
        self.code = fault_code(code)  # safe for the journal
        self.service_code = service_code(self.code)
        known = SERVICE_ERRORS.get(self.service_code) if self.service_code else None
        if known is not None:
            self.problem, self.fix = known.problem, known.fix
        # the service's free text: may name the patient; for a technician's CLI, never logged
        self.reason = message

    @property
    def journal(self) -> str:
        return f"{type(self).__name__} {self.code}"


def fault_code(code: str) -> str:
    """The fault code when it has a code's form (at most ``MAX_FAULT_CODE`` characters
    of letters, digits and ``.:_-``), else ``UNREADABLE_CODE``: the journal never carries
    free text from the service."""
    if len(code) <= MAX_FAULT_CODE and _FAULT_CODE.fullmatch(code):
        return code
    return UNREADABLE_CODE


def service_code(code: str) -> ServiceCode | None:
    """The typed code of a fault code (``Side:SUBCODE``, or a bare subcode): its last
    part when the kiosk knows it, else None."""
    try:
        return ServiceCode(code.rpartition(":")[2])
    except ValueError:
        return None


class PharmacistNotReady(DmpError):
    """No CPS with its PIN entered: the kiosk cannot authenticate the pharmacist."""

    problem = DmpProblem.PHARMACIST_NOT_READY
    fix = "Insert the CPS in the pharmacist reader, then enter its PIN on the admin screen."

    @property
    def journal(self) -> str:
        # raised by the kiosk itself, before any call, with its own words: no service text
        return f"{type(self).__name__}: {self.message}"
