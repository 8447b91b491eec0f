"""Authentication refusals, client against the sandbox over real TLS: the sandbox
refuses TLS clients without a valid certificate and requests without a valid VIHF, and
the client reports each refusal as a typed error. Plus the third-party check of the
VIHF signature with xmlsec1."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from cryptography.x509.oid import ExtendedKeyUsageOID
from lxml import etree

from kiosk.dmp import transactions as m
from kiosk.dmp.models import Practitioner
from kiosk.dmp.service_errors import DmpAuthenticationError, DmpRejected
from kiosk.dmp.soap import build_envelope, fault_of, parse_envelope
from kiosk.dmp.transport import HttpsTransport, pinned_context
from kiosk.dmp.vihf import NS_DS, NS_SAML, VihfError, VihfSigner, verify_vihf
from kiosk.sim.sandbox.pki import (
    PkiPaths,
    _name,
    issue,
    load_cert,
    load_key,
    load_pharmacy,
    new_key,
    write_key,
    write_pem,
)
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    PHARMACIST,
    DmpClients,
    Sandboxes,
    adult,
    dmp_clients_fixture,
    dmp_pki_fixture,
    foreign_pki_fixture,
    sandboxes_fixture,
)

TRAITS = adult(200)


# --- TLS client certificate -------------------------------------------------------------


class NoCertificateTransport(HttpsTransport):
    """HttpsTransport that presents no client certificate (same TLS policy otherwise)."""

    def __init__(self, ca: Path) -> None:
        self._start(pinned_context(ca))


def expired_client_certificate(pki: PkiPaths, where: Path) -> tuple[Path, Path]:
    """A pharmacy auth certificate from the sandbox CA that expired yesterday."""
    now = dt.datetime.now(dt.UTC)
    key = new_key()
    cert = issue(
        _name("ORG AUTH_CLI expired", load_pharmacy(pki.root)), key,
        load_cert(pki.ca), load_key(pki.ca_key),
        usage=[ExtendedKeyUsageOID.CLIENT_AUTH],
        not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1),
    )  # fmt: skip
    write_pem(where / "expired.pem", cert)
    write_key(where / "expired.key", key)
    return where / "expired.pem", where / "expired.key"


def test_a_client_without_certificate_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start()
    payload, _ = build_envelope(m.IDENTITY.action, server.url, m.identity_request(TRAITS))
    with pytest.raises(requests.exceptions.ConnectionError):  # SSLError is one
        requests.post(
            f"{server.url}/{m.SERVICE_CERTIF}", data=payload, verify=str(server.pki.ca), timeout=5
        )

    transport = NoCertificateTransport(server.pki.ca)
    dmp_clients.transports.append(transport)
    session = dmp_clients.session(server, transport=transport)
    with pytest.raises(DmpAuthenticationError):
        session.certified_identity(TRAITS)
    assert server.received("POST") == 0


@pytest.mark.parametrize("certificate", ["another CA", "expired"])
def test_a_client_certificate_the_sandbox_does_not_trust_is_refused(
    sandboxes: Sandboxes,
    dmp_clients: DmpClients,
    foreign_pki: PkiPaths,
    tmp_path: Path,
    certificate: str,
) -> None:
    server = sandboxes.start()
    if certificate == "another CA":
        cert, key = foreign_pki.auth, foreign_pki.auth_key
    else:
        cert, key = expired_client_certificate(server.pki, tmp_path)
    transport = dmp_clients.transport(server.pki, cert, key)
    session = dmp_clients.session(server, transport=transport)

    # The OpenSSL reason varies with timing (the alert, or an EOF): only the type is stable.
    with pytest.raises(DmpAuthenticationError):
        session.certified_identity(TRAITS)
    assert server.received("POST") == 0


def test_the_client_refuses_a_server_from_another_ca(
    sandboxes: Sandboxes, dmp_clients: DmpClients, foreign_pki: PkiPaths
) -> None:
    """Pinned CA: a service whose certificate is not from our CA is not talked to."""
    server = sandboxes.start()
    transport = HttpsTransport(foreign_pki.ca, server.pki.auth, server.pki.auth_key)
    dmp_clients.transports.append(transport)
    with pytest.raises(DmpAuthenticationError):
        dmp_clients.session(server, transport=transport).certified_identity(TRAITS)
    assert server.received("POST") == 0


# --- VIHF -------------------------------------------------------------------------------


class TamperingSigner(VihfSigner):
    """Signs properly, then edits the signed assertion."""

    def __init__(self, pki: PkiPaths, edit: Callable[[etree._Element], None]) -> None:
        super().__init__(
            pki.sign_key.read_bytes(), pki.sign.read_bytes(), load_pharmacy(pki.root).structure_id
        )
        self.edit = edit

    def assertion(
        self, practitioner: Practitioner, ins: str | None, now: dt.datetime | None = None
    ) -> etree._Element:
        signed = super().assertion(practitioner, ins, now)
        self.edit(signed)
        return signed


class ReplayingSigner(VihfSigner):
    """Signs one assertion and sends it again on every call."""

    first: etree._Element | None = None

    def assertion(
        self, practitioner: Practitioner, ins: str | None, now: dt.datetime | None = None
    ) -> etree._Element:
        if self.first is None:
            self.first = super().assertion(practitioner, ins, now)
        return copy.deepcopy(self.first)


class ClockSigner(VihfSigner):
    """Signs assertions issued at another time."""

    shift = dt.timedelta(0)

    def assertion(
        self, practitioner: Practitioner, ins: str | None, now: dt.datetime | None = None
    ) -> etree._Element:
        return super().assertion(practitioner, ins, dt.datetime.now(dt.UTC) + self.shift)


def _find(assertion: etree._Element, path: str) -> etree._Element:
    found = assertion.find(path, {"saml2": NS_SAML, "ds": NS_DS})
    assert found is not None, path
    return found


def _attribute(name: str) -> str:
    return f"saml2:AttributeStatement/saml2:Attribute[@Name='{name}']/saml2:AttributeValue"


def _set_text(path: str, text: str) -> Callable[[etree._Element], None]:
    def edit(assertion: etree._Element) -> None:
        _find(assertion, path).text = text

    return edit


def _extend_validity(assertion: etree._Element) -> None:
    _find(assertion, "saml2:Conditions").set("NotOnOrAfter", "2099-01-01T00:00:00Z")


def _strip_signature(assertion: etree._Element) -> None:
    assertion.remove(_find(assertion, "ds:Signature"))


TAMPERING = {
    "NameID": _set_text("saml2:Subject/saml2:NameID", "899999999999"),
    "Identifiant_Structure": _set_text(_attribute("Identifiant_Structure"), "3999999999"),
    "Authentification_Mode": _set_text(_attribute("Authentification_Mode"), "DIRECTE"),
    "NotOnOrAfter": _extend_validity,
    "signature removed": _strip_signature,
}


def rejected_code(session_call: Callable[[], object]) -> DmpRejected:
    with pytest.raises(DmpRejected) as refused:
        session_call()
    return refused.value


@pytest.mark.parametrize("signing", ["another CA", "key not matching the certificate"])
def test_a_vihf_signed_by_another_key_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients, foreign_pki: PkiPaths, signing: str
) -> None:
    server = sandboxes.start()
    cert = foreign_pki.sign if signing == "another CA" else server.pki.sign
    signer = VihfSigner.from_files(foreign_pki.sign_key, cert, server.structure_id)
    session = dmp_clients.session(server, signer=signer)

    refused = rejected_code(lambda: session.certified_identity(TRAITS))
    assert refused.code == "Sender:VIHF_INVALID"
    assert "signature" in refused.reason.lower()
    assert server.received("identity") == 0  # never reached the service


@pytest.mark.parametrize("edit", list(TAMPERING), ids=str)
def test_a_vihf_edited_after_signing_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients, edit: str
) -> None:
    server = sandboxes.start()
    session = dmp_clients.session(server, signer=TamperingSigner(server.pki, TAMPERING[edit]))

    refused = rejected_code(lambda: session.certified_identity(TRAITS))
    assert refused.code == "Sender:VIHF_INVALID"
    assert server.received("identity") == 0


def test_a_replayed_vihf_is_refused(sandboxes: Sandboxes, dmp_clients: DmpClients) -> None:
    server = sandboxes.start()
    pki = server.pki
    signer = ReplayingSigner(pki.sign_key.read_bytes(), pki.sign.read_bytes(), server.structure_id)
    session = dmp_clients.session(server, signer=signer)

    session.certified_identity(TRAITS)
    refused = rejected_code(lambda: session.certified_identity(TRAITS))
    assert refused.code == "Sender:VIHF_INVALID"
    assert "replay" in refused.reason.lower()
    assert server.received("identity") == 1


@pytest.mark.parametrize("minutes", [-10, 10], ids=["expired", "not yet valid"])
def test_a_vihf_out_of_its_validity_window_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients, minutes: int
) -> None:
    server = sandboxes.start()
    pki = server.pki
    signer = ClockSigner(pki.sign_key.read_bytes(), pki.sign.read_bytes(), server.structure_id)
    signer.shift = dt.timedelta(minutes=minutes)
    session = dmp_clients.session(server, signer=signer)

    refused = rejected_code(lambda: session.certified_identity(TRAITS))
    assert refused.code == "Sender:VIHF_INVALID"
    assert "expired or not yet valid" in refused.reason


def test_a_vihf_for_another_structure_than_the_tls_client_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start()
    signer = VihfSigner.from_files(server.pki.sign_key, server.pki.sign, "3999999999")
    session = dmp_clients.session(server, signer=signer)

    refused = rejected_code(lambda: session.certified_identity(TRAITS))
    assert refused.code == "Sender:STRUCTURE_MISMATCH"
    assert server.received("identity") == 0


def test_a_vihf_for_another_patient_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    """The resource-id names the INS the call is about: a VIHF for patient A does not
    open patient B's DMP."""
    server = sandboxes.start()
    pki = server.pki
    other = adult(201).beneficiary_nir
    assert other is not None

    class OtherPatientSigner(VihfSigner):
        def assertion(
            self, practitioner: Practitioner, ins: str | None, now: dt.datetime | None = None
        ) -> etree._Element:
            return super().assertion(practitioner, other if ins else None, now)

    signer = OtherPatientSigner(
        pki.sign_key.read_bytes(), pki.sign.read_bytes(), server.structure_id
    )
    session = dmp_clients.session(server, signer=signer)
    identity = session.certified_identity(TRAITS)

    refused = rejected_code(lambda: session.status(identity))
    assert refused.code == "Sender:RESOURCE_MISMATCH"


@pytest.mark.parametrize("header", ["no security header", "empty security header"])
def test_a_request_without_vihf_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients, header: str
) -> None:
    server = sandboxes.start()
    client = dmp_clients.client(server)
    url = client.url(m.IDENTITY)
    security: list[etree._Element] | None = None if header == "no security header" else []
    payload, message_id = build_envelope(
        m.IDENTITY.action, url, m.identity_request(TRAITS), security=security
    )

    answer = parse_envelope(client.transport.post(url, payload, 5.0))

    fault = fault_of(answer)
    assert fault is not None
    assert fault.code == "Sender:VIHF_INVALID"
    assert "no VIHF" in fault.reason
    assert answer.relates_to == message_id
    assert server.received("identity") == 0


# --- third-party check: xmlsec1 -------------------------------------------------------------

XMLSEC1 = shutil.which("xmlsec1")


def xmlsec1_verify(document: Path, certificate: Path) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1 is not None
    return subprocess.run(
        [XMLSEC1, "--verify", "--pubkey-cert-pem", str(certificate),
         "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", str(document)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


@pytest.fixture
def signed_vihf(dmp_pki: PkiPaths, tmp_path: Path) -> tuple[bytes, Path]:
    """A VIHF for a status call, serialized as it goes into the envelope."""
    signer = VihfSigner.from_files(
        dmp_pki.sign_key, dmp_pki.sign, load_pharmacy(dmp_pki.root).structure_id
    )
    ins = TRAITS.beneficiary_nir
    return etree.tostring(signer.assertion(PHARMACIST, ins)), tmp_path / "vihf.xml"


EDITS = {
    "NameID": (b">810001234567<", b">810001234568<"),
    "Identifiant_Structure": (
        b">3750012345</saml2:AttributeValue>",
        b">3750012346</saml2:AttributeValue>",
    ),
    "Authentification_Mode": (b">INDIRECTE<", b">DIRECTE<"),
    "resource-id": (str(TRAITS.beneficiary_nir).encode(), str(adult(202).beneficiary_nir).encode()),
    "LPS_Version": (b">0.1.0<", b">0.1.1<"),
}


@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (apt install xmlsec1)")
def test_xmlsec1_accepts_our_vihf(signed_vihf: tuple[bytes, Path], dmp_pki: PkiPaths) -> None:
    data, path = signed_vihf
    path.write_bytes(data)
    result = xmlsec1_verify(path, dmp_pki.sign)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stderr


@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (apt install xmlsec1)")
@pytest.mark.parametrize("edit", list(EDITS), ids=str)
def test_xmlsec1_refuses_our_vihf_after_an_edit(
    signed_vihf: tuple[bytes, Path], dmp_pki: PkiPaths, edit: str
) -> None:
    data, path = signed_vihf
    old, new = EDITS[edit]
    assert data.count(old) == 1, edit
    path.write_bytes(data.replace(old, new))

    result = xmlsec1_verify(path, dmp_pki.sign)
    assert result.returncode != 0, result.stderr
    with pytest.raises(VihfError):  # and our own verifier agrees
        verify_vihf(etree.fromstring(path.read_bytes()), dmp_pki.ca)


@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed (apt install xmlsec1)")
def test_xmlsec1_refuses_our_vihf_checked_against_another_key(
    signed_vihf: tuple[bytes, Path], foreign_pki: PkiPaths
) -> None:
    data, path = signed_vihf
    path.write_bytes(data)
    assert xmlsec1_verify(path, foreign_pki.sign).returncode != 0
