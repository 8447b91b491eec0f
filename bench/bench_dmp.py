"""DMP-layer benchmark: VIHF signing, client latency and sandbox throughput, each against a
floor measured in the same run.

Prints one JSON object. Everything runs in this process against 127.0.0.1: a
``SandboxServer`` on port 0 (fresh PKI in a temporary directory) and, as the floor, a
minimal mutual-TLS HTTP server (``http.server`` + ``ssl``, same certificates, same
``TCP_NODELAY`` as the sandbox) answering a fixed body:

- ``vihf_sign_envelope``: ``signer.assertion`` + ``build_envelope`` of a TD0.2 call vs a
  bare RSA-2048 PKCS#1 v1.5 SHA-256 signature (``cryptography``) of the assertion's
  exclusive-C14N bytes, interleaved. The ratio is the XML overhead. Target: median
  ≤ 20 ms.
- ``status_latency``: ``session.status`` through ``HttpsTransport`` to the sandbox vs a
  bare ``http.client`` POST of the same envelope bytes to the echo server (keep-alive on
  both), interleaved. The ratio is what SOAP, VIHF and the sandbox add to TLS + HTTP.
- ``throughput``: 8 client threads, each with its own client, session and TLS
  connection, for a fixed time: TD0.2 status, TD0.0 identity (which also certifies the
  distinct patients used next), TD1.1 create (one new patient per call), and the same
  8-thread load of bare POSTs against the echo server.

Usage: python bench/bench_dmp.py [--sign-n N] [--latency-n N] [--clients N] [--duration S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import socket
import ssl
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from kiosk.dmp import transactions as m
from kiosk.dmp.client import DmpClient, DmpSession
from kiosk.dmp.models import (
    CertifiedIdentity,
    Consent,
    DmpState,
    DmpStatus,
    PatientTraits,
    Practitioner,
)
from kiosk.dmp.soap import CONTENT_TYPE, build_envelope
from kiosk.dmp.transport import HttpsTransport
from kiosk.dmp.vihf import NS_DS, VihfSigner
from kiosk.hardware.nir import with_key
from kiosk.sim.sandbox.pki import PkiPaths, load_key, load_pharmacy
from kiosk.sim.sandbox.server import SandboxServer

PRACTITIONER = Practitioner("810001234567", "21", "A")
MAX_CALLS_PER_CLIENT = 5000  # bound on every timed loop, whatever the duration
NOTE = (
    "machine has 2 cores; the sandbox, the echo server and all client threads run in this "
    "one Python process, so they share those 2 cores and one GIL: throughput figures are "
    "client+server together, and the echo floor runs under the same constraint"
)


def summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"median_ms": math.nan, "p99_ms": math.nan, "n": 0}
    ordered = sorted(samples)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "n": len(ordered),
    }


def ratio(ours: dict[str, float], floor: dict[str, float], key: str = "median_ms") -> float:
    return round(ours[key] / floor[key], 3) if floor[key] else math.nan


def traits(nir: str) -> PatientTraits:
    return PatientTraits(nir, nir, "MARTIN", "Jeanne", "19800512", 1, "0")


def patient_nir(client: int, k: int) -> str:
    """A distinct valid NIR per (client, k): 1 80 05 75 then client and k as 6 digits."""
    return with_key(f"1800575{client}{k:05d}")


# --- the floor server ------------------------------------------------------------------


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EchoServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = self.server.answer
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class EchoServer(ThreadingHTTPServer):
    """Mutual TLS, HTTP/1.1 keep-alive, a fixed answer: TLS + HTTP and nothing else."""

    daemon_threads = True

    def __init__(self, pki: PkiPaths, answer: bytes) -> None:
        self.answer = answer
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
        self.tls.verify_mode = ssl.CERT_REQUIRED
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self.tls.load_cert_chain(str(pki.server), str(pki.server_key))
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        threading.Thread(target=self.serve_forever, name="echo", daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}/echo"

    def finish_request(self, request: Any, client_address: Any) -> None:  # noqa: ANN401
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the sandbox does
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            tls.close()


class BarePoster:
    """The floor client: one kept-alive ``http.client.HTTPSConnection`` with the
    pharmacy certificate and the sandbox CA, posting fixed bytes (no SOAP, no VIHF)."""

    def __init__(self, pki: PkiPaths, url: str, payload: bytes) -> None:
        context = ssl.create_default_context(cafile=str(pki.ca))
        context.load_cert_chain(str(pki.auth), str(pki.auth_key))
        parts = urlsplit(url)
        self.connection = http.client.HTTPSConnection(
            parts.hostname or "127.0.0.1", parts.port, context=context, timeout=10
        )
        self.path, self.payload = parts.path or "/", payload

    def post(self) -> None:
        self.connection.request(
            "POST", self.path, body=self.payload, headers={"Content-Type": CONTENT_TYPE}
        )
        response = self.connection.getresponse()
        assert response.status == 200
        assert response.read()

    def close(self) -> None:
        self.connection.close()


# --- 1. VIHF signing + envelope ----------------------------------------------------------


def bench_sign(signer: VihfSigner, key_path: Path, ins: str, n: int) -> dict[str, Any]:
    key = load_key(key_path)
    sample = signer.assertion(PRACTITIONER, ins)
    signature = sample.find(f"{{{NS_DS}}}Signature")
    assert signature is not None
    sample.remove(signature)
    canonical = etree.tostring(sample, method="c14n", exclusive=True)
    url = "https://127.0.0.1/si-dmp-server/v2/services/" + m.STATUS.service
    ours, floor = [], []
    envelope_bytes = 0
    for _ in range(n):
        t = time.perf_counter()
        vihf = signer.assertion(PRACTITIONER, ins)
        payload, _ = build_envelope(m.STATUS.action, url, m.status_request(ins), security=[vihf])
        ours.append(time.perf_counter() - t)
        envelope_bytes = len(payload)
        t = time.perf_counter()
        key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
        floor.append(time.perf_counter() - t)
    o, f = summary(ours), summary(floor)
    return {
        "ours_assertion_plus_envelope": o,
        "floor_bare_rsa2048_pkcs1v15_sha256": f,
        "canonical_bytes": len(canonical),
        "envelope_bytes": envelope_bytes,
        "ratio_median": ratio(o, f),
        "ratio_p99": ratio(o, f, "p99_ms"),
        "xml_overhead_median_ms": round(o["median_ms"] - f["median_ms"], 3),
        "target_median_ms": 20,
        "meets_target": o["median_ms"] <= 20,
    }


# --- 2. single-client latency ------------------------------------------------------------


def bench_latency(
    session: DmpSession, identity: CertifiedIdentity, bare: BarePoster, n: int
) -> dict[str, Any]:
    for _ in range(10):  # connections open, caches warm, on both sides
        session.status(identity)
        bare.post()
    ours, floor = [], []
    for _ in range(n):
        t = time.perf_counter()
        session.status(identity)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare.post()
        floor.append(time.perf_counter() - t)
    o, f = summary(ours), summary(floor)
    return {
        "ours_td02_status": o,
        "floor_bare_http_client_post_mtls_echo": f,
        "request_bytes": len(bare.payload),
        "ratio_median": ratio(o, f),
        "ratio_p99": ratio(o, f, "p99_ms"),
        "added_median_ms": round(o["median_ms"] - f["median_ms"], 3),
    }


# --- 3. throughput -----------------------------------------------------------------------


def run_load(calls: list[Callable[[], bool]], duration: float) -> dict[str, Any]:
    """Each callable is one client's next request (False: nothing left to send). All
    start together; each stops at the deadline or after MAX_CALLS_PER_CLIENT calls."""
    latencies: list[list[float]] = [[] for _ in calls]
    errors = [0] * len(calls)
    ended = [0.0] * len(calls)
    barrier = threading.Barrier(len(calls) + 1)
    start = [0.0]

    def worker(i: int) -> None:
        barrier.wait()
        deadline = start[0] + duration
        while time.perf_counter() < deadline and len(latencies[i]) < MAX_CALLS_PER_CLIENT:
            t = time.perf_counter()
            try:
                if not calls[i]():
                    break
            except Exception:  # noqa: BLE001 - counted and reported, the load goes on
                errors[i] += 1
                continue
            latencies[i].append(time.perf_counter() - t)
        ended[i] = time.perf_counter()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    start[0] = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join(duration + 30)
    elapsed = max(ended) - start[0]
    cpu = time.process_time() - cpu
    flat = [x for per in latencies for x in per]
    return {
        "clients": len(calls),
        "requests": len(flat),
        "errors": sum(errors),
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(flat) / elapsed, 1) if elapsed > 0 else math.nan,
        "latency": summary(flat),
        "process_cpu_cores_busy": round(cpu / elapsed, 2) if elapsed > 0 else math.nan,
    }


class LoadClient:
    """One kiosk: its own transport (TLS connection), client, session and patients."""

    def __init__(self, index: int, srv: SandboxServer, structure_id: str) -> None:
        pki = srv.pki
        self.index = index
        self.transport = HttpsTransport(pki.ca, pki.auth, pki.auth_key)
        signer = VihfSigner.from_files(pki.sign_key, pki.sign, structure_id)
        self.session = DmpClient(self.transport, srv.url, signer).session(PRACTITIONER)
        self.status_identity = self.session.certified_identity(traits(patient_nir(index, 99999)))
        self.next_patient = 0
        self.to_create: list[CertifiedIdentity] = []

    def status(self) -> bool:
        self.session.status(self.status_identity)
        return True

    def identity(self) -> bool:
        nir = patient_nir(self.index, self.next_patient)
        self.next_patient += 1
        self.to_create.append(self.session.certified_identity(traits(nir)))
        return True

    def create(self) -> bool:
        if not self.to_create:
            return False
        self.session.create(self.to_create.pop(), Consent(True))
        return True


def bench_throughput(
    srv: SandboxServer, echo: EchoServer, payload: bytes, clients: int, duration: float
) -> dict[str, Any]:
    structure_id = load_pharmacy(srv.pki.root).structure_id
    kiosks = [LoadClient(i, srv, structure_id) for i in range(clients)]
    bares = [BarePoster(srv.pki, echo.url, payload) for _ in range(clients)]
    for bare in bares:
        bare.post()
    status = run_load([k.status for k in kiosks], duration)
    identity = run_load([k.identity for k in kiosks], duration)
    certified = sum(len(k.to_create) for k in kiosks)
    create = run_load([k.create for k in kiosks], duration)
    create["patients_certified_beforehand"] = certified
    create["stopped_early_out_of_patients"] = create["seconds"] < duration * 0.95
    created = sum(1 for row in srv.store.list() if row["created_by_rpps"])
    assert created == create["requests"], (created, create["requests"])

    def bare_call(bare: BarePoster) -> Callable[[], bool]:
        def call() -> bool:
            bare.post()
            return True

        return call

    floor = run_load([bare_call(b) for b in bares], duration)
    for kiosk in kiosks:
        kiosk.transport.close()
    for bare in bares:
        bare.close()
    for result in (status, identity, create):
        result["ratio_rps_vs_floor"] = round(result["requests_per_s"] / floor["requests_per_s"], 3)
        result["ratio_median_latency_vs_floor"] = ratio(result["latency"], floor["latency"])
    return {"status": status, "identity": identity, "create": create, "floor_echo": floor}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sign-n", type=int, default=500)
    parser.add_argument("--latency-n", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    duration = min(max(args.duration, 0.5), 15.0)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-dmp-") as tmp:
        srv = SandboxServer(Path(tmp), port=0).start()
        echo: EchoServer | None = None
        try:
            pki = srv.pki
            structure_id = load_pharmacy(pki.root).structure_id
            transport = HttpsTransport(pki.ca, pki.auth, pki.auth_key)
            signer = VihfSigner.from_files(pki.sign_key, pki.sign, structure_id)
            session = DmpClient(transport, srv.url, signer).session(PRACTITIONER)
            identity = session.certified_identity(traits("280057512345674"))
            assert session.status(identity) == DmpStatus(DmpState.NOT_FOUND, False)
            # The floor's request: a real TD0.2 envelope; its answer: a real TD0.2 answer.
            payload, message_id = build_envelope(
                m.STATUS.action,
                f"{srv.url}/{m.STATUS.service}",
                m.status_request(identity.ins),
                security=[signer.assertion(PRACTITIONER, identity.ins)],
            )
            answer, _ = build_envelope(
                m.STATUS.action + "Response",
                "",
                m.status_response(DmpStatus(DmpState.NOT_FOUND, False)),
                relates_to=message_id,
            )
            echo = EchoServer(pki, answer)
            bare = BarePoster(pki, echo.url, payload)
            result: dict[str, Any] = {
                "bench": "dmp",
                "note": NOTE,
                "cpu_count": os.cpu_count(),
                "vihf_sign_envelope": bench_sign(signer, pki.sign_key, identity.ins, args.sign_n),
                "status_latency": bench_latency(session, identity, bare, args.latency_n),
                "throughput": {
                    "duration_s": duration,
                    **bench_throughput(srv, echo, payload, args.clients, duration),
                },
            }
            bare.close()
            transport.close()
        finally:
            for server in (srv, echo):
                if server is not None:
                    server.shutdown()
                    server.server_close()
    result["wall_s"] = round(time.perf_counter() - began, 1)
    result["utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
