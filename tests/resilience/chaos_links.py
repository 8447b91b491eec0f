"""The links a chaos test breaks: a TCP relay in front of the DMP sandbox or the ticket
printer (its listening port stays the same while what is behind it stops, restarts,
answers garbage or vanishes mid-stream), and a DMP service that takes its time.

The relay forwards bytes only (TLS goes end to end through it). ``down()`` is a process
gone: the port refuses connections and every open connection is reset; ``garbage`` makes
it answer a new connection with bytes that are not TLS; ``cut_after`` resets a
connection once that many bytes went upstream (a printer switched off mid-ticket).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
import time
from typing import Any

from kiosk.sim.sandbox.server import SandboxService


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST, as a peer that vanished (shut down first: a close alone
    waits for the relay's thread blocked reading it)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class Relay:
    def __init__(self, upstream: tuple[str, int], port: int | None = None) -> None:
        self.upstream = upstream
        self.port = port or free_port()
        self.garbage = False
        self.cut_after: int | None = None  # bytes sent upstream before the link dies
        self.accepted = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    def up(self) -> Relay:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.settimeout(0.05)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        """Refuse new connections and reset the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.drop()

    def drop(self) -> None:
        """Reset every open connection (the listener stays)."""
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _reset(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.garbage:
            with contextlib.suppress(OSError):
                client.recv(65536)
                client.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + os.urandom(512))
            _reset(client)
            return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(client)
            return
        with self._lock:
            self._open |= {client, server}
        budget: list[int | None] = [self.cut_after]
        threading.Thread(target=self._pipe, args=(server, client, None), daemon=True).start()
        self._pipe(client, server, budget)

    def _pipe(self, source: socket.socket, sink: socket.socket, budget: list[Any] | None) -> None:
        try:
            while chunk := source.recv(65536):
                if budget is not None and budget[0] is not None:
                    if len(chunk) >= budget[0]:
                        sink.sendall(chunk[: budget[0]])
                        time.sleep(0.05)  # the printer got that much, then went dark
                        break
                    budget[0] -= len(chunk)
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            _reset(sock)
        with self._lock:
            self._open -= {source, sink}


class SlowService(SandboxService):
    """The sandbox's service, answering each call ``delay`` seconds late (after doing it:
    a creation is committed at once, its answer comes late)."""

    def __init__(self, inner: SandboxService, delay: float) -> None:
        super().__init__(inner.store)
        self.delay = delay

    def handle(self, *args: Any, **kwargs: Any) -> Any:
        answer = super().handle(*args, **kwargs)
        time.sleep(self.delay)
        return answer
