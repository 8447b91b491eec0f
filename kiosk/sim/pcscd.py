"""Make sure a pcscd with the vpcd driver is running: reuse one, or start our own.

Only one pcscd can run per machine (fixed socket). The demo and the tests call
:func:`ensure_pcscd`; it starts ``pcscd --foreground`` only when none answers, and
:meth:`PcscdHandle.stop` stops only a daemon this process started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

from smartcard import scard

from kiosk.hardware.card_errors import PcscUnavailable


def pcscd_running() -> bool:
    hresult, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return False
    scard.SCardReleaseContext(handle)
    return True


def list_readers() -> list[str]:
    hresult, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return []
    try:
        hresult, readers = scard.SCardListReaders(handle, [])
        return list(readers) if hresult == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(handle)


@dataclass
class PcscdHandle:
    process: subprocess.Popen[bytes] | None  # None: someone else's daemon, reused

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def start_pcscd(timeout: float = 10.0) -> subprocess.Popen[bytes]:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    binary = shutil.which("pcscd", path=search)
    if binary is None:
        raise PcscUnavailable("pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)")
    process = subprocess.Popen(
        [binary, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PcscUnavailable(f"pcscd exited at start-up (code {process.returncode})")
        if pcscd_running() and any(r.startswith("Virtual PCD") for r in list_readers()):
            return process
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        process.kill()
    raise PcscUnavailable("pcscd did not show the vpcd readers in time (vsmartcard-vpcd missing?)")


def ensure_pcscd() -> PcscdHandle:
    if pcscd_running():
        return PcscdHandle(None)
    return PcscdHandle(start_pcscd())
