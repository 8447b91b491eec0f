"""systemd's side of the notify protocol, for tests and benchmarks: a datagram socket
to pass as ``$NOTIFY_SOCKET``, recording every message with when it arrived."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Notified:
    monotonic: float  # time.monotonic(), shared with child processes
    wall: float  # time.time(), to compare with a log line's timestamp
    states: tuple[str, ...]  # "READY=1", "STATUS=…", "WATCHDOG=1"…


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.1)
        self.received: list[Notified] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            states = tuple(data.decode("utf-8", "replace").splitlines())
            self.received.append(Notified(time.monotonic(), time.time(), states))

    def when(self, state: str) -> list[Notified]:
        """Every message carrying ``state`` (e.g. ``"READY=1"``), in order."""
        return [message for message in self.received if state in message.states]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> NotifySocket:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
