"""A raw port-9100 ticket printer on loopback, and a reader for what it was sent.

``LoopbackPrinter`` accepts one connection at a time on 127.0.0.1 and keeps every byte,
as a network ESC/POS printer does. It answers the real-time paper-status query
(DLE EOT 4) like an Epson TM printer: paper present, or paper out; ``silent`` printers
answer nothing. ``decode`` turns the byte stream back into text: it knows the ESC/GS
commands a receipt uses and fails on any other, so a stray byte in a ticket shows; it
reads the native QR code commands (GS ( k: model, dot size, error correction, store,
print) and says what each printed code holds and on which line it came out.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType

ESC, GS, DLE, EOT = 0x1B, 0x1D, 0x10, 0x04
PAPER_STATUS_QUERY = bytes([DLE, EOT, 4])
STATUS_PAPER_OK = 0x12  # bits 1 and 4 always set
STATUS_PAPER_OUT = 0x72  # + bits 5 and 6: paper-end sensor

# ESC commands -> count of parameter bytes
_ESC_PARAMS = {ord("@"): 0, ord("t"): 1, ord("a"): 1, ord("E"): 1, ord("!"): 1, ord("d"): 1,
               ord("-"): 1, ord("M"): 1}  # fmt: skip


class LoopbackPrinter:
    def __init__(self, *, paper: bool = True, silent: bool = False) -> None:
        self.paper = paper
        self.silent = silent
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.jobs: list[bytes] = []  # one per connection, complete when it closed
        self.status_queries = 0
        self._done = threading.Event()
        self._stop = threading.Event()
        self.server.settimeout(0.05)  # accept() wakes up to see _stop
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> LoopbackPrinter:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()
        assert not self._thread.is_alive()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(10)
                received = bytearray()
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    before = received.count(PAPER_STATUS_QUERY)
                    received += chunk
                    for _ in range(received.count(PAPER_STATUS_QUERY) - before):
                        self.status_queries += 1
                        if not self.silent:
                            status = STATUS_PAPER_OK if self.paper else STATUS_PAPER_OUT
                            conn.sendall(bytes([status]))
                self.jobs.append(bytes(received))
                self._done.set()

    def wait_job(self, timeout: float = 10) -> bytes:
        assert self._done.wait(timeout), "the printer received no complete job"
        return self.jobs[-1]


QR_CODE = ord("1")  # GS ( k cn: the QR code's functions
QR_STORE, QR_PRINT = ord("P"), ord("Q")  # fn 80: store the data; fn 81: print it
QR_SETUP = {ord("A"), ord("C"), ord("E")}  # fn 65 model, 67 dot size, 69 error correction


@dataclass
class Ticket:
    text: str  # printable text, lines joined with \n
    commands: list[bytes] = field(default_factory=list)  # every ESC/GS/DLE sequence, in order
    qr: list[tuple[int, str]] = field(default_factory=list)  # (line it printed before, data)

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def decode(data: bytes, codec: str = "cp858") -> Ticket:
    """Split an ESC/POS stream into commands and text; unknown control bytes fail."""
    text = bytearray()
    commands: list[bytes] = []
    codes: list[tuple[int, str]] = []
    stored: bytes | None = None
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == ESC:
            params = _ESC_PARAMS.get(data[i + 1])
            assert params is not None, f"unknown command ESC {data[i + 1]:#04x} at {i}"
            size = 2 + params
        elif byte == GS:
            command = data[i + 1]
            if command == ord("V"):  # cut: GS V m, or GS V m n for m >= 65
                size = 4 if data[i + 2] >= 65 else 3
            elif command == ord("!"):
                size = 3
            elif command == ord("(") and data[i + 2] == ord("k"):  # GS ( k pL pH cn fn ...
                size = 5 + data[i + 3] + 256 * data[i + 4]
                cn, fn, body = data[i + 5], data[i + 6], data[i + 7 : i + size]
                assert cn == QR_CODE, f"not a QR code: GS ( k cn={cn:#04x} at {i}"
                if fn == QR_STORE:
                    assert body[:1] == b"0", f"QR store without m=48 at {i}"
                    stored = body[1:]
                elif fn == QR_PRINT:
                    assert stored is not None, f"QR printed before any data at {i}"
                    codes.append((text.count(b"\n"), stored.decode("utf-8")))
                else:
                    assert fn in QR_SETUP, f"unknown QR function {fn:#04x} at {i}"
            else:
                raise AssertionError(f"unknown command GS {command:#04x} at {i}")
        elif byte == DLE:
            assert data[i : i + 3] == PAPER_STATUS_QUERY, f"unknown DLE command at {i}"
            size = 3
        elif byte < 0x20 and byte != ord("\n"):
            raise AssertionError(f"stray control byte {byte:#04x} at {i}")
        else:
            text.append(byte)
            i += 1
            continue
        commands.append(data[i : i + size])
        i += size
    return Ticket(text.decode(codec), commands, codes)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
