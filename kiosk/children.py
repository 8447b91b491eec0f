"""Child processes that die with the kiosk: a SIGKILLed kiosk (a crash, the watchdog,
a power-button test) must leave no receipt renderer, voice or X server running behind
it, holding a device or a spool file with a patient's name.

Linux's ``PR_SET_PDEATHSIG`` (prctl(2)) asks the kernel to send the child SIGTERM when
the thread that forked it ends. Python has no wrapper for it in the standard library,
and the maintained ones (``python-prctl``) need a C build: one ctypes call is smaller.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # prctl(2)

_PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the forked child


def die_with_parent() -> None:
    """``preexec_fn`` for :class:`subprocess.Popen`: in the child, before exec, the kernel
    is asked for SIGTERM when the parent dies. Only a call already resolved: nothing that
    allocates between fork and exec. The thread that starts the child must outlive it
    (it does when it waits for the child, as every caller here does)."""
    _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
