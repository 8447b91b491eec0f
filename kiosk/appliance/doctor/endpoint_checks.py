"""``dmp_endpoint`` (and ``clock``, from its answer): is the DMP service reachable with
our certificate, and how fast.

Four steps, each timed and each named when it fails: DNS (``getaddrinfo``), TCP connect,
TLS handshake with the pharmacy's client certificate (the server checked against
``[dmp] ca`` only, with the transport's own context builder), then one authenticated
request: ``GET`` on the endpoint's path over that connection. It carries no patient data
and no VIHF (a VIHF needs the CPS PIN). Under TLS 1.3 a server tells that it refused our
certificate only after the handshake, so an HTTP answer is the proof that it was
accepted: any status but 401, 403, 495, 496 (refused) or a 5xx other than 501 (service
trouble, a ``warn``). A SOAP endpoint answers a GET ``405``; the sandbox does too. The
answer's ``Date`` header gives the server's time for the ``clock`` check.

DNS may answer several addresses (IPv6 first, on a Pi that has no IPv6 route): each is
tried in turn, as the kiosk's transport does (``socket.create_connection``), and the
check says which one answered and which did not. Everything fits in the probe's
``DEADLINE``: the wait for the certificate checks (``CERT_WAIT`` at most), the network
steps (``BUDGET`` at most, less when the wait took longer), then the NTP state read
meanwhile; so a failing network is reported as what failed, never as a probe that did
not finish.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.appliance.doctor.certificate_checks import DEADLINE as CERTIFICATES_DEADLINE
from kiosk.appliance.doctor.clock_checks import Ntp, clock_check, ntp_state
from kiosk.appliance.doctor.report import Check, Name, Run, Status, fail, ok, skipped, warn
from kiosk.dmp.service_errors import DmpAuthenticationError
from kiosk.dmp.transport import pinned_context

NAMES = (Name.DMP_ENDPOINT, Name.CLOCK)
DEADLINE = 6.0  # seconds: the probe's, as the doctor's runner enforces it
MARGIN = 0.5  # of DEADLINE, kept for the thread's start and the checks' sentences
CERT_WAIT = CERTIFICATES_DEADLINE  # at most, for certificate_ca and certificate_tls
BUDGET = 4.0  # at most, for the four steps together (and at most [dmp] deadline)
REFUSED = (401, 403, 495, 496)
NETWORK_FIX = (
    "check the network cable or Wi-Fi, the router and that outbound HTTPS (TCP 443) to the"
    " DMP is allowed"
)


def network_fix(host: str, url: str) -> str:
    return f"{NETWORK_FIX}; `getent hosts {host}` and `curl -v {url}` show where it stops"


CERT_FIX = (
    "auth_cert must be the pharmacy's valid ORG AUTH_CLI certificate from IGC-Santé"
    " (see certificate_tls); `kiosk provision` installs it"
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    server_time: float | None  # epoch seconds from Date
    local_time: float  # epoch seconds in the middle of the request
    timings: dict[str, float]  # step -> ms
    address: str = ""  # the address that answered
    refused: tuple[str, ...] = ()  # the addresses tried before it, each with its error


class StepFailed(Exception):
    def __init__(self, status: Status, why: str, fix: str) -> None:
        super().__init__(why)
        self.status, self.why, self.fix = status, why, fix


def probe(run: Run) -> list[Check]:
    end = time.monotonic() + DEADLINE - MARGIN
    ntp = _Background(ntp_state)  # read meanwhile: timedatectl may be slow
    if run.config is None:
        return [
            skipped(Name.DMP_ENDPOINT, Name.CONFIG, "no usable config"),
            clock_check(None, "no usable config", ntp.get(end)),
        ]
    dmp = run.config.dmp
    unset = [key for key in ("endpoint", "ca", "auth_cert", "auth_key") if not getattr(dmp, key)]
    if unset:
        what = f"[dmp] {', '.join(unset)} not set"
        return [
            skipped(Name.DMP_ENDPOINT, Name.CONFIG, what),
            clock_check(None, what, ntp.get(end)),
        ]
    unreached = "the DMP server was not reached, see dmp_endpoint"
    waited = min(end, time.monotonic() + CERT_WAIT)
    for needed in (Name.CERTIFICATE_CA, Name.CERTIFICATE_TLS):
        check = run.wait(needed, max(0.0, waited - time.monotonic()))
        if check is None or check.status is Status.FAIL:
            what = "the TLS client certificate or the CA cannot be used"
            if check is None:
                what = f"{needed} was not made within {CERT_WAIT:g} s"
            return [
                skipped(Name.DMP_ENDPOINT, needed, what),
                clock_check(None, unreached, ntp.get(end)),
            ]
    budget = min(BUDGET, dmp.deadline, end - time.monotonic())
    try:
        answer = reach(dmp.endpoint, Path(dmp.ca), Path(dmp.auth_cert), Path(dmp.auth_key), budget)
    except StepFailed as exc:
        endpoint = Check(Name.DMP_ENDPOINT, exc.status, exc.why, exc.fix)
        return [endpoint, clock_check(None, unreached, ntp.get(end))]
    return [endpoint_check(dmp.endpoint, answer), _clock(answer, ntp.get(end))]


class _Background:
    """``read()`` on a daemon thread; :meth:`get` its answer, or an unknown NTP state
    when it has not come by ``end`` (monotonic)."""

    def __init__(self, read: Callable[[], Ntp]) -> None:
        self._answer: Ntp | None = None
        self._read = read
        self._thread = threading.Thread(target=self._run, name="doctor-ntp", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._answer = self._read()

    def get(self, end: float) -> Ntp:
        self._thread.join(max(0.0, end - time.monotonic()))
        if self._answer is None:
            return Ntp(None, "NTP state unknown (timedatectl did not answer in time)")
        return self._answer


def _clock(answer: Answer, ntp: Ntp) -> Check:
    if answer.server_time is None:
        return clock_check(None, "its answer had no Date header", ntp)
    # Date is truncated to its second: the server's time lies within [Date, Date + 1 s)
    return clock_check(answer.server_time + 0.5 - answer.local_time, "", ntp)


def endpoint_check(url: str, answer: Answer) -> Check:
    t = answer.timings
    steps = ", ".join(f"{step} {ms:.0f} ms" for step, ms in t.items())
    total = sum(t.values())
    where = urlsplit(url).netloc
    if answer.status in REFUSED:
        return fail(
            Name.DMP_ENDPOINT,
            f"{where}: GET answered HTTP {answer.status}: our certificate is refused",
            CERT_FIX,
        )
    via = f" at {answer.address}" if answer.address else ""
    if answer.refused:
        via += f" (tried first, no connection: {'; '.join(answer.refused)})"
    facts = f"{where}{via}: {steps}; {total:.0f} ms in all"
    if answer.status >= 500 and answer.status != 501:
        return warn(
            Name.DMP_ENDPOINT,
            f"{facts}; GET answered HTTP {answer.status}",
            "the DMP service is in trouble: try later; nothing to fix on the kiosk",
        )
    return ok(
        Name.DMP_ENDPOINT,
        f"{facts}; GET answered HTTP {answer.status}: our certificate is accepted",
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def reach(url: str, ca: Path, cert: Path, key: Path, budget: float) -> Answer:
    """DNS, TCP, TLS with our certificate, one GET; raises :class:`StepFailed`."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    deadline = time.monotonic() + budget
    timings: dict[str, float] = {}
    started = time.perf_counter()
    addresses = _resolve(host, port, url, deadline)
    timings["DNS"] = _ms(started)
    context = _context(ca, cert, key)
    started = time.perf_counter()
    raw, address, refused = _connect(addresses, host, port, url, deadline)
    try:
        timings["TCP"] = _ms(started)
        started = time.perf_counter()
        tls = _handshake(context, raw, host, deadline)
        timings["TLS"] = _ms(started)
        started = time.perf_counter()
        status, date = _get(tls, host, port, parts.path or "/", deadline)
        timings["GET"] = _ms(started)
        local = time.time() - timings["GET"] / 2000
    finally:
        raw.close()
    server = None
    if date:
        with contextlib.suppress(TypeError, ValueError):
            server = parsedate_to_datetime(date).timestamp()
    return Answer(status, server, local, timings, address, refused)


_Address = tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]
_AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, _Address]


def _resolve(host: str, port: int, url: str, deadline: float) -> list[_AddrInfo]:
    """``getaddrinfo`` on a daemon thread: a resolver that does not answer costs the
    budget, not the resolver's own timeouts (5 s per server and try)."""
    found: list[list[_AddrInfo] | BaseException] = []

    def lookup() -> None:
        try:
            resolved: list[_AddrInfo] = list(
                socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            )
            found.append(resolved)
        except (OSError, UnicodeError) as exc:
            found.append(exc)

    thread = threading.Thread(target=lookup, name="doctor-dns", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if not found:
        raise StepFailed(
            Status.FAIL,
            f"DNS: no answer for {host} within the doctor's budget",
            network_fix(host, url) + "; check the DNS servers (`resolvectl status`)",
        )
    answer = found[0]
    if isinstance(answer, BaseException):
        raise StepFailed(
            Status.FAIL, f"DNS: cannot resolve {host} ({answer})", network_fix(host, url)
        )
    if not answer:
        raise StepFailed(Status.FAIL, f"DNS: no address for {host}", network_fix(host, url))
    return answer


def _shown(address: _Address) -> str:
    host = str(address[0])
    return f"[{host}]" if ":" in host else host


def _connect(
    addresses: list[_AddrInfo], host: str, port: int, url: str, deadline: float
) -> tuple[socket.socket, str, tuple[str, ...]]:
    """A TCP connection to the first of ``addresses`` that accepts, in DNS's order (as
    ``socket.create_connection``); each gets an equal share of the budget left, so one
    that drops packets leaves time for the next. (socket, address, the ones that did not)."""
    refused: list[str] = []
    for index, (family, kind, proto, _, address) in enumerate(addresses):
        left = deadline - time.monotonic()
        if left <= 0:
            refused.append("no budget left for the rest")
            break
        shown = _shown(address)
        try:
            raw = socket.socket(family, kind, proto)
        except OSError as exc:
            refused.append(f"{shown}: {exc.strerror or exc}")
            continue
        try:
            raw.settimeout(left / (len(addresses) - index))
            raw.connect(address)
        except OSError as exc:
            raw.close()
            refused.append(f"{shown}: {exc.strerror or exc}")
            continue
        return raw, shown, tuple(refused)
    raise StepFailed(
        Status.FAIL,
        f"TCP: cannot connect to {host}:{port} ({'; '.join(refused)})",
        network_fix(host, url),
    )


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise StepFailed(Status.FAIL, "no answer within the doctor's budget", NETWORK_FIX)
    return left


def _context(ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    try:
        context = pinned_context(ca)
        context.load_cert_chain(str(cert), str(key))
    except DmpAuthenticationError as exc:
        raise StepFailed(Status.FAIL, str(exc), "see certificate_ca") from None
    except (OSError, ssl.SSLError) as exc:
        raise StepFailed(
            Status.FAIL, f"cannot load the TLS client certificate ({exc})", CERT_FIX
        ) from None
    return context


def _handshake(
    context: ssl.SSLContext, raw: socket.socket, host: str, deadline: float
) -> ssl.SSLSocket:
    try:
        raw.settimeout(_left(deadline))
        return context.wrap_socket(raw, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        raise StepFailed(
            Status.FAIL,
            f"TLS: the server's certificate is not trusted ({exc.verify_message})",
            "[dmp] ca must be the CA of the DMP service's certificate, and [dmp] endpoint its"
            " exact host name",
        ) from None
    except ssl.SSLError as exc:
        raise StepFailed(
            Status.FAIL, f"TLS: handshake refused ({exc.reason or exc})", CERT_FIX
        ) from None
    except TimeoutError:
        raise StepFailed(Status.FAIL, "TLS: no handshake within the budget", NETWORK_FIX) from None
    except OSError as exc:
        raise StepFailed(
            Status.FAIL, f"TLS: connection dropped during the handshake ({exc})", CERT_FIX
        ) from None


def _get(
    tls: ssl.SSLSocket, host: str, port: int, path: str, deadline: float
) -> tuple[int, str | None]:
    """One GET on the TLS connection: (status, Date header)."""
    conn = http.client.HTTPConnection(host, port)
    conn.sock = tls
    try:
        tls.settimeout(_left(deadline))
        conn.request(
            "GET", path, headers={"User-Agent": "borne-dmp doctor", "Accept-Encoding": "identity"}
        )
        response = conn.getresponse()
        response.read(65536)
    except TimeoutError:
        raise StepFailed(
            Status.FAIL, "GET: no HTTP answer after the TLS handshake", NETWORK_FIX
        ) from None
    except ssl.SSLError as exc:  # TLS 1.3: the refusal of our certificate arrives here
        raise StepFailed(
            Status.FAIL,
            f"GET: the DMP service refused our TLS client certificate ({exc.reason or exc})",
            CERT_FIX,
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise StepFailed(
            Status.FAIL,
            f"GET: the DMP service closed the connection without an answer ({exc!r}); our"
            " certificate refused, or a proxy in the way",
            CERT_FIX,
        ) from None
    finally:
        conn.close()
    return response.status, response.getheader("Date")
