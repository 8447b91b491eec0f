"""Start-up recovery: acts a crash (or a lost answer) left pending or uncertain are
resolved with TD0.2, through the ledger policy. It needs the pharmacist's CPS (the call
is signed as the pharmacist): until the PIN is typed, the acts wait for the next try."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.core.ledger_policy import LedgerPolicy
from kiosk.dmp.service_errors import DmpError

if TYPE_CHECKING:
    from kiosk.dmp.client import DmpSession

from kiosk.logs import event

log = logging.getLogger(__name__)


def recover(policy: LedgerPolicy, session: Callable[[], DmpSession]) -> int:
    """Resolve what can be resolved now; returns how many acts were. ``session`` is
    called once, only if an act needs it. The newest act first: of two acts of one
    patient whose outcomes were both lost, the later is the one the service answered
    (the earlier's is then superseded, :mod:`kiosk.billing.lost_outcomes`)."""
    resolved = 0
    opened: DmpSession | None = None
    for act, ins in reversed(policy.unresolved()):
        if policy.settle_known(act):  # an existing DMP's record: nothing was sent
            event(log, "recovery.resolved", act=act.act_id, outcome="already_existed")
            resolved += 1
            continue
        try:
            opened = opened or session()
            status = opened.status_of_recovered(opened.recovered_identity(ins))
        except DmpError as exc:
            event(
                log, "recovery.deferred", f"a pending act waits [{exc.problem.key}]",
                level=logging.WARNING, act=act.act_id, error=exc.problem.key,
            )  # fmt: skip
            break
        outcome = policy.resolve(act, status)
        event(log, "recovery.resolved", act=act.act_id, state=status.state.value, outcome=outcome)
        resolved += 1
    return resolved
