"""scrypt (RFC 7914) derived in a short-lived child process, not in the kiosk's.

At N = 2**15, r = 8 each derivation needs a 32 MiB working set: in the kiosk's process
that is 32 MiB more resident memory at the peak, for 0.1 s, on a device whose memory is
the budget. A child (``python -I -S``: no site, no user paths, no environment; hashlib's
OpenSSL scrypt) pays it instead and gives it back on exit, about 20 ms more a check.

The code is a secret: it goes to the child on its stdin, never in its argv or
environment, and no error message carries it. The derived key comes back on stdout
(hex); anything else (no interpreter, a crash, an answer that is not a key, the child
past ``timeout``) is a :class:`ScryptError` naming only what went wrong.
"""

from __future__ import annotations

import json
import subprocess
import sys

__all__ = ["DEFAULT_TIMEOUT_S", "ScryptError", "derive"]

DEFAULT_TIMEOUT_S = 30.0  # 0.1 s here, under a second on a Raspberry Pi 4 core
KEY_LENGTH = 32  # the child's dklen

# Reads {"code", "salt" (hex), "n", "r", "p"} on stdin, writes the key in hex on stdout.
# OpenSSL needs 128·r·(N + p + 2) bytes; hashlib's default limit (32 MiB) is just short.
_CHILD = """\
import hashlib, json, sys
a = json.loads(sys.stdin.read())
n, r, p = int(a["n"]), int(a["r"]), int(a["p"])
key = hashlib.scrypt(a["code"].encode(), salt=bytes.fromhex(a["salt"]), n=n, r=r, p=p,
                     maxmem=min(2**31 - 1, 128 * r * (n + p + 2) + 2**20), dklen=32)
sys.stdout.write(key.hex())
"""


class ScryptError(Exception):
    """The child gave no key (the message never holds the code)."""


def derive(code: str, salt: bytes, n: int, r: int, p: int, timeout: float | None = None) -> bytes:
    """scrypt(code, salt, N=n, r, p), 32 bytes, computed by a child process that has
    ``timeout`` seconds (None: :data:`DEFAULT_TIMEOUT_S`)."""
    timeout = DEFAULT_TIMEOUT_S if timeout is None else timeout
    request = json.dumps({"code": code, "salt": salt.hex(), "n": n, "r": r, "p": p})
    try:
        done = subprocess.run(  # our own interpreter and code, no shell
            [sys.executable, "-I", "-S", "-c", _CHILD],
            input=request.encode(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ScryptError(f"scrypt child: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise ScryptError(f"scrypt child: could not start ({exc.strerror})") from None
    if done.returncode != 0:
        # its stderr is a traceback of our own code: the last line names the error's type
        # (ValueError for parameters OpenSSL refuses, MemoryError…), never the input
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        kind = last[0].split(":", 1)[0][:80]
        raise ScryptError(f"scrypt child: exit {done.returncode} ({kind or 'no message'})")
    try:
        key = bytes.fromhex(done.stdout.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_LENGTH:
        raise ScryptError("scrypt child: its answer is not a key")
    return key
