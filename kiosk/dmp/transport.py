"""How SOAP envelopes travel: HTTPS with the pharmacy's client certificate and a pinned CA.

A transport only moves bytes and maps network failures to typed errors; it knows
nothing of SOAP or of the journey. Another adapter (a certified connector, a queue)
implements the same :class:`Transport` protocol.

:class:`HttpsTransport` is the standard library only (``ssl`` + ``http.client``):
``requests`` cost the kiosk ~6.5 MiB and ~30 ms of start-up for one POST. Nothing here
reads the environment: no proxy (``HTTPS_PROXY``…), no CA bundle (``SSL_CERT_FILE``,
``REQUESTS_CA_BUNDLE``…), no key log (``SSLKEYLOGFILE``).
"""

from __future__ import annotations

import contextlib
import http.client
import math
import select
import ssl
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from kiosk.dmp.service_errors import (
    DmpAuthenticationError,
    DmpProtocolError,
    DmpTimeout,
    DmpUnavailable,
)
from kiosk.dmp.soap import CONTENT_TYPE

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_RESPONSE = 1_000_000
CONNECT_TIMEOUT = 5.0  # TCP connect + TLS handshake, at most (and at most the call's timeout)
MAX_IDLE = 10  # kept-alive connections per host, as requests' pool kept
HEADERS = {
    "Content-Type": CONTENT_TYPE,
    "Accept-Encoding": "identity",
    "User-Agent": "borne-dmp",
}


class Transport(Protocol):
    def post(self, url: str, payload: bytes, timeout: float) -> bytes:
        """POST ``payload``; the response body (a SOAP envelope), or a typed DmpError."""
        ...


class _DeadlineSocket(ssl.SSLSocket):
    """A TLS socket whose every read ends at ``deadline`` (``time.monotonic()``), not a
    fixed time after it starts: a server trickling its answer byte by byte, status line
    and headers included, cannot hold a call past its deadline."""

    deadline: float = math.inf

    def recv_into(self, buffer: WriteableBuffer, nbytes: int | None = None, flags: int = 0) -> int:
        if self.deadline != math.inf:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the call's deadline was reached")
            self.settimeout(remaining)
        return super().recv_into(buffer, nbytes, flags)


class _Connection(http.client.HTTPSConnection):
    """One TLS connection; ``exchanges`` counts the answers read whole on it."""

    generation = 0
    exchanges = 0


def pinned_context(ca: Path) -> ssl.SSLContext:
    """TLS 1.2+, the server's certificate checked against ``ca`` only (never the system
    store) and its host name checked. No client certificate yet."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_verify_locations(cafile=str(ca))
    except (OSError, ssl.SSLError) as exc:
        raise DmpAuthenticationError(f"cannot load the DMP service's CA: {exc}") from None
    return context


class HttpsTransport:
    """POSTs over mutual TLS, keeping connections alive between calls. Thread-safe: a
    call takes an idle connection (or opens one) and gives it back once its answer was
    read whole, so concurrent calls each have their own connection."""

    def __init__(self, ca: Path, cert: Path, key: Path) -> None:
        context = pinned_context(ca)
        try:
            context.load_cert_chain(str(cert), str(key))
        except (OSError, ssl.SSLError) as exc:
            raise DmpAuthenticationError(f"cannot load the pharmacy certificate: {exc}") from None
        self._start(context)

    def _start(self, context: ssl.SSLContext) -> None:
        context.sslsocket_class = _DeadlineSocket  # the deadline is for the whole answer
        self._context = context
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._generation = 0

    def post(self, url: str, payload: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout  # for the whole answer, not each read
        host, port, path = _split(url)
        conn = self._checkout(host, port)
        try:
            status, content_type, body = _exchange(conn, path, payload, timeout, deadline)
        except BaseException:
            conn.close()
            raise
        self._checkin(host, port, conn)
        soap = content_type.startswith("application/soap+xml")
        if soap and status in (200, 400, 500):
            return body  # faults travel as SOAP with 400/500
        if status >= 500:
            raise DmpUnavailable(f"the DMP service answered HTTP {status}")
        raise DmpProtocolError(f"unexpected HTTP {status} from the DMP service")

    def close(self) -> None:
        """Close the idle connections; those in use are closed when their call ends."""
        with self._lock:
            self._generation += 1
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    def _checkout(self, host: str, port: int) -> _Connection:
        """The most recently used idle connection that the server has not closed, or a
        new (not yet connected) one. A kept-alive connection the server closed or wrote
        to while idle is dropped before anything is sent on it: that is the only case
        where a call moves to another connection, as the request was certainly not sent."""
        while True:
            with self._lock:
                idle = self._idle.get((host, port))
                conn = idle.pop() if idle else None
                generation = self._generation
            if conn is None:
                conn = _Connection(host, port, context=self._context)
                conn.generation = generation
                return conn
            if not _dropped(conn):
                return conn
            conn.close()

    def _checkin(self, host: str, port: int, conn: _Connection) -> None:
        """Keep ``conn`` for the next call if its answer was read whole and neither side
        closes it."""
        if conn.sock is not None:
            with self._lock:
                idle = self._idle.setdefault((host, port), [])
                if conn.generation == self._generation and len(idle) < MAX_IDLE:
                    idle.append(conn)
                    return
        conn.close()


def _exchange(
    conn: _Connection, path: str, payload: bytes, timeout: float, deadline: float
) -> tuple[int, str, bytes]:
    """Send one request on ``conn`` and read its answer whole: status, content type, body.
    ``conn`` is left open only when it can carry another request."""
    fresh = conn.exchanges == 0
    if conn.sock is None:
        _connect(conn, timeout, deadline)
    sock = conn.sock
    assert isinstance(sock, _DeadlineSocket)
    sock.deadline = deadline
    try:
        sock.settimeout(_remaining(deadline))
        # On a broken pipe, the server may have answered before closing (a refused
        # certificate): read that answer.
        with contextlib.suppress(BrokenPipeError):
            conn.request("POST", path, body=payload, headers=HEADERS)
        response = conn.getresponse()
    except TimeoutError:
        raise DmpTimeout(f"no answer from the DMP service within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        # Past the handshake, a TLS error on a new connection is the server refusing our
        # certificate (TLS 1.3 tells it after the client's handshake has ended); on a
        # connection that already carried an answer it can only be the network.
        if fresh and (isinstance(exc, ssl.SSLError) or _looks_like_tls_refusal(exc)):
            raise DmpAuthenticationError(
                f"the DMP service refused our certificate: {exc}"
            ) from None
        raise DmpUnavailable(f"connection to the DMP service failed ({_cause(exc)})") from None
    body = _read_body(response, timeout)
    response.close()
    if response.will_close:
        conn.close()
    conn.exchanges += 1
    return response.status, response.getheader("Content-Type", ""), body


def _connect(conn: _Connection, timeout: float, deadline: float) -> None:
    """TCP connection and TLS handshake; nothing of the request is sent yet."""
    try:
        conn.timeout = min(timeout, CONNECT_TIMEOUT, _remaining(deadline))
        conn.connect()
    except TimeoutError:
        raise DmpTimeout(f"no answer from the DMP service within {timeout:g} s") from None
    except ssl.SSLError as exc:
        if exc.reason in NOT_TLS:  # OpenSSL's reason code: a wrong port or address
            raise DmpUnavailable(
                f"the DMP endpoint does not speak TLS (check its address and port): {exc}"
            ) from None
        raise DmpAuthenticationError(f"TLS handshake with the DMP service failed: {exc}") from None
    except OSError as exc:
        tcp_up = conn.sock is not None  # the handshake failed, not the TCP connection
        if tcp_up and _looks_like_tls_refusal(exc):
            raise DmpAuthenticationError(
                f"the DMP service refused our certificate: {exc}"
            ) from None
        raise DmpUnavailable(f"connection to the DMP service failed ({_cause(exc)})") from None


# OpenSSL's reasons for a first answer that is no TLS record at all (plain HTTP, another
# protocol): the endpoint is wrong, not the certificates. An end of file stays a refusal.
NOT_TLS = frozenset(
    {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "PACKET_LENGTH_TOO_LONG",
     "RECORD_LAYER_FAILURE"}
)  # fmt: skip


def _read_body(response: http.client.HTTPResponse, timeout: float) -> bytes:
    """Read what has arrived, chunk by chunk, until the end or the size limit; every
    read ends at the deadline (:class:`_DeadlineSocket`)."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= MAX_RESPONSE and (chunk := response.read1(65536)):
            chunks.append(chunk)
            size += len(chunk)
    except TimeoutError:
        raise DmpTimeout(f"the DMP service answer took over {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DmpUnavailable(f"the DMP service answer was cut ({_cause(exc)})") from None
    if size > MAX_RESPONSE:
        raise DmpProtocolError("the DMP service answered with an oversized response")
    if response.length:  # the server closed before the Content-Length it announced
        raise DmpUnavailable("the DMP service answer was cut (IncompleteRead)")
    return b"".join(chunks)


def _split(url: str) -> tuple[str, int, str]:
    """``https://host[:port]/path?query`` as (host, port, path?query)."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        parts, port = None, 0
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise DmpProtocolError("the DMP service URL is not an https:// URL")
    path = parts.path or "/"
    return parts.hostname, port, f"{path}?{parts.query}" if parts.query else path


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the call's deadline was reached")
    return remaining


def _dropped(conn: _Connection) -> bool:
    """Whether an idle kept-alive connection has something to read: the server closed
    it (close_notify, FIN, RST) or wrote out of turn. Either way it cannot carry the
    next request."""
    sock = conn.sock
    if not isinstance(sock, ssl.SSLSocket) or sock.pending():
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _cause(exc: BaseException) -> str:
    """The innermost cause's class, e.g. ``RemoteDisconnected``: short, and no URL."""
    while exc.__context__ is not None or exc.__cause__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return type(exc).__name__


def _looks_like_tls_refusal(exc: Exception) -> bool:
    """An OS-level error whose text tells a TLS refusal. An HTTP error is never read: its
    text quotes what the service sent (a status line saying "certificate" is no refusal)."""
    if isinstance(exc, http.client.HTTPException):
        return False
    text = str(exc).lower()
    return any(word in text for word in ("alert", "certificate", "handshake", "ssl"))
