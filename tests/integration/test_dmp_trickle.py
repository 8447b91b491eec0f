"""A server that trickles its answer, body or headers, cannot hold the client past its
deadline."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from kiosk.dmp.service_errors import DmpTimeout
from kiosk.dmp.transport import HttpsTransport
from kiosk.sim.sandbox.pki import ensure_pki

# what the server sends at once; then one more byte every 50 ms
START = {
    "body": b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
    b"Content-Length: 100000\r\n\r\n",
    "headers": b"HTTP/1.1 200 OK\r\nX-Slow: ",
}


@pytest.mark.parametrize("part", list(START))
def test_trickled_answer_times_out_at_the_deadline(tmp_path: Path, part: str) -> None:
    pki = ensure_pki(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(pki.server), str(pki.server_key))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        raw, _ = listener.accept()
        with context.wrap_socket(raw, server_side=True) as conn:
            conn.recv(65536)
            conn.sendall(START[part])
            while not stop.is_set():  # one byte every 50 ms: each read is "fast enough"
                conn.sendall(b"a")
                time.sleep(0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    transport = HttpsTransport(pki.ca, pki.auth, pki.auth_key)
    started = time.monotonic()
    try:
        with pytest.raises(DmpTimeout):
            transport.post(f"https://127.0.0.1:{port}/x", b"<x/>", timeout=1.0)
        assert time.monotonic() - started < 2.0
    finally:
        stop.set()
        transport.close()
        thread.join(5)
        listener.close()
