"""A hostile DMP service on 127.0.0.1: real sockets, real TLS, and whatever a
:class:`Peer` says it does, from the handshake (wrong certificate, garbage, a close
mid-handshake, silence) to the bytes of each answer (status line, headers, framing
that lies, SOAP of any shape, trickled, cut or never finished).

``@MID@`` in an answer is replaced by the request's ``wsa:MessageID``, so an answer
can relate to the request it answers. Every connection the server accepted is closed
when it stops (:meth:`HostileServer.close`): a test never leaves a handler behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
import ssl
import struct
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.sim.sandbox.pki import (
    PkiPaths,
    issue,
    load_cert,
    load_key,
    new_key,
    write_key,
    write_pem,
)

MID = b"@MID@"
_MESSAGE_ID = re.compile(rb"<wsa:MessageID>([^<]{1,200})</wsa:MessageID>")


class Tls(StrEnum):
    OK = "tls ok"
    TLS12 = "tls 1.2 only"
    SLOW_HANDSHAKE = "slow handshake"
    FOREIGN_CERT = "cert of another CA"
    WRONG_HOST = "cert for another host"
    EXPIRED = "expired cert"
    REFUSE_CLIENT = "refuses our cert"
    GARBAGE = "handshake garbage"
    CLOSE_AT_HELLO = "close at ClientHello"
    RESET = "reset at connect"
    SILENT = "silent handshake"
    PLAIN_HTTP = "plain HTTP, no TLS"


class Framing(StrEnum):
    LENGTH = "content-length"
    LONGER = "length announces more"
    SHORTER = "length announces less"
    BAD_LENGTH = "length not a number"
    UNTIL_CLOSE = "no length, close"
    CHUNKED = "chunked"
    BAD_CHUNK = "chunk size garbage"
    UNTERMINATED = "chunked, no last chunk"
    BOTH = "length and chunked"


class Pace(StrEnum):
    AT_ONCE = "at once"
    TRICKLE = "trickle"
    CUT = "cut"
    HANG = "hang"


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: its status line, headers, body (``@MID@`` filled in), how it is
    framed and sent, and whether the server closes after it."""

    status_line: bytes = b"HTTP/1.1 200 OK"
    headers: tuple[bytes, ...] = (b"Content-Type: application/soap+xml; charset=utf-8",)
    body: bytes = b""
    framing: Framing = Framing.LENGTH
    pace: Pace = Pace.AT_ONCE
    step: int = 1  # trickle: bytes per send; cut / hang: bytes sent before
    interval: float = 0.05  # trickle: seconds between sends
    close: bool = False

    def wire(self, message_id: bytes) -> bytes:
        body = self.body.replace(MID, message_id)
        head = [self.status_line, *self.headers]
        framing = self.framing
        if framing in (Framing.LENGTH, Framing.BOTH):
            head.append(b"Content-Length: %d" % len(body))
        elif framing is Framing.LONGER:
            head.append(b"Content-Length: %d" % (len(body) + 50))
        elif framing is Framing.SHORTER:
            head.append(b"Content-Length: %d" % max(0, len(body) - 7))
        elif framing is Framing.BAD_LENGTH:
            head.append(b"Content-Length: 12ab")
        if framing in (Framing.CHUNKED, Framing.BAD_CHUNK, Framing.UNTERMINATED, Framing.BOTH):
            head.append(b"Transfer-Encoding: chunked")
            half = len(body) // 2
            chunks = b"".join(
                b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:half], body[half:]) if c
            )
            if framing is Framing.BAD_CHUNK:
                chunks = b"zz;\xff\r\n" + body + b"\r\n"
            body = chunks + (b"" if framing is Framing.UNTERMINATED else b"0\r\n\r\n")
        return b"\r\n".join(head) + b"\r\n\r\n" + body


@dataclass(frozen=True)
class Peer:
    """What the server does: the TLS move for every connection, then ``replies`` in
    order across connections (a retry opens a new one), then the last reply again."""

    tls: Tls = Tls.OK
    garbage: bytes = b"\x16\x03\x01\x00\x05hello"
    delay: float = 0.0  # slow handshake: seconds before it
    replies: tuple[Reply, ...] = (Reply(),)

    @property
    def behaviours(self) -> list[str]:
        drawn = [self.tls.value]
        for reply in self.replies:
            drawn += [reply.framing.value, reply.pace.value, _status_kind(reply.status_line)]
        return drawn


SOUND = (Tls.OK, Tls.TLS12, Tls.SLOW_HANDSHAKE)  # handshakes that accept our certificate
REFUSING = (Tls.FOREIGN_CERT, Tls.WRONG_HOST, Tls.EXPIRED, Tls.REFUSE_CLIENT)


def _status_kind(line: bytes) -> str:
    found = re.fullmatch(rb"HTTP/1\.[01] ([0-9]{3})( .*)?", line, flags=re.S)
    return f"HTTP {found.group(1).decode()}" if found else "status line garbage"


@dataclass
class ServerPki:
    """Our PKI, another CA's, and certificates of ours gone wrong (another host, expired)."""

    ours: PkiPaths
    foreign: PkiPaths
    wrong_host: tuple[Path, Path] = field(init=False)
    expired: tuple[Path, Path] = field(init=False)

    def __post_init__(self) -> None:
        self.wrong_host = self._issue("wrong-host", ["dmp.example"], None)
        self.expired = self._issue("expired", ["127.0.0.1"], dt.timedelta(days=-1))

    def _issue(self, name: str, hosts: list[str], ends: dt.timedelta | None) -> tuple[Path, Path]:
        cert_path = self.ours.root / f"{name}.pem"
        key_path = self.ours.root / f"{name}.key"
        if not cert_path.exists():
            key = new_key()
            now = dt.datetime.now(dt.UTC)
            cert = issue(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"DMP {name}")]),
                key, load_cert(self.ours.ca), load_key(self.ours.ca_key),
                usage=[ExtendedKeyUsageOID.SERVER_AUTH], server_names=hosts,
                not_before=now - dt.timedelta(days=30) if ends else None,
                not_after=now + ends if ends else None,
            )  # fmt: skip
            write_key(key_path, key)
            write_pem(cert_path, cert)
        return cert_path, key_path

    def context(self, tls: Tls) -> ssl.SSLContext:
        cert, key = self.ours.server, self.ours.server_key
        client_ca = self.ours.ca
        if tls is Tls.FOREIGN_CERT:
            cert, key = self.foreign.server, self.foreign.server_key
        elif tls is Tls.WRONG_HOST:
            cert, key = self.wrong_host
        elif tls is Tls.EXPIRED:
            cert, key = self.expired
        elif tls is Tls.REFUSE_CLIENT:
            client_ca = self.foreign.ca
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(client_ca))
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_cert_chain(str(cert), str(key))
        if tls is Tls.TLS12:
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        return context


class HostileServer:
    def __init__(self, pki: ServerPki, peer: Peer) -> None:
        self.peer = peer
        self._context = pki.context(peer.tls)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = [self._listener]
        self._threads: list[threading.Thread] = []
        self._replies = 0
        self.requests = 0
        self._start(self._accept)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._listener.getsockname()[1]}/si-dmp-server/v2/services"

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(5)
            assert not thread.is_alive(), "a hostile handler did not stop"

    def _start(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except OSError:
                return
            self._keep(raw)
            self._start(self._connection, raw)

    def _connection(self, raw: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            conn = self._handshake(raw)
            if conn is not None:
                self._serve(conn)

    def _handshake(self, raw: socket.socket) -> socket.socket | None:
        tls = self.peer.tls
        if tls is Tls.RESET:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            raw.close()
            return None
        if tls in (Tls.GARBAGE, Tls.CLOSE_AT_HELLO, Tls.SILENT):
            raw.recv(65536)
            if tls is Tls.GARBAGE:
                raw.sendall(self.peer.garbage)
            if tls is Tls.SILENT or (tls is Tls.GARBAGE and len(self.peer.garbage) % 2):
                self._stop.wait(30)  # until the test ends
            raw.close()
            return None
        if tls is Tls.PLAIN_HTTP:
            return raw
        if tls is Tls.SLOW_HANDSHAKE and self._stop.wait(self.peer.delay):
            return None
        raw.settimeout(10)
        conn = self._context.wrap_socket(raw, server_side=True)
        self._keep(conn)
        return conn

    def _serve(self, conn: socket.socket) -> None:
        buffered = b""
        while not self._stop.is_set():
            request, buffered = _read_request(conn, buffered)
            if request is None:
                return
            with self._lock:
                self.requests += 1
                index = min(self._replies, len(self.peer.replies) - 1)
                self._replies += 1
            reply = self.peer.replies[index]
            found = _MESSAGE_ID.search(request)
            if not self._send(conn, reply, reply.wire(found.group(1) if found else b"none")):
                return
            if reply.close or reply.framing is Framing.UNTIL_CLOSE:
                conn.close()
                return

    def _send(self, conn: socket.socket, reply: Reply, wire: bytes) -> bool:
        """Send ``wire`` at the reply's pace; False when the connection is done."""
        if reply.pace is Pace.AT_ONCE:
            conn.sendall(wire)
            return True
        if reply.pace is Pace.TRICKLE:
            for at in range(0, len(wire), max(1, reply.step)):
                if self._stop.wait(reply.interval):
                    return False
                conn.sendall(wire[at : at + max(1, reply.step)])
            return True
        conn.sendall(wire[: reply.step])
        if reply.pace is Pace.HANG:
            self._stop.wait(30)
        conn.close()
        return False


def _read_request(conn: socket.socket, buffered: bytes) -> tuple[bytes | None, bytes]:
    """One HTTP request (headers and Content-Length body), and what followed it."""
    while b"\r\n\r\n" not in buffered:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buffered += chunk
    head, _, rest = buffered.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    size = int(length.group(1)) if length else 0
    while len(rest) < size:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:size], rest[size:]
