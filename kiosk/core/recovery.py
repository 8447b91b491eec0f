"""Start-up recovery: acts a crash (or a lost answer) left pending or uncertain are
resolved with TD0.2, through the ledger policy. It needs the pharmacist's CPS (the call
is signed as the pharmacist): until the PIN is typed, the acts wait for the next try."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.core.ledger_policy import LedgerPolicy, Settlement
from kiosk.dmp.service_errors import DmpError, DmpInputError, DmpRejected

if TYPE_CHECKING:
    from kiosk.dmp.client import DmpSession

from kiosk.logs import event

log = logging.getLogger(__name__)


def recover(policy: LedgerPolicy, session: Callable[[], DmpSession]) -> int:
    """Resolve what can be resolved now; returns how many acts were.

    First, with no call, the acts whose outcome the ledger itself tells (an existing
    DMP's record: nothing was sent). Then TD0.2 for the others, the newest first: of two
    acts of one patient whose outcomes were both lost, the later is the one that checked
    last (the earlier is then superseded, :mod:`kiosk.billing.lost_outcomes`).
    ``session`` is called once, only if an act needs it; when it cannot be had, or the
    service cannot be reached, the rest waits for the next try. A refusal of one act's
    TD0.2 leaves that act for the next try and goes on with the others."""
    resolved = 0
    waiting = []
    for act, ins in reversed(policy.unresolved()):
        settled = policy.settle_without_call(act)
        if settled is Settlement.SETTLED:
            event(log, "recovery.resolved", act=act.act_id, outcome="already_existed")
            resolved += 1
        elif settled is Settlement.NEEDS_CALL:
            waiting.append((act, ins))
    opened: DmpSession | None = None
    for act, ins in waiting:
        try:
            opened = opened or session()
            status = opened.status_of_recovered(opened.recovered_identity(ins))
        except (DmpRejected, DmpInputError) as exc:  # this act's, not the service's
            _deferred(act.act_id, exc)
            continue
        except DmpError as exc:  # no CPS, no service: every other act would fail alike
            _deferred(act.act_id, exc)
            break
        outcome = policy.resolve(act, status)
        if outcome is not None:  # None: another process settled it meanwhile
            event(log, "recovery.resolved", act=act.act_id, state=status.state.value,
                  outcome=outcome)  # fmt: skip
            resolved += 1
    return resolved


def _deferred(act_id: str, exc: DmpError) -> None:
    event(
        log, "recovery.deferred", f"a pending act waits [{exc.problem.key}]",
        level=logging.WARNING, act=act_id, error=exc.problem.key,
    )  # fmt: skip
