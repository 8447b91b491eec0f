"""systemd's notify protocol for ``kiosk run`` (``Type=notify``, ``WatchdogSec=``).

``READY=1`` goes once the welcome screen is drawn and the services are up (ledger, DMP
client, recovery): the pharmacist's CPS PIN is not waited for, it is a ``STATUS=``.
``WATCHDOG=1`` is sent from the Kivy loop (:class:`kiosk.ui.app.KioskApp` schedules
:meth:`ServiceNotifier.ping` on its clock) at half of ``$WATCHDOG_USEC``: a frozen UI stops
the pings and systemd restarts the kiosk; a worker busy in a DMP call does not.

The datagrams are sent by ``sdnotify`` (the small, dependency-free convention for
sd_notify in Python); without ``$NOTIFY_SOCKET`` (not under systemd) nothing is sent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, MutableMapping

import sdnotify

log = logging.getLogger(__name__)


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between pings (half the watchdog timeout), None without a watchdog or
    when it is meant for another process (``$WATCHDOG_PID``)."""
    usec, owner = environ.get("WATCHDOG_USEC", ""), environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (owner and owner != str(pid)):
        return None
    return int(usec) / 2_000_000


VARIABLES = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


class ServiceNotifier:
    """Reads systemd's variables once, then takes them out of the environment (as
    sd_notify's ``unset_environment`` does): the receipt renderer and any other child
    must never speak for the kiosk."""

    def __init__(self, environ: MutableMapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.enabled = bool(environ.get("NOTIFY_SOCKET"))
        self.interval = watchdog_interval(environ, os.getpid()) if self.enabled else None
        self._notifier = sdnotify.SystemdNotifier() if self.enabled else None
        for name in VARIABLES:
            environ.pop(name, None)
        self.pings = 0

    def _send(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        self._send(f"STATUS={status}")

    def ping(self) -> None:
        """From the UI loop only."""
        self.pings += 1
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        self._send("STOPPING=1")
