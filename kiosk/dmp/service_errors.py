"""Typed DMP errors: an English message for logs, a :class:`DmpProblem` for the patient
(rendered by the UI), a fix hint. None of them carries an INS, a name or a contact."""

from __future__ import annotations

from typing import ClassVar

from kiosk.messages import MessageEnum


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
        self.code = code
        self.reason = message


class PharmacistNotReady(DmpError):
    """No CPS with its PIN entered: the kiosk cannot authenticate the pharmacist."""

    problem = DmpProblem.PHARMACIST_NOT_READY
    fix = "Insert the CPS in the pharmacist reader, then enter its PIN on the admin screen."
