"""scrypt runs in a child process: the same key as in-process scrypt, the code never in
the child's argv or environment, failures typed and logged without the code, and the
32 MiB working set off the kiosk's resident memory."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from kiosk.core import scrypt_child
from kiosk.core.pharmacist_code import N, P, R, code_matches, hash_code
from kiosk.core.scrypt_child import ScryptError, derive

CODE = "80461357"


def test_the_child_derives_rfc_7914_scrypt() -> None:
    salt = bytes(range(16))
    expected = Scrypt(salt=salt, length=32, n=N, r=R, p=P).derive(CODE.encode())
    assert derive(CODE, salt, N, R, P) == expected
    # RFC 7914 §12, second vector (its first 32 bytes: the key is a PBKDF2 prefix)
    vector = "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
    assert derive("password", b"NaCl", 1024, 8, 16).hex() == vector


def test_the_code_goes_on_stdin_never_in_argv_or_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []
    run = subprocess.run

    def spy(argv: list[str], **kwargs: Any) -> Any:
        seen.append({"argv": argv, **kwargs})
        return run(argv, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    assert code_matches(CODE, hash_code(CODE, n=2**14))
    assert len(seen) == 2
    for call in seen:
        assert not any(CODE in part for part in call["argv"])
        assert call.get("env") is None or CODE not in str(call["env"])
        assert CODE.encode() in call["input"]
        assert call["timeout"] > 0


@pytest.mark.parametrize(
    ("executable", "timeout", "message"),
    [
        ("/nonexistent/python", 10.0, "could not start"),
        (sys.executable, 0.001, "no answer within"),
    ],
)
def test_a_failed_child_fails_the_check_and_logs_no_code(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    executable: str,
    timeout: float,
    message: str,
) -> None:
    stored = hash_code(CODE, n=2**14)
    monkeypatch.setattr(sys, "executable", executable)
    monkeypatch.setattr(scrypt_child, "DEFAULT_TIMEOUT_S", timeout)
    with pytest.raises(ScryptError, match=message) as raised:
        derive(CODE, b"salt", 2**14, R, P)
    assert CODE not in str(raised.value)
    with caplog.at_level(logging.ERROR):
        assert not code_matches(CODE, stored)
    assert message in caplog.text
    assert CODE not in caplog.text


def test_parameters_openssl_refuses_are_a_typed_error_without_the_code() -> None:
    with pytest.raises(ScryptError, match=r"exit 1 \(ValueError\)") as raised:
        derive(CODE, b"salt", 3, R, P)  # N not a power of two
    assert CODE not in str(raised.value)


def test_the_working_set_is_the_childs_not_the_callers() -> None:
    """A hash and a check in a fresh interpreter: its own peak RSS grows far less than
    the 32 MiB scrypt needs (in-process scrypt: about 32 MiB more)."""
    script = (
        "import resource\n"
        "from kiosk.core.pharmacist_code import code_matches, hash_code\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "assert code_matches('2468', hash_code('2468'))\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print((after - before) // 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert int(done.stdout) < 8  # MiB
