"""The local pharmacist code, stored as a salted PBKDF2 hash, never in clear.

The code is 4 to 8 digits, so the hash guards against reading it off a copied config
file, not against a patient attacker with that file: the lock after wrong codes
(:class:`kiosk.core.code_gate.CodeGate`) and the file's 0600 mode do the rest. The iteration
count keeps one check under ~20 ms on a Raspberry Pi 4, since the admin checks it on the UI
thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable

SCHEME = "pbkdf2-sha256"
ITERATIONS = 20_000


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_code_format(code: str) -> None:
    if not (code.isascii() and code.isdigit() and 4 <= len(code) <= 8):
        raise ValueError("the pharmacist code is 4 to 8 digits")


def hash_code(code: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    check_code_format(code)
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def code_matches(code: str, stored: str) -> bool:
    """Constant-time check of ``code`` against a :func:`hash_code` string."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.pbkdf2_hmac(
            "sha256", code.encode(), base64.b64decode(salt, validate=True), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def hashed_code_checker(stored: str) -> Callable[[str], bool]:
    return lambda code: code_matches(code, stored)
