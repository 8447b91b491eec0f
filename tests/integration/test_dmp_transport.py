"""HttpsTransport against a scripted mutual-TLS HTTP/1.1 server on 127.0.0.1: connections
are kept alive and shared safely between threads; an idle connection the server closed
is replaced before anything is sent on it, but a request that may have reached the
server is never sent again; proxies, CA bundles and key logs named in the environment
are ignored; the server's host name is checked; a truncated answer is an error, not a
short body."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kiosk.dmp.service_errors import DmpAuthenticationError, DmpUnavailable
from kiosk.dmp.soap import CONTENT_TYPE
from kiosk.dmp.transport import HttpsTransport
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki
from tests.integration.dmp_fixtures import dmp_pki_fixture  # noqa: F401 (fixture)

# What the server does with each request, in order (then "answer"):
# answer: 200 with the request body echoed, connection kept alive;
# answer_then_close: the same, then the server closes the connection while it is idle;
# drop: the request is read, then the connection is closed without an answer;
# truncate: a Content-Length of 100, 10 bytes, then the connection is closed.
PLANS = ("answer", "answer_then_close", "drop", "truncate")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        plan = self.server.received(self.connection, body)
        if plan == "drop":
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", "100" if plan == "truncate" else str(len(body)))
        self.end_headers()
        self.wfile.write(body[:10] if plan == "truncate" else body)
        self.close_connection = plan != "answer"


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pki: PkiPaths, plans: list[str]) -> None:
        self.plans = plans
        self.requests: list[tuple[int, bytes]] = []  # (connection number, body)
        self.connections = 0
        self.closed = threading.Semaphore(0)  # released when a connection is closed
        self._lock = threading.Lock()
        self._ids: dict[int, int] = {}
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
        self.tls.verify_mode = ssl.CERT_REQUIRED
        self.tls.load_cert_chain(str(pki.server), str(pki.server_key))
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01}).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}/si-dmp-server/v2/services/x"

    def received(self, connection: socket.socket, body: bytes) -> str:
        with self._lock:
            self.requests.append((self._ids[id(connection)], body))
            return self.plans.pop(0) if self.plans else "answer"

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._lock:
            self.connections += 1
            self._ids[id(tls)] = self.connections
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        except OSError:
            pass
        finally:
            tls.close()
            self.closed.release()


@pytest.fixture
def server(dmp_pki: PkiPaths) -> Iterator[ScriptedServer]:
    scripted = ScriptedServer(dmp_pki, [])
    try:
        yield scripted
    finally:
        scripted.shutdown()
        scripted.server_close()


@pytest.fixture
def transport(dmp_pki: PkiPaths) -> Iterator[HttpsTransport]:
    made = HttpsTransport(dmp_pki.ca, dmp_pki.auth, dmp_pki.auth_key)
    try:
        yield made
    finally:
        made.close()


def test_calls_reuse_one_kept_alive_connection(
    server: ScriptedServer, transport: HttpsTransport
) -> None:
    for n in range(3):
        assert transport.post(server.url, b"<call n='%d'/>" % n, 5.0) == b"<call n='%d'/>" % n
    assert [connection for connection, _ in server.requests] == [1, 1, 1]


def test_an_idle_connection_the_server_closed_is_replaced_before_sending(
    server: ScriptedServer, transport: HttpsTransport
) -> None:
    server.plans[:] = ["answer_then_close"]
    assert transport.post(server.url, b"<first/>", 5.0) == b"<first/>"
    assert server.closed.acquire(timeout=5)  # the server has closed the kept-alive connection

    assert transport.post(server.url, b"<second/>", 5.0) == b"<second/>"
    # sent once, on a new connection: the closed one was not written to
    assert server.requests == [(1, b"<first/>"), (2, b"<second/>")]


@pytest.mark.parametrize("plan", ["drop", "truncate"])
def test_a_request_that_may_have_reached_the_server_is_not_sent_again(
    server: ScriptedServer, transport: HttpsTransport, plan: str
) -> None:
    """On a kept-alive connection the server reads a creation and closes without (a
    whole) answer: the transport reports it, and does not resend it on a new connection."""
    server.plans[:] = ["answer", plan]
    assert transport.post(server.url, b"<status/>", 5.0) == b"<status/>"

    with pytest.raises(DmpUnavailable, match="RemoteDisconnected" if plan == "drop" else "cut"):
        transport.post(server.url, b"<create/>", 5.0)
    assert server.requests == [(1, b"<status/>"), (1, b"<create/>")]
    assert transport.post(server.url, b"<status/>", 5.0) == b"<status/>"  # a new connection
    assert server.connections == 2


def test_one_transport_is_safe_to_share_between_threads(
    server: ScriptedServer, transport: HttpsTransport
) -> None:
    answers: dict[int, list[bytes]] = {}
    failures: list[BaseException] = []

    def client(k: int) -> None:
        try:
            answers[k] = [
                transport.post(server.url, b"<c%d n='%d'/>" % (k, n), 5.0) for n in range(25)
            ]
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    for k in range(8):
        assert answers[k] == [b"<c%d n='%d'/>" % (k, n) for n in range(25)]
    assert len(server.requests) == 200
    assert server.connections <= 8  # connections are reused, one at a time each


def test_proxies_ca_bundles_and_key_logs_in_the_environment_are_ignored(
    server: ScriptedServer, dmp_pki: PkiPaths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The call goes straight to the server through a proxy named in every variable, and
    no TLS secrets are written where SSLKEYLOGFILE points."""
    proxy = socket.create_server(("127.0.0.1", 0))
    proxy.setblocking(False)
    try:
        address = f"http://127.0.0.1:{proxy.getsockname()[1]}"
        for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, address)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nothing.pem"))
        transport = HttpsTransport(dmp_pki.ca, dmp_pki.auth, dmp_pki.auth_key)
        try:
            assert transport.post(server.url, b"<direct/>", 5.0) == b"<direct/>"
        finally:
            transport.close()
        with pytest.raises(BlockingIOError):
            proxy.accept()  # nobody came through the proxy
    finally:
        proxy.close()
    assert server.requests == [(1, b"<direct/>")]
    assert not (tmp_path / "keys.log").exists()


def test_a_server_certificate_for_another_host_name_is_refused(tmp_path: Path) -> None:
    """Our CA, a valid certificate, but for dmp.example, not 127.0.0.1: refused."""
    pki = ensure_pki(tmp_path, server_names=("dmp.example",))
    server = ScriptedServer(pki, [])
    transport = HttpsTransport(pki.ca, pki.auth, pki.auth_key)
    try:
        with pytest.raises(DmpAuthenticationError, match="mismatch"):
            transport.post(server.url, b"<x/>", 5.0)
    finally:
        transport.close()
        server.shutdown()
        server.server_close()
    assert server.requests == []
