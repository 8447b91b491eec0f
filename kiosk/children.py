"""Child processes that die with the kiosk: a SIGKILLed kiosk (a crash, the watchdog,
a power-button test) must leave no receipt renderer or X server running behind it,
holding a device or writing a spool file with a patient's name.

Linux's ``PR_SET_PDEATHSIG`` (prctl(2)) asks the kernel to send the child SIGTERM when
the thread that forked it ends. The standard library has no wrapper for it, and the
maintained one (``python-prctl``) needs a C build for one call: ctypes makes it here.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # prctl(2)

# Looked up here, not in the forked child; None where there is no prctl (not Linux).
_PRCTL = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


def dies_with_this_process() -> Callable[[], None]:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: in the child, before exec, the
    kernel is asked for SIGTERM when this process's forking thread ends (a caller that
    must outlive the child starts it from a thread that lives as long: the receipt
    printer waits for its renderer; Xvfb is started from the main thread). If this
    process already died between fork and prctl, the child exits at once. Only calls
    already resolved in the child: nothing that allocates between fork and exec."""
    parent = os.getpid()
    prctl = _PRCTL

    def in_child() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # reparented: the parent is gone already
            os._exit(1)

    return in_child
