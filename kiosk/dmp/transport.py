"""How SOAP envelopes travel: HTTPS with the pharmacy's client certificate and a pinned CA.

A transport only moves bytes and maps network failures to typed errors; it knows
nothing of SOAP or of the journey. Another adapter (a certified connector, a queue)
implements the same :class:`Transport` protocol.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Protocol

import requests
import urllib3
from requests.adapters import HTTPAdapter

from kiosk.dmp.errors import (
    DmpAuthenticationError,
    DmpProtocolError,
    DmpTimeout,
    DmpUnavailable,
)
from kiosk.dmp.soap import CONTENT_TYPE

MAX_RESPONSE = 1_000_000


class Transport(Protocol):
    def post(self, url: str, payload: bytes, timeout: float) -> bytes:
        """POST ``payload``; the response body (a SOAP envelope), or a typed DmpError."""
        ...


class _PinnedAdapter(HTTPAdapter):
    """TLS 1.2+ only, our CA only, our client certificate."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: object
    ) -> None:
        pool_kwargs["ssl_context"] = self._context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


class HttpsTransport:
    def __init__(self, ca: Path, cert: Path, key: Path) -> None:
        context = ssl.create_default_context(cafile=str(ca))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(str(cert), str(key))
        except (OSError, ssl.SSLError) as exc:
            raise DmpAuthenticationError(f"cannot load the pharmacy certificate: {exc}") from None
        self._session = requests.Session()
        # Ignore REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE / proxies from the environment: they
        # would load the system CAs into our pinned context (seen: 1 CA became 145).
        self._session.trust_env = False
        self._session.mount("https://", _PinnedAdapter(context))
        self._session.verify = str(ca)

    def post(self, url: str, payload: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout  # for the whole answer, not each read
        try:
            response = self._session.post(
                url,
                data=payload,
                headers={"Content-Type": CONTENT_TYPE, "Accept-Encoding": "identity"},
                timeout=(min(timeout, 5.0), timeout),
                stream=True,
            )
            body = _read_body(response, deadline, timeout)
        except requests.exceptions.SSLError as exc:
            raise DmpAuthenticationError(
                f"TLS handshake with the DMP service failed: {exc}"
            ) from None
        except requests.exceptions.Timeout:
            raise DmpTimeout(f"no answer from the DMP service within {timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            if _looks_like_tls_refusal(exc):
                raise DmpAuthenticationError(
                    f"the DMP service refused our certificate: {exc}"
                ) from None
            raise DmpUnavailable(f"connection to the DMP service failed ({_cause(exc)})") from None
        except requests.exceptions.RequestException as exc:
            raise DmpUnavailable(f"the DMP service call failed: {exc}") from None
        if len(body) > MAX_RESPONSE:
            raise DmpProtocolError("the DMP service answered with an oversized response")
        soap = response.headers.get("Content-Type", "").startswith("application/soap+xml")
        if soap and response.status_code in (200, 400, 500):
            return bytes(body)  # faults travel as SOAP with 400/500
        if response.status_code >= 500:
            raise DmpUnavailable(f"the DMP service answered HTTP {response.status_code}")
        raise DmpProtocolError(f"unexpected HTTP {response.status_code} from the DMP service")

    def close(self) -> None:
        self._session.close()


def _read_body(response: requests.Response, deadline: float, timeout: float) -> bytes:
    """Read what has arrived, chunk by chunk, until the end, the size limit or the
    deadline: a server trickling its answer byte by byte cannot hold us past it."""
    body = b""
    try:
        while len(body) <= MAX_RESPONSE:
            chunk = response.raw.read1(65536)
            if not chunk:
                return body
            body += chunk
            if time.monotonic() > deadline:
                response.close()
                raise DmpTimeout(f"the DMP service answer took over {timeout:g} s")
    except urllib3.exceptions.ReadTimeoutError:
        raise DmpTimeout(f"no answer from the DMP service within {timeout:g} s") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise DmpUnavailable(f"the DMP service answer was cut ({_cause(exc)})") from None
    return body


def _cause(exc: BaseException) -> str:
    """The innermost cause's class, e.g. ``RemoteDisconnected``: short, and no URL."""
    while exc.__context__ is not None or exc.__cause__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return type(exc).__name__


def _looks_like_tls_refusal(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("alert", "certificate", "handshake", "ssl"))
