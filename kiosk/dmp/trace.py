"""What the client reports of every VIHF it sends [EX_AIR-070]: one :class:`VihfTrace` per
assertion signed for a request (a retry signs a new one), handed to an injected callback.

The client only describes the call; where the trace is kept (10 years, beside the ledger)
is :mod:`kiosk.billing.vihf_trace`'s business, wired by the application. ``result`` is a
short typed code, never text from the service: ``ok``, the service's fault code (as
:func:`~kiosk.dmp.service_errors.fault_code` keeps it), or one of :class:`CallResult`.
The INS travels in the event only so the writer can derive the pseudonymous patient key;
it is out of the event's repr and equality, and nothing logs it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.dmp.service_errors import (
    DmpAuthenticationError,
    DmpProtocolError,
    DmpRejected,
    DmpTimeout,
    DmpUnavailable,
)

log = logging.getLogger(__name__)


class CallResult(enum.StrEnum):
    """A call's result when the service sent no fault code."""

    OK = "ok"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    AUTHENTICATION = "authentication"  # TLS refused the pharmacy's certificate
    PROTOCOL = "protocol"  # an answer that is not the service's
    ERROR = "error"  # anything else: the call did not complete


@dataclass(frozen=True, slots=True)
class VihfTrace:
    """One VIHF sent: its assertion, the call it authenticated, how that call ended."""

    assertion_id: str
    issued_at: str  # the assertion's IssueInstant, UTC, YYYY-MM-DDTHH:MM:SSZ
    transaction: str  # "TD0.0", "TD0.2", "TD1.1", "TD1.2", "TD1.5a"
    rpps: str  # the practitioner's RPPS (from the VIHF subject's national id)
    structure_id: str  # the VIHF's Identifiant_Structure
    result: str  # "ok", a fault code, or a CallResult
    duration_ms: int
    ins: str | None = field(default=None, repr=False, compare=False)  # for the patient key only


VihfListener = Callable[[VihfTrace], None]


def result_of(error: BaseException | None) -> str:
    """The trace's ``result`` for a call that ended with ``error`` (None: answered)."""
    if error is None:
        return CallResult.OK
    if isinstance(error, DmpRejected):
        return error.code  # already reduced to a code's form, never free text
    if isinstance(error, DmpTimeout):
        return CallResult.TIMEOUT
    if isinstance(error, DmpAuthenticationError):
        return CallResult.AUTHENTICATION
    if isinstance(error, DmpUnavailable):
        return CallResult.UNAVAILABLE
    if isinstance(error, DmpProtocolError):
        return CallResult.PROTOCOL
    return CallResult.ERROR


def notify(listener: VihfListener | None, trace: VihfTrace) -> None:
    """Hand ``trace`` to ``listener``; its failure never breaks the DMP call (logged by
    type only: its message could quote a path or a value)."""
    if listener is None:
        return
    try:
        listener(trace)
    except Exception as exc:  # noqa: BLE001 - the call must go on whatever the writer does
        log.warning("VIHF trace not recorded (%s)", type(exc).__name__)
