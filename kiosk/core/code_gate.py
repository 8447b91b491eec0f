"""One gate for the pharmacist code, wherever it is typed (the attestation screen, the
admin): three wrong codes in all lock both for five minutes, and the lock survives a
restart.

The gate's state (wrong codes so far, locked until when, in wall-clock seconds) is kept
in ``code-gate.json`` in the kiosk's state directory, rewritten atomically at each
change. What stops someone from clearing the lock by deleting or editing that file: the
state directory belongs to the kiosk's service user (0700) and the patient at the counter
has no shell; and the gate fails closed, so a file that has gone missing from a state
directory the kiosk already uses, or that cannot be read, locks the gate instead of
clearing it. Whoever could write a crafted file could as well replace the code's hash in
the config. No Kivy here; callers pass the code typed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.messages import MessageFields

log = logging.getLogger(__name__)

LOCK_AFTER = 3  # wrong codes in a row, wherever typed
LOCK_SECONDS = 300.0
STATE_FILE = "code-gate.json"


@dataclass(frozen=True, slots=True)
class Accepted:
    """The right code: the count of wrong ones starts again."""


@dataclass(frozen=True, slots=True)
class WrongCode(MessageFields):
    tries_left: int
    key = "code.wrong"


@dataclass(frozen=True, slots=True)
class CodeLocked:
    """Nothing is checked until ``until`` (wall-clock seconds); ``just_now``: this very
    code was the last wrong one."""

    until: float
    just_now: bool = False

    @property
    def key(self) -> str:
        return "code.locked_now" if self.just_now else "code.locked"

    def args(self) -> Mapping[str, object]:
        return {"tries": LOCK_AFTER, "minutes": round(LOCK_SECONDS / 60)}


CodeVerdict = Accepted | WrongCode | CodeLocked


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
            log.warning("pharmacist code: %s is missing: locked", STATE_FILE)
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("pharmacist code: %s is unreadable: locked", STATE_FILE)
        else:
            if 0 <= failures < LOCK_AFTER and until >= 0:
                return failures, until
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
            self._path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".code-gate-", dir=self._path.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as out:  # 0600, from mkstemp
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self._path)
        except OSError:  # the lock still holds in memory until the kiosk restarts
            log.exception("pharmacist code: the gate's state could not be saved")
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)
