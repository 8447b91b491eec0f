"""vpcd client: plugs an :class:`EmulatedCard` into a ``vsmartcard-vpcd`` reader slot.

vpcd (the pcscd driver) listens on 127.0.0.1:35963 for slot 0 and 35964 for slot 1.
Frames are a 2-byte big-endian length then the payload; a 1-byte payload is a control
(0 power off, 1 power on, 2 reset, 4 get ATR), anything else an APDU to answer.
The card is "inserted" while the socket is connected and "pulled" when it closes.

Every ``recv`` is preceded by ``TCP_QUICKACK`` and the socket has ``TCP_NODELAY``:
without them each APDU waits on the kernel's 40 ms delayed-ACK timer (docs/architecture.md §4).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading

from kiosk.sim.emulators.emulated_card import EmulatedCard

log = logging.getLogger(__name__)

VPCD_BASE_PORT = 35963
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


def slot_port(slot: int) -> int:
    if slot not in (0, 1):
        raise ValueError("vpcd slot must be 0 or 1")
    return VPCD_BASE_PORT + slot


class VpcdCard:
    """Runs ``card`` on a background thread, connected to vpcd, until :meth:`pull`.

    ``pull_after``: drop the connection after that many APDUs (a card pulled
    mid-read). ``mute``: never answer APDUs (a dead chip). While not pulled, the card
    reconnects by itself when pcscd restarts.
    """

    def __init__(
        self,
        card: EmulatedCard,
        port: int = VPCD_BASE_PORT,
        host: str = "127.0.0.1",
        *,
        pull_after: int | None = None,
        mute: bool = False,
    ) -> None:
        self.card = card
        self.host, self.port = host, port
        self.pull_after, self.mute = pull_after, mute
        self.connected = threading.Event()
        self.connections = 0
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"vpcd-{port}", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------

    def insert(self, timeout: float = 5.0) -> VpcdCard:
        self._thread.start()
        if not self.connected.wait(timeout):
            self.pull()
            raise TimeoutError(f"vpcd did not accept the card on port {self.port}")
        return self

    def pull(self) -> None:
        self._stop.set()
        self._close()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> VpcdCard:
        return self.insert()

    def __exit__(self, *_exc: object) -> None:
        self.pull()

    def wait(self) -> None:
        """Block until pulled (used by ``kiosk cards emulate``)."""
        while not self._stop.wait(0.5):
            pass

    # -- internals ---------------------------------------------------------------------

    def _close(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        self.connected.clear()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._stop.wait(0.1)  # vpcd not (yet) listening: pcscd starting or restarting
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sock = sock
            self.connections += 1
            self.connected.set()
            try:
                self._serve(sock)
            except (OSError, ConnectionError) as exc:
                log.debug("vpcd connection on port %d ended: %s", self.port, exc)
            finally:
                self._close()
                if self.pull_after is not None:
                    self._stop.set()  # a pulled card does not come back

    def _recv_exact(self, sock: socket.socket, size: int) -> bytes:
        buf = b""
        while len(buf) < size:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(size - len(buf))
            if not chunk:
                raise ConnectionError("vpcd closed the connection")
            buf += chunk
        return buf

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self, sock: socket.socket) -> None:
        answered = 0
        while not self._stop.is_set():
            (size,) = struct.unpack(">H", self._recv_exact(sock, 2))
            payload = self._recv_exact(sock, size)
            if size == 1:
                ctrl = payload[0]
                if ctrl == CTRL_ATR:
                    self._send(sock, self.card.atr)
                elif ctrl in (CTRL_ON, CTRL_RESET):
                    self.card.power_on()
                continue
            if self.mute:
                continue  # swallow the APDU: the reader waits for an answer that never comes
            self._send(sock, self.card.process(payload))
            answered += 1
            if self.pull_after is not None and answered >= self.pull_after:
                return
