"""The replay cache forgets expired IDs cheaply; the HTTPS transport trusts only our CA."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from kiosk.dmp.service_errors import DmpAuthenticationError
from kiosk.dmp.transport import HttpsTransport
from kiosk.dmp.vihf import ReplayCache, VihfError
from kiosk.sim.sandbox.pki import ensure_pki
from kiosk.sim.sandbox.server import SandboxServer

T0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_replay_cache_refuses_a_seen_id_until_it_expires() -> None:
    cache = ReplayCache()
    cache.check_and_add("_a", T0 + dt.timedelta(minutes=5), T0)
    with pytest.raises(VihfError, match="replayed"):
        cache.check_and_add("_a", T0 + dt.timedelta(minutes=5), T0 + dt.timedelta(minutes=1))
    cache.check_and_add("_b", T0 + dt.timedelta(minutes=20), T0 + dt.timedelta(minutes=6))
    assert len(cache) == 1  # "_a" expired and was forgotten


def test_replay_cache_stays_fast_when_large() -> None:
    cache = ReplayCache()
    for i in range(50_000):
        cache.check_and_add(f"_{i}", T0 + dt.timedelta(minutes=5, microseconds=i), T0)
    started = time.perf_counter()
    for i in range(1000):
        cache.check_and_add(f"_x{i}", T0 + dt.timedelta(minutes=10), T0)
    assert (time.perf_counter() - started) / 1000 < 0.001  # was a full scan: ~1 ms at 75k


def test_transport_ignores_ca_bundles_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server whose certificate comes from another CA is refused even when the
    environment points requests, curl or OpenSSL at a bundle that trusts it. (The client
    certificate is one that server accepts, so only server verification can make the call
    fail.)"""
    ours = ensure_pki(tmp_path / "ours")
    server = SandboxServer(tmp_path / "theirs", port=0).start()  # another PKI
    try:
        theirs = server.pki
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(theirs.ca))
        monkeypatch.setenv("CURL_CA_BUNDLE", str(theirs.ca))
        monkeypatch.setenv("SSL_CERT_FILE", str(theirs.ca))  # OpenSSL's default store
        transport = HttpsTransport(ours.ca, theirs.auth, theirs.auth_key)  # pinned: our CA
        with pytest.raises(DmpAuthenticationError, match="certificate verify failed"):
            transport.post(server.url + "/patients", b"<x/>", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
