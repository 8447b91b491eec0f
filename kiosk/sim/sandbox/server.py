"""The local DMP service: HTTPS with client-certificate check, VIHF check, SQLite state,
and fault injection. A real server on loopback, used by the demo, the tests and training.

Faults (``--fault OP=KIND[@CALLS]``), OP in identity|status|create|reactivate|web_access:
``timeout`` (no answer until the client gives up), ``http500``, ``malformed`` (a 200
that is not XML), ``reset`` (connection dropped, nothing done), ``commit_then_reset``
(the operation is committed, then the connection is dropped: the uncertain outcome),
``commit_then_timeout`` (committed, then no answer until the client gives up: a service
too slow to answer in time), ``soap_fault`` (a SOAP fault ``Receiver:SERVICE_ERROR`` with
HTTP 500, nothing done: the service itself failing), ``soap_fault:CODE`` (the fault with
that code, nothing done: ``soap_fault:DMP_EXISTS`` is ``Sender:DMP_EXISTS`` with HTTP 400,
``soap_fault:Receiver:CODE`` a service-side one with HTTP 500; any code of a code's form,
so the kiosk's table of codes, :data:`kiosk.dmp.service_errors.SERVICE_ERRORS`, can be
walked through the real stack).

Without ``@CALLS`` every call of OP is hit. ``@CALLS`` picks which calls of OP, counted
from 1 over the sandbox's life (each request that passed TLS and the VIHF check): ``@N``
the Nth only, ``@N-`` the Nth and every later one, ``@N-M`` the Nth to the Mth. So
``status=http500@2-`` lets the journey's TD0.2 through and hits the TD0.2 that resolves a
lost TD1.1 answer (and its retry); ``create=commit_then_reset status=timeout@2`` is a
creation whose answer is lost and whose resolution times out. One spec per operation.
``SandboxServer.faults`` maps OP to ``KIND[@CALLS]`` and may be changed while the sandbox
runs (the calls keep being counted).

``hook`` (:data:`Hook`, tests only) is told when a request arrives and when it has
been done, and may hold or drop it there: a crash test's deterministic kill points.

``record`` keeps the last N request envelopes in memory (``SandboxServer.requests``,
off by default): what a test compares with what the kiosk read from the card.

``clock_offset`` (``--clock-offset SECONDS``) shifts the ``Date`` header of every answer,
as a server whose clock is that far ahead of the kiosk's (negative: behind): what
``kiosk doctor`` compares the kiosk's clock with. A GET on a service path is answered
``405`` (``Allow: POST``), as a SOAP-only endpoint does [A]: ``kiosk doctor``'s
authenticated request, which needs no VIHF.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import secrets
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from kiosk.core.flow import is_minor
from kiosk.dmp import transactions as m
from kiosk.dmp.client import SERVICES_PATH
from kiosk.dmp.models import DmpState, DmpStatus, PatientTraits, WebAccess
from kiosk.dmp.rules import check_contact
from kiosk.dmp.service_errors import DmpInputError, fault_code
from kiosk.dmp.soap import CONTENT_TYPE, EnvelopeError, Fault, build_envelope, build_fault
from kiosk.dmp.soap import parse_envelope as parse_soap
from kiosk.dmp.vihf import SECTOR_PHARMACY, ReplayCache, VihfClaims, VihfError, verify_vihf
from kiosk.hardware.nir import is_valid_nir, with_key
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki
from kiosk.sim.sandbox.store import RequestLog, SandboxStore, rpps_of

log = logging.getLogger(__name__)

FAULT_KINDS = (
    "timeout",
    "http500",
    "malformed",
    "reset",
    "commit_then_reset",
    "commit_then_timeout",
    "soap_fault",
)
MAX_REQUEST = 256_000

Hook = Callable[[str, str], bool]
"""``SandboxServer.hook(operation, phase)``, for the crash tests: called on the handler's
thread with phase ``"received"`` (the request passed TLS and the VIHF check, nothing is
done yet) and ``"committed"`` (done, not yet answered); it may block, and returning False
drops the connection unanswered at that point."""


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A fault and the calls of its operation it hits: ``first`` to ``last`` (None: every
    call from ``first`` on), counted from 1."""

    kind: str
    first: int = 1
    last: int | None = None
    code: str | None = None  # soap_fault:CODE: the fault code sent

    @property
    def fault(self) -> Fault:
        """The SOAP fault a ``soap_fault`` sends."""
        if self.code is None:
            return Fault("Receiver:SERVICE_ERROR", "the service could not process the request")
        code = self.code if ":" in self.code else f"Sender:{self.code}"
        return Fault(code, f"injected fault {code}")

    def hits(self, call: int) -> bool:
        return self.first <= call and (self.last is None or call <= self.last)


def _calls(text: str) -> tuple[int, int | None]:
    """``N``, ``N-`` or ``N-M`` (1 <= N <= M) as (first, last); ValueError otherwise."""
    first, dash, last = text.partition("-")
    numbers = [first, last] if last else [first]
    if not all(n.isascii() and n.isdigit() for n in numbers):
        raise ValueError(text)
    start = int(first)
    end = int(last) if last else None if dash else start
    if start < 1 or (end is not None and end < start):
        raise ValueError(text)
    return start, end


def parse_fault(value: str) -> FaultSpec:
    """``KIND``, ``KIND@N``, ``KIND@N-`` or ``KIND@N-M``; KIND may be ``soap_fault:CODE``."""
    head, at, calls = value.partition("@")
    kind, colon, code = head.partition(":")
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"fault {value!r}: KIND in {'|'.join(FAULT_KINDS)}")
    if colon and (kind != "soap_fault" or fault_code(code) != code):
        raise FaultSpecError(f"fault {value!r}: only soap_fault takes a :CODE, of a code's form")
    if not at:
        return FaultSpec(kind, code=code or None)
    try:
        first, last = _calls(calls)
    except ValueError:
        raise FaultSpecError(f"fault {value!r}: @N, @N- or @N-M with 1 <= N <= M") from None
    return FaultSpec(kind, first, last, code or None)


def parse_faults(specs: list[str]) -> dict[str, str]:
    """``OP=KIND[@CALLS]`` specs, checked, as the ``faults`` of :class:`SandboxServer`."""
    faults: dict[str, str] = {}
    for spec in specs:
        op, sep, value = spec.partition("=")
        try:
            parse_fault(value if sep and op in m.OPERATIONS else "")  # "": refused too
        except FaultSpecError:
            raise FaultSpecError(
                f"--fault {spec!r}: expected OP=KIND[@N|@N-|@N-M] with OP in"
                f" {'|'.join(m.OPERATIONS)}, KIND in {'|'.join(FAULT_KINDS)} (or"
                " soap_fault:CODE) and"
                " 1 <= N <= M (the calls of OP it hits: the Nth, from the Nth on, the Nth to"
                " the Mth)"
            ) from None
        if op in faults:
            raise FaultSpecError(f"--fault {spec!r}: one fault per operation ({op} given twice)")
        faults[op] = value
    return faults


class Refused(Exception):
    """Answer with a SOAP fault."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.fault = Fault(code, reason)


def derived_ins(traits: PatientTraits) -> str:
    """[A] The sandbox's INS for a beneficiary: its own NIR, else a stable number derived
    from the holder's NIR and the beneficiary's traits (a temporary-number range, 7…)."""
    if traits.beneficiary_nir and is_valid_nir(traits.beneficiary_nir):
        return traits.beneficiary_nir
    seed = "|".join(
        (traits.holder_nir, traits.birth_date, str(traits.birth_rank), traits.first_name)
    )
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:12]
    return with_key("7" + digits)


def _minor(birth_date: str) -> bool:
    """As the kiosk counts it (a doubtful date is a minor's), on the sandbox's own clock."""
    return is_minor(birth_date, dt.date.today())


class SandboxService:
    """What the service does with a verified request. No HTTP here."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def handle(self, t: m.Transaction, body: etree._Element, claims: VihfClaims) -> etree._Element:
        handlers: dict[str, Callable[[etree._Element, VihfClaims], etree._Element]] = {
            "identity": self.identity,
            "status": self.status,
            "create": self.create,
            "reactivate": self.reactivate,
            "web_access": self.web_access,
        }
        try:
            return handlers[t.operation](body, claims)
        except m.MessageError as exc:
            raise Refused("Sender:BAD_REQUEST", str(exc)) from None

    def _resource(self, ins: str, claims: VihfClaims) -> str:
        if claims.ins != ins:
            raise Refused("Sender:RESOURCE_MISMATCH", "the VIHF resource-id is not this INS")
        return ins

    def identity(self, body: etree._Element, _claims: VihfClaims) -> etree._Element:
        traits = m.read_identity_request(body)
        if not is_valid_nir(traits.holder_nir):
            raise Refused("Sender:IDENTITY_NOT_FOUND", "no insured person matches these traits")
        return m.identity_response(derived_ins(traits), traits)

    def status(self, body: etree._Element, claims: VihfClaims) -> etree._Element:
        ins = self._resource(m.read_ins_request(body, m.STATUS.request), claims)
        state, structure = self.store.status(ins)
        code = {"active": DmpState.EXISTS, "closed": DmpState.CLOSED, None: DmpState.NOT_FOUND}
        return m.status_response(DmpStatus(code[state], structure == claims.structure_id))

    def create(self, body: etree._Element, claims: VihfClaims) -> etree._Element:
        call = m.read_create_request(body)
        ins = self._resource(call.ins, claims)
        if not call.consent.consent:
            raise Refused("Sender:CONSENT_REQUIRED", "a DMP is opened only with consent")
        if call.birth_date is not None and _minor(call.birth_date):
            guardian = call.guardian
            if guardian is None or not guardian.birth_date or _minor(guardian.birth_date):
                raise Refused(
                    "Sender:REPRESENTATIVE_REQUIRED",
                    "a minor's DMP is opened by an adult legal representative",
                )
        state, _ = self.store.status(ins)
        if state == "closed":
            raise Refused("Sender:DMP_CLOSED", "this DMP is closed: reactivate it (TD1.2)")
        created_at = self.store.create(
            ins, rpps_of(claims.practitioner_id), claims.structure_id, call.consent, call.guardian
        )
        if created_at is None:
            raise Refused("Sender:DMP_EXISTS", "a DMP already exists for this patient")
        return m.created_response(m.CREATE, created_at)

    def reactivate(self, body: etree._Element, claims: VihfClaims) -> etree._Element:
        call = m.read_reactivate_request(body)
        ins = self._resource(call.ins, claims)
        if not call.consent.consent:
            raise Refused("Sender:CONSENT_REQUIRED", "a DMP is reactivated only with consent")
        reactivated_at = self.store.reactivate(
            ins, rpps_of(claims.practitioner_id), claims.structure_id, call.consent, call.guardian
        )
        if reactivated_at is None:
            raise Refused("Sender:DMP_NOT_CLOSED", "there is no closed DMP for this patient")
        return m.created_response(m.REACTIVATE, reactivated_at)

    def web_access(self, body: etree._Element, claims: VihfClaims) -> etree._Element:
        ins, contact = m.read_web_access_request(body)
        self._resource(ins, claims)
        try:
            check_contact(contact)
        except DmpInputError as exc:
            raise Refused("Sender:BAD_CONTACT", str(exc)) from None
        if not self.store.set_web_access(ins):
            raise Refused("Sender:DMP_NOT_FOUND", "web access needs an active DMP")
        identifier = f"P{secrets.randbelow(10**9):09d}"
        password = secrets.token_urlsafe(9)
        return m.web_access_response(WebAccess(identifier, password))


def _transaction(action: str, service: str) -> m.Transaction:
    transaction = m.TRANSACTIONS.get(action)
    if transaction is None or transaction.service != service:
        raise Refused("Sender:ACTION_UNKNOWN", "unknown action for this service")
    return transaction


def _structure_of(cert_der: bytes | None) -> str | None:
    if not cert_der:
        return None
    cert = x509.load_der_x509_certificate(cert_der)
    units = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return str(units[0].value) if units else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("sandbox %s", format % args)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, shifted by the server's ``clock_offset``."""
        moment = time.time() if timestamp is None else timestamp
        return super().date_time_string(moment + self.server.clock_offset)

    def do_GET(self) -> None:
        """No SOAP without a POST: 405 on the service paths (what a client that has no
        VIHF, such as ``kiosk doctor``, gets once its certificate was accepted)."""
        if self.path.split("?")[0].startswith(SERVICES_PATH):
            self.send_response(405)
            self.send_header("Allow", "POST")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, content_type: str = CONTENT_TYPE) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST, no HTTP answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.server.drop(self.connection)

    def do_POST(self) -> None:
        service = self.path.removeprefix(SERVICES_PATH + "/")
        if not self.path.startswith(SERVICES_PATH + "/") or service not in (
            m.SERVICE_PATIENTS,
            m.SERVICE_CERTIF,
        ):
            self._send(404, b"not found", "text/plain")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_REQUEST:
            self._send(413, b"request too large", "text/plain")
            return
        payload = self.rfile.read(length)
        relates_to = None
        try:
            envelope = parse_soap(payload)
            relates_to = envelope.message_id
            transaction = _transaction(envelope.action, service)
            self.server.requests.add(transaction.operation, payload)
            claims = self._authenticate(envelope.security)
            self._serve(transaction, envelope.body, claims, relates_to)
        except EnvelopeError as exc:
            self._send(400, build_fault(Fault("Sender:BAD_ENVELOPE", str(exc))))
        except Refused as exc:
            log.info("sandbox refused a request: %s", exc.fault.code)
            self._send(400, build_fault(exc.fault, relates_to))

    def _authenticate(self, security: etree._Element | None) -> VihfClaims:
        assertion = None
        if security is not None:
            assertion = security.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
        try:
            claims = verify_vihf(assertion, self.server.pki.ca, self.server.replay)
        except VihfError as exc:  # a pharmacist's VIHF without the CNOP section too
            raise Refused("Sender:VIHF_INVALID", str(exc)) from None
        self.server.received_vihf(claims.assertion_id)
        peer = self.connection.getpeercert(binary_form=True)
        if _structure_of(peer) != claims.structure_id:
            raise Refused("Sender:STRUCTURE_MISMATCH", "VIHF structure differs from the TLS client")
        if claims.sector != SECTOR_PHARMACY or claims.auth_mode != "INDIRECTE":
            raise Refused("Sender:VIHF_INVALID", "VIHF sector or authentication mode not allowed")
        return claims

    def _serve(
        self, t: m.Transaction, body: etree._Element, claims: VihfClaims, relates_to: str
    ) -> None:
        spec = self.server.fault_spec_for(t.operation)
        fault = spec.kind if spec else None
        if fault == "timeout":
            self.server.stopping.wait(self.server.fault_delay)
            self._reset()
            return
        if fault == "http500":
            self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
            return
        if fault == "reset":
            self._reset()
            return
        if fault == "malformed":
            self._send(200, b"<soap:Envelope><broken")
            return
        if spec is not None and spec.kind == "soap_fault":
            injected = spec.fault
            status = 400 if injected.code.startswith("Sender:") else 500
            self._send(status, build_fault(injected, relates_to))
            return
        hook = self.server.hook
        if hook is not None and not hook(t.operation, "received"):
            self._reset()  # dropped unanswered, nothing done
            return
        answer = self.server.service.handle(t, body, claims)
        if hook is not None and not hook(t.operation, "committed"):
            self._reset()  # done, then dropped unanswered
            return
        if fault == "commit_then_timeout":
            self.server.stopping.wait(self.server.fault_delay)
        if fault in ("commit_then_reset", "commit_then_timeout"):
            self._reset()
            return
        data, _ = build_envelope(t.action + "Response", "", answer, relates_to=relates_to)
        self._send(200, data)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 8443,
        faults: dict[str, str] | None = None,
        fault_delay: float = 30.0,
        clock_offset: float = 0.0,
        record: int = 0,
    ) -> None:
        self.pki: PkiPaths = ensure_pki(data_dir)
        self.clock_offset = clock_offset  # seconds added to the Date header
        self.store = SandboxStore(data_dir / "sandbox.db")
        self.service = SandboxService(self.store)
        self.replay = ReplayCache()
        self._assertions: list[str] = []  # the IDs of the VIHFs verified, in order
        self.faults = faults or {}  # OP -> KIND[@CALLS]
        for value in self.faults.values():
            parse_fault(value)
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        self.fault_delay = fault_delay
        self.requests = RequestLog(record)  # the last ``record`` envelopes received
        self.hook: Hook | None = None
        self.stopping = threading.Event()
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.pki.ca))
        self.tls.verify_mode = ssl.CERT_REQUIRED
        self.tls.minimum_version = ssl.TLSVersion.TLSv1_2
        self.tls.load_cert_chain(str(self.pki.server), str(self.pki.server_key))
        super().__init__((host, port), _Handler)

    def received_vihf(self, assertion_id: str) -> None:
        with self._calls_lock:
            self._assertions.append(assertion_id)

    @property
    def assertion_ids(self) -> list[str]:
        """The IDs of the VIHFs whose signature and validity the sandbox accepted."""
        with self._calls_lock:
            return list(self._assertions)

    def calls(self, operation: str) -> int:
        """How many requests for ``operation`` reached the fault injection so far."""
        with self._calls_lock:
            return self._calls[operation]

    def fault_for(self, operation: str) -> str | None:
        """Count this call of ``operation``; the fault kind that hits it, if any."""
        spec = self.fault_spec_for(operation)
        return spec.kind if spec else None

    def fault_spec_for(self, operation: str) -> FaultSpec | None:
        """Count this call of ``operation``; the fault that hits it, if any."""
        with self._calls_lock:
            self._calls[operation] += 1
            call = self._calls[operation]
        value = self.faults.get(operation)
        if value is None:
            return None
        spec = parse_fault(value)
        return spec if spec.hits(call) else None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"https://{host}:{port}{SERVICES_PATH}"

    def finish_request(self, request: Any, client_address: Any) -> None:  # noqa: ANN401
        """TLS handshake on the worker thread, so a slow client never blocks accept()."""
        # Headers and body leave in two writes: without NODELAY, Nagle waits for the
        # client's delayed ACK and every call costs 40 ms.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("sandbox refused a TLS client: %s", getattr(exc, "reason", exc))
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)  # type: ignore[arg-type]
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            log.debug("sandbox connection ended: %s", exc)
        finally:
            self.drop(tls)

    def drop(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.close()

    def shutdown(self) -> None:
        self.stopping.set()
        super().shutdown()

    def server_close(self) -> None:
        super().server_close()
        self.store.close()

    def start(self) -> SandboxServer:
        threading.Thread(target=self.serve_forever, name="dmp-sandbox", daemon=True).start()
        return self
