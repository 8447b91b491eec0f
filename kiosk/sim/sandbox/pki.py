"""Test PKI for the sandbox DMP service, generated with ``cryptography`` on first start.

Files written in the data directory (docs/architecture.md §3): ``ca.pem`` (+ ``ca.key``, kept so
tests can issue more certificates), ``server.pem/server.key`` (loopback names),
``auth.pem/auth.key`` (the pharmacy's "ORG AUTH_CLI" TLS client certificate),
``sign.pem/sign.key`` (the pharmacy's "ORG SIGN" certificate that signs the VIHF), and
``pharmacy.json`` (FINESS structure id and name). Keys are written 0600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_FINESS = "750012345"
DEFAULT_PHARMACY = "Pharmacie de démonstration"
KEY_BITS = 2048
TEST_CA_NAME = "Borne DMP sandbox test CA"  # what `kiosk run --autopilot` insists on


@dataclass(frozen=True, slots=True)
class Pharmacy:
    finess: str
    name: str

    @property
    def structure_id(self) -> str:
        """Identifiant_Structure of the VIHF: type 3 (FINESS) + number."""
        return f"3{self.finess}"


class PkiPaths:
    """Where each PKI file lives in a sandbox data directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ca, self.ca_key = root / "ca.pem", root / "ca.key"
        self.server, self.server_key = root / "server.pem", root / "server.key"
        self.auth, self.auth_key = root / "auth.pem", root / "auth.key"
        self.sign, self.sign_key = root / "sign.pem", root / "sign.key"
        self.pharmacy = root / "pharmacy.json"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _name(common_name: str, pharmacy: Pharmacy | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]
    if pharmacy is not None:
        attributes += [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, pharmacy.name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, pharmacy.structure_id),
        ]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def issue(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer_cert: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool = False,
    usage: list[x509.ObjectIdentifier] | None = None,
    server_names: list[str] | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    start = not_before or _now() - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(not_after or start + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), True
        )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    if server_names:
        alt: list[x509.GeneralName] = []
        for name in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def write_pem(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path}: expected an RSA key")
    return key


def load_pharmacy(root: Path) -> Pharmacy:
    data = json.loads(PkiPaths(root).pharmacy.read_text(encoding="utf-8"))
    return Pharmacy(finess=str(data["finess"]), name=str(data["name"]))


def ensure_pki(
    root: Path,
    pharmacy: Pharmacy | None = None,
    server_names: tuple[str, ...] = ("127.0.0.1", "localhost", "::1"),
) -> PkiPaths:
    """Create the PKI in ``root`` unless ``ca.pem`` is already there. Idempotent."""
    paths = PkiPaths(root)
    if paths.ca.exists():
        return paths
    root.mkdir(parents=True, exist_ok=True)
    pharmacy = pharmacy or Pharmacy(DEFAULT_FINESS, DEFAULT_PHARMACY)
    ca_key = new_key()
    ca_cert = issue(_name(TEST_CA_NAME), ca_key, None, ca_key, ca=True)
    server_key = new_key()
    server_cert = issue(
        _name("DMP sandbox"), server_key, ca_cert, ca_key,
        usage=[ExtendedKeyUsageOID.SERVER_AUTH], server_names=list(server_names),
    )  # fmt: skip
    auth_key, sign_key = new_key(), new_key()
    auth_cert = issue(
        _name(f"ORG AUTH_CLI {pharmacy.structure_id}", pharmacy), auth_key, ca_cert, ca_key,
        usage=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )  # fmt: skip
    sign_cert = issue(
        _name(f"ORG SIGN {pharmacy.structure_id}", pharmacy), sign_key, ca_cert, ca_key
    )
    for path, cert in (
        (paths.server, server_cert),
        (paths.auth, auth_cert),
        (paths.sign, sign_cert),
    ):
        write_pem(path, cert)
    for path, key in (
        (paths.ca_key, ca_key), (paths.server_key, server_key),
        (paths.auth_key, auth_key), (paths.sign_key, sign_key),
    ):  # fmt: skip
        write_key(path, key)
    paths.pharmacy.write_text(
        json.dumps({"finess": pharmacy.finess, "name": pharmacy.name}, ensure_ascii=False),
        encoding="utf-8",
    )
    write_pem(paths.ca, ca_cert)  # last: its presence means the PKI is complete
    return paths
