"""One gate for the pharmacist code, wherever it is typed (the attestation screen, the
admin): three wrong codes in all lock both for five minutes, and the lock survives a
restart.

The gate's state (wrong codes so far, locked until when, in wall-clock seconds) is kept
in ``code-gate.json`` in the kiosk's state directory, rewritten atomically at each
change. What stops someone from clearing the lock by deleting or editing that file: the
state directory belongs to the kiosk's service user (0700; the gate creates it so when
it is absent) and the patient at the counter has no shell; whoever can write there can
read the ledger's secrets too, so its owner and mode are the protection. On top of that
the gate fails closed: a file that has gone missing from a state directory the kiosk
already uses, or that cannot be read, locks the gate instead of clearing it (which also
happens once after an upgrade from a version without the file); a lock is never longer
than five minutes from now, whatever the file or the clock says. No Kivy here; callers
pass the code typed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.core.code_verdicts import (
    LOCK_AFTER,
    LOCK_SECONDS,
    Accepted,
    CodeLocked,
    CodeVerdict,
    WrongCode,
)

__all__ = [
    "LOCK_AFTER", "LOCK_SECONDS", "STATE_FILE", "Accepted", "CodeGate", "CodeLocked",
    "CodeVerdict", "WrongCode",
]  # fmt: skip

log = logging.getLogger(__name__)

STATE_FILE = "code-gate.json"


class CodeGate:
    """``check`` compares a code with the hash in the config; ``state_dir`` keeps the
    lock across restarts (None: in memory only)."""

    def __init__(
        self,
        check: Callable[[str], bool],
        state_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._check = check
        self._clock = clock
        self._path = state_dir / STATE_FILE if state_dir is not None else None
        self._lock = threading.Lock()
        self.failures, self.locked_until = self._load()

    def try_code(self, attempt: str) -> CodeVerdict:
        with self._lock:
            now = self._clock()
            if now < self.locked_until:
                return CodeLocked(self.locked_until)
            if self._check(attempt):
                if self.failures or self.locked_until:
                    self._save(0, 0.0)
                return Accepted()
            failures = self.failures + 1
            if failures >= LOCK_AFTER:
                self._save(0, now + LOCK_SECONDS)
                log.warning("pharmacist code: %d wrong codes, locked", LOCK_AFTER)
                return CodeLocked(self.locked_until, just_now=True)
            self._save(failures, self.locked_until)
            return WrongCode(LOCK_AFTER - failures)

    # -- the state file ----------------------------------------------------------------------

    def _load(self) -> tuple[int, float]:
        if self._path is None:
            return 0, 0.0
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            failures, until = int(data["failures"]), float(data["locked_until"])
        except FileNotFoundError:
            if not self._kiosk_ran_here():  # a new kiosk: nothing to remember yet, and
                self._save(0, 0.0)  # from now on the file is there to be missed
                return 0, 0.0
            # (also once after an upgrade from a version without the gate's file)
            log.warning("pharmacist code: %s is missing from a state directory in use: locked",
                        STATE_FILE)  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("pharmacist code: %s is unreadable: locked", STATE_FILE)
        else:
            if 0 <= failures < LOCK_AFTER and 0 <= until < math.inf:
                # never locked longer than one lock from now (a clock set back, a bad file)
                return failures, min(until, self._clock() + LOCK_SECONDS)
            log.warning("pharmacist code: %s holds impossible values: locked", STATE_FILE)
        until = self._clock() + LOCK_SECONDS  # fail closed
        self._save(0, until)
        return 0, until

    def _kiosk_ran_here(self) -> bool:
        assert self._path is not None
        with contextlib.suppress(OSError):
            return any(p.name != STATE_FILE for p in self._path.parent.iterdir())
        return False

    def _save(self, failures: int, locked_until: float) -> None:
        self.failures, self.locked_until = failures, locked_until
        if self._path is None:
            return
        data = json.dumps({"failures": failures, "locked_until": locked_until})
        temporary: str | None = None
        try:
            self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".code-gate-", dir=self._path.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as out:  # 0600, from mkstemp
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self._path)
            directory = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)  # the rename itself survives a power cut
            finally:
                os.close(directory)
        except OSError:  # the lock still holds in memory until the kiosk restarts
            log.exception("pharmacist code: the gate's state could not be saved")
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
