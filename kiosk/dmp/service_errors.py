"""Typed DMP errors: an English message for logs, a :class:`DmpProblem` for the patient
(rendered by the UI), a fix hint. None of them carries an INS, a name or a contact."""

from __future__ import annotations

import re
from typing import ClassVar

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


class DmpError(Exception):
    problem: ClassVar[DmpProblem] = DmpProblem.FAILED
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
    """The service answered with a SOAP fault."""

    problem = DmpProblem.REJECTED
    fix = "Read the fault code in the journal."

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"DMP service refused the request: {code}: {message}")
        self.code = fault_code(code)  # safe for the journal
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


class PharmacistNotReady(DmpError):
    """No CPS with its PIN entered: the kiosk cannot authenticate the pharmacist."""

    problem = DmpProblem.PHARMACIST_NOT_READY
    fix = "Insert the CPS in the pharmacist reader, then enter its PIN on the admin screen."

    @property
    def journal(self) -> str:
        # raised by the kiosk itself, before any call, with its own words: no service text
        return f"{type(self).__name__}: {self.message}"
