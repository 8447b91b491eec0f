"""The local pharmacist code, stored as a salted scrypt hash, never in clear.

The code is 4 to 8 digits: whoever reads the config could try them all against a fast
hash in seconds. scrypt (RFC 7914) is memory-hard: at N = 2**15, r = 8, p = 1 each try
needs 32 MiB and about 0.1 s on the development machine, several times that on a
Raspberry Pi 4, so 10**8 codes take years on such a CPU and a GPU gains little. Those
32 MiB are a short-lived child's, not the kiosk's (:mod:`kiosk.core.scrypt_child`: the
code on its stdin); a child that gives no key makes the check fail (logged, no code in
the log). The check never runs on the UI thread: the attestation checks it on the
journey's worker, the admin on a thread of its own. The lock after wrong codes
(:class:`kiosk.core.code_gate.CodeGate`) and the config's mode do the rest.

Hashes written before (PBKDF2-SHA256, ``pbkdf2-sha256$ITERATIONS$SALT$HASH``) are still
read; on the next good code the kiosk writes the scrypt hash of it in its state directory
(``pharmacist-code.json``, 0600), tied to the config's hash it replaces, and uses that
from then on: the kiosk cannot write its config (root's), and a code provisioned anew
(another config hash) leaves the stale upgrade unused.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from kiosk.core.scrypt_child import ScryptError, derive

__all__ = [
    "LEGACY", "SCHEME", "UPGRADE_FILE", "N", "P", "PharmacistCode", "R", "ScryptError",
    "check_code_format", "code_matches", "hash_code", "hash_code_legacy",
    "hashed_code_checker", "needs_upgrade",
]  # fmt: skip

log = logging.getLogger(__name__)

SCHEME = "scrypt"
LEGACY = "pbkdf2-sha256"
N, R, P = 2**15, 8, 1  # 32 MiB a try
UPGRADE_FILE = "pharmacist-code.json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_code_format(code: str) -> None:
    if not (code.isascii() and code.isdigit() and 4 <= len(code) <= 8):
        raise ValueError("the pharmacist code is 4 to 8 digits")


def _scrypt(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return derive(code, salt, n, r, p)


def hash_code(code: str, salt: bytes | None = None, n: int = N, r: int = R, p: int = P) -> str:
    """``scrypt$N$r$p$SALT$HASH`` (base64 salt and hash); :class:`ScryptError` when the
    derivation's child fails."""
    check_code_format(code)
    salt = salt if salt is not None else os.urandom(16)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(_scrypt(code, salt, n, r, p))}"


def hash_code_legacy(code: str, salt: bytes | None = None, iterations: int = 20_000) -> str:
    """The PBKDF2 form older kiosks wrote (kept for reading them, and for tests)."""
    import hashlib  # here, as in the two below: not before the kiosk's first frame

    check_code_format(code)
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, iterations)
    return f"{LEGACY}${iterations}${_b64(salt)}${_b64(digest)}"


def code_matches(code: str, stored: str) -> bool:
    """Constant-time check of ``code`` against a scrypt or PBKDF2 hash string."""
    import hashlib
    import hmac

    parts = stored.split("$")
    try:
        if parts[0] == SCHEME and len(parts) == 6:
            n, r, p = (int(v) for v in parts[1:4])
            salt, expected = (base64.b64decode(v, validate=True) for v in parts[4:])
            if n < 2 or n & (n - 1) or r < 1 or p < 1:
                return False  # not scrypt parameters: no child for them
            actual = _scrypt(code, salt, n, r, p)
        elif parts[0] == LEGACY and len(parts) == 4:
            salt, expected = (base64.b64decode(v, validate=True) for v in parts[2:])
            actual = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, int(parts[1]))
        else:
            return False
    except ValueError:
        return False
    except ScryptError as exc:  # fails closed; the message never holds the code
        # no traceback: its frames would hold the code
        log.error("pharmacist code: the check could not run (%s)", exc)  # noqa: TRY400
        return False
    return hmac.compare_digest(actual, expected)


def needs_upgrade(stored: str) -> bool:
    """A hash weaker than what :func:`hash_code` writes today."""
    parts = stored.split("$")
    if parts[0] != SCHEME or len(parts) != 6 or not all(v.isdigit() for v in parts[1:4]):
        return True
    n, r, p = (int(v) for v in parts[1:4])
    return n * r * p < N * R * P


class PharmacistCode:
    """The code's check for one kiosk: the config's hash, or its upgrade in ``state_dir``."""

    def __init__(self, configured: str, state_dir: Path | None = None) -> None:
        self.configured = configured
        self._upgrade = state_dir / UPGRADE_FILE if state_dir is not None else None
        self._lock = threading.Lock()

    def _tag(self) -> str:
        import hashlib

        return hashlib.sha256(self.configured.encode()).hexdigest()

    def stored(self) -> str:
        """The hash in use: the upgrade of the config's hash, when there is one."""
        if self._upgrade is not None:
            try:
                data = json.loads(self._upgrade.read_text(encoding="utf-8"))
                if data.get("replaces") == self._tag() and isinstance(data.get("hash"), str):
                    return str(data["hash"])
            except (OSError, ValueError, AttributeError):
                pass  # none, or unreadable: the config's own hash
        return self.configured

    def check(self, code: str) -> bool:
        with self._lock:
            stored = self.stored()
            if not code_matches(code, stored):
                return False
            if needs_upgrade(stored) and self._upgrade is not None:
                try:
                    self._write_upgrade(hash_code(code))
                except ScryptError as exc:  # the old hash still works: the next good code
                    log.warning("pharmacist code: no stronger hash this time (%s)", exc)
            return True

    def _write_upgrade(self, new: str) -> None:
        assert self._upgrade is not None
        temporary = self._upgrade.with_name(f".{UPGRADE_FILE}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump({"replaces": self._tag(), "hash": new}, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self._upgrade)
        except OSError as exc:  # the old hash still works: upgraded at the next good code
            log.warning("pharmacist code: the stronger hash could not be saved (%s)", exc.strerror)
            return
        log.info("pharmacist code: its hash was upgraded to scrypt")


def hashed_code_checker(stored: str, state_dir: Path | None = None) -> Callable[[str], bool]:
    return PharmacistCode(stored, state_dir).check
