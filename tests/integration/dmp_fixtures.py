"""Shared fixtures for the DMP integration tests: the real client against the real
sandbox over TLS on 127.0.0.1 (port 0), nothing mocked.

A test module imports the fixture functions (``*_fixture``); they are registered under
their short names: ``sandboxes``, ``dmp_clients``, ``dmp_pki``, ``foreign_pki``. The
test PKI costs ~0.5 s: it is made once per module and copied into a fresh data directory
for every sandbox, so each sandbox has its own ``sandbox.db``. Every sandbox started is
shut down at teardown, and every transport closed.
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from kiosk.dmp import transactions as m
from kiosk.dmp.client import DmpClient, DmpSession
from kiosk.dmp.models import Consent, Contact, PatientTraits, Practitioner
from kiosk.dmp.transport import HttpsTransport, Transport
from kiosk.dmp.vihf import VihfClaims, VihfSigner
from kiosk.hardware.nir import with_key
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki, load_pharmacy
from kiosk.sim.sandbox.server import SandboxServer, _Handler

PHARMACIST = Practitioner("810001234567", "21", "A")
PHARMACIST_RPPS = "10001234567"
DEADLINE = 1.0  # the client deadline of these tests, in seconds


def adult(n: int, first_name: str = "Jeanne") -> PatientTraits:
    """A distinct insured adult per ``n`` (0..99999); the sandbox's INS is the NIR."""
    nir = with_key(f"28005751{n:05d}")
    return PatientTraits(nir, nir, "MARTIN", first_name, "19800512", 1, "0")


def child_of(holder: PatientTraits, first_name: str = "Léo") -> PatientTraits:
    """A child on the holder's card, without a NIR of its own."""
    return PatientTraits(holder.holder_nir, None, holder.last_name, first_name, "20150301", 1, "6")


class _CountingHandler(_Handler):
    server: CountingSandbox

    def do_POST(self) -> None:
        self.server.count("POST")
        super().do_POST()

    def _serve(
        self, t: m.Transaction, body: etree._Element, claims: VihfClaims, relates_to: str
    ) -> None:
        self.server.count(t.operation)
        super()._serve(t, body, claims, relates_to)


class CountingSandbox(SandboxServer):
    """The sandbox, counting what reached it: ``received("POST")`` every HTTP POST (even
    refused ones), ``received(op)`` the requests for ``op`` that passed TLS and the VIHF
    check and came to the fault injection / the service."""

    def __init__(self, data_dir: Path, **options: Any) -> None:
        super().__init__(data_dir, port=0, **options)
        self.RequestHandlerClass = _CountingHandler
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    def count(self, what: str) -> None:
        with self._counts_lock:
            self._counts[what] += 1

    def received(self, what: str) -> int:
        with self._counts_lock:
            return self._counts[what]

    def start(self) -> CountingSandbox:
        """As SandboxServer.start, polling for shutdown every 10 ms instead of 0.5 s."""
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    @property
    def structure_id(self) -> str:
        return load_pharmacy(self.pki.root).structure_id


class Sandboxes:
    """Starts sandboxes in fresh data directories holding a copy of one PKI."""

    def __init__(self, template: Path, root: Path) -> None:
        self.template = template
        self.root = root
        self.started: list[CountingSandbox] = []

    def start(
        self,
        faults: dict[str, str] | None = None,
        fault_delay: float = 30.0,
        seed: list[dict[str, Any]] | None = None,
    ) -> CountingSandbox:
        data = self.root / f"sandbox-{len(self.started)}"
        shutil.copytree(self.template, data)
        server = CountingSandbox(data, faults=faults, fault_delay=fault_delay)
        try:
            if seed:
                server.store.seed(seed)
            server.start()
        except BaseException:
            server.server_close()
            raise
        self.started.append(server)
        return server

    def close(self) -> None:
        for server in self.started:
            server.shutdown()  # also releases handlers held by a "timeout" fault
            server.server_close()


class DmpClients:
    """Builds clients for a sandbox: its pharmacy certificates unless told otherwise."""

    def __init__(self) -> None:
        self.transports: list[HttpsTransport] = []

    def transport(
        self, pki: PkiPaths, cert: Path | None = None, key: Path | None = None
    ) -> HttpsTransport:
        transport = HttpsTransport(pki.ca, cert or pki.auth, key or pki.auth_key)
        self.transports.append(transport)
        return transport

    def client(
        self,
        server: CountingSandbox,
        deadline: float = DEADLINE,
        transport: Transport | None = None,
        signer: VihfSigner | None = None,
    ) -> DmpClient:
        pki = server.pki
        return DmpClient(
            transport or self.transport(pki),
            server.url,
            signer or VihfSigner.from_files(pki.sign_key, pki.sign, server.structure_id),
            deadline=deadline,
        )

    def session(
        self,
        server: CountingSandbox,
        deadline: float = DEADLINE,
        transport: Transport | None = None,
        signer: VihfSigner | None = None,
    ) -> DmpSession:
        return self.client(server, deadline, transport, signer).session(PHARMACIST)

    def close(self) -> None:
        for transport in self.transports:
            transport.close()


@pytest.fixture(scope="session", name="dmp_pki")
def dmp_pki_fixture(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    """The sandbox test PKI (CA, server, pharmacy auth and sign certificates), made once."""
    return ensure_pki(tmp_path_factory.mktemp("dmp-pki"))


@pytest.fixture(scope="session", name="foreign_pki")
def foreign_pki_fixture(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    """Another CA's PKI, same pharmacy: certificates the sandbox must not trust."""
    return ensure_pki(tmp_path_factory.mktemp("foreign-pki"))


@pytest.fixture(name="sandboxes")
def sandboxes_fixture(dmp_pki: PkiPaths, tmp_path: Path) -> Iterator[Sandboxes]:
    factory = Sandboxes(dmp_pki.root, tmp_path)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(name="dmp_clients")
def dmp_clients_fixture() -> Iterator[DmpClients]:
    factory = DmpClients()
    try:
        yield factory
    finally:
        factory.close()


def prepare_call(
    operation: str, server: CountingSandbox, session: DmpSession, patient: int
) -> Callable[[], object]:
    """Do what ``operation`` needs first (with the unfaulted operations) for the test
    patient ``adult(patient)``; return the call itself, for a test to fault or time."""
    traits = adult(patient)
    if operation == "identity":
        return lambda: session.certified_identity(traits)
    identity = session.certified_identity(traits)
    if operation == "status":
        return lambda: session.status(identity)
    if operation == "create":
        return lambda: session.create(identity, Consent(True))
    if operation == "reactivate":
        server.store.seed([{"ins": identity.ins, "status": "closed"}])
        return lambda: session.reactivate(identity, Consent(True))
    server.store.seed([{"ins": identity.ins, "status": "active"}])
    return lambda: session.create_web_access(identity, Contact(mobile="0612345678"))
