"""Loading the pharmacy's certificate files (PEM, PKCS#12), each failure a
:class:`CertificateError` naming the file and its :class:`CertProblem`; checked for their
role in :mod:`kiosk.appliance.certificates`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

PrivateKey = pkcs12.PKCS12PrivateKeyTypes  # RSA, DSA, EC, Ed25519, Ed448: a certificate's
KEY_TYPES = (
    rsa.RSAPrivateKey, dsa.DSAPrivateKey, ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey,
)  # fmt: skip


class CertProblem(StrEnum):
    MISSING = "missing"
    UNREADABLE = "unreadable"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a problem's name
    KEY_MISMATCH = "key_mismatch"
    NOT_FROM_CA = "not_from_ca"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_USAGE = "wrong_usage"
    EXPIRES_SOON = "expires_soon"


@dataclass(frozen=True)
class Finding:
    """One problem, the file it is about and its English words (without the file)."""

    problem: CertProblem
    file: Path
    text: str


class CertificateError(ValueError):
    """A file that cannot be loaded: its path, the problem and the English message."""

    def __init__(self, path: Path, problem: CertProblem, text: str) -> None:
        super().__init__(f"{path}: {text}")
        self.path, self.problem, self.text = path, problem, text

    def finding(self) -> Finding:
        return Finding(self.problem, self.path, self.text)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(path, CertProblem.MISSING, "no such file") from None
    except IsADirectoryError:
        raise CertificateError(path, CertProblem.UNREADABLE, "is a directory") from None
    except OSError as exc:
        text = f"cannot read ({exc.strerror or exc})"
        raise CertificateError(path, CertProblem.UNREADABLE, text) from None


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file (at least one)."""
    data = _read(path)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise CertificateError(path, CertProblem.UNREADABLE, "not a PEM certificate")
    return certs


def load_private_key(path: Path) -> PrivateKey:
    """An unencrypted PEM private key (the kiosk starts unattended: no passphrase)."""
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        text = "an encrypted key: give the .p12 file, or decrypt it (openssl pkey)"
        raise CertificateError(path, CertProblem.UNREADABLE, text) from None
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError(path, CertProblem.UNREADABLE, "not a PEM private key") from None
    if not isinstance(key, KEY_TYPES):
        raise CertificateError(path, CertProblem.UNREADABLE, "not a certificate's key")
    return key


def load_pkcs12(
    path: Path, password: bytes
) -> tuple[PrivateKey, x509.Certificate, list[x509.Certificate]]:
    """The key, its certificate and the extra (CA) certificates of a PKCS#12 file."""
    data = _read(path)
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password or None)
    except ValueError:
        if not data.startswith(b"\x30"):  # not even a DER SEQUENCE
            raise CertificateError(path, CertProblem.UNREADABLE, "not a PKCS#12 file") from None
        text = "wrong PKCS#12 password (or a damaged file)"
        raise CertificateError(path, CertProblem.WRONG_PASSWORD, text) from None
    except UnsupportedAlgorithm as exc:
        text = f"PKCS#12 file with an unsupported algorithm ({exc})"
        raise CertificateError(path, CertProblem.UNREADABLE, text) from None
    if key is None or cert is None:
        text = "PKCS#12 file without " + ("a private key" if key is None else "a certificate")
        raise CertificateError(path, CertProblem.UNREADABLE, text)
    if not isinstance(key, KEY_TYPES):
        raise CertificateError(path, CertProblem.UNREADABLE, "not a certificate's key")
    return key, cert, list(extra)
