"""The pharmacy's certificates, checked for their role: what `kiosk provision` refuses and
`kiosk doctor` reports. Pure logic over ``cryptography``; the only I/O is reading the files.

A certificate is checked for:

- its file: present (``MISSING``), a PEM certificate (``UNREADABLE``); a PKCS#12 file
  opens with its password (``WRONG_PASSWORD``; a file that is not DER at all is
  ``UNREADABLE``, since ``cryptography`` does not tell a wrong password from bad data);
- its key: the private key's public half is the certificate's (``KEY_MISMATCH``);
- its CA: directly issued by a certificate of the CA file (a PEM bundle may hold several,
  e.g. IGC-Santé's root and its "ORGANISATIONS" authority), or by an intermediate that
  follows the leaf in its own file (a PKCS#12's extra certificates) and that one of the CA
  file issued; the issuer's name is the leaf's issuer, its key verifies the leaf's
  signature and its BasicConstraints say ``ca=True`` (``NOT_FROM_CA``);
- its dates: ``NOT_YET_VALID`` before notBefore, ``EXPIRED`` after notAfter,
  ``EXPIRES_SOON`` (a warning, ``ok`` stays true) within ``warn_days`` of it;
- its usage (``WRONG_USAGE``), by role:

  * ``TLS_CLIENT`` ("ORG AUTH_CLI"): an ExtendedKeyUsage extension that names
    clientAuth (or anyExtendedKeyUsage) must be present: stricter than TLS itself, on
    purpose, since a signature certificate names no TLS purpose (the sandbox's carries no
    ExtendedKeyUsage at all) and this is what refuses one given for TLS **[A]** (IGC-Santé's
    ORG AUTH_CLI profile names clientAuth); KeyUsage (when present) with digitalSignature;
    not a CA;
  * ``SIGNATURE`` ("ORG SIGN", signs the VIHF): KeyUsage (when present) with
    digitalSignature or nonRepudiation; an ExtendedKeyUsage (when present) that names
    something other than the TLS purposes (clientAuth, serverAuth) or none at all, so an
    authentication certificate given for the VIHF is refused; an RSA key (the VIHF is
    RSA-SHA256); not a CA;
  * ``CA``: every certificate of the file has BasicConstraints ``ca=True`` and, when
    KeyUsage is present, keyCertSign.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from kiosk.appliance.certificate_files import (
    CertificateError,
    CertProblem,
    Finding,
    PrivateKey,
    load_certificates,
    load_pkcs12,
    load_private_key,
)

__all__ = [
    "CertProblem", "CertReport", "CertRole", "CertificateError", "Finding", "PrivateKey",
    "check_certificate", "describe", "inspect_pair", "load_certificates", "load_pkcs12",
    "load_private_key",
]  # fmt: skip

E = TypeVar("E", bound=x509.ExtensionType)
TLS_PURPOSES = frozenset({ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH})
CLIENT_PURPOSES = frozenset(
    {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
)


class CertRole(StrEnum):
    CA = "ca"
    TLS_CLIENT = "tls"
    SIGNATURE = "sign"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    CertRole.CA: "CA certificate",
    CertRole.TLS_CLIENT: 'TLS client certificate ("ORG AUTH_CLI")',
    CertRole.SIGNATURE: 'signature certificate ("ORG SIGN")',
}


@dataclass(frozen=True)
class CertReport:
    path: Path
    role: CertRole
    subject: str
    not_after: dt.datetime | None
    problems: tuple[CertProblem, ...]
    findings: tuple[Finding, ...] = ()

    def days_left(self, now: dt.datetime) -> int | None:
        """Whole days until notAfter (negative once expired); None when unread."""
        if self.not_after is None:
            return None
        return (self.not_after - now) // dt.timedelta(days=1)

    @property
    def ok(self) -> bool:
        """No problem other than EXPIRES_SOON (a warning)."""
        return all(problem is CertProblem.EXPIRES_SOON for problem in self.problems)


def _public_der(key: PrivateKey | x509.Certificate) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _extension(cert: x509.Certificate, kind: type[E]) -> E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = _extension(cert, x509.BasicConstraints)
    return constraints is not None and constraints.ca


def _usage_problem(cert: x509.Certificate, role: CertRole) -> str | None:
    """Why ``cert`` does not fit ``role`` (module docstring), None when it does."""
    usage = _extension(cert, x509.KeyUsage)
    purposes = _extension(cert, x509.ExtendedKeyUsage)
    if role is CertRole.CA:
        if not _is_ca(cert):
            return "not a CA certificate (BasicConstraints without ca=True)"
        if usage is not None and not usage.key_cert_sign:
            return "a CA certificate that may not sign certificates (KeyUsage)"
        return None
    if _is_ca(cert):
        return f"a CA certificate, not a {role.label}"
    if role is CertRole.TLS_CLIENT:
        if purposes is None or not {*purposes} & CLIENT_PURPOSES:
            return f"not a {role.label}: no clientAuth extended key usage (a signature one?)"
        if usage is not None and not usage.digital_signature:
            return f"not a {role.label}: KeyUsage without digitalSignature"
        return None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        return f"not a {role.label}: KeyUsage without digitalSignature or nonRepudiation"
    if purposes is not None and set(purposes) <= TLS_PURPOSES:
        return f"not a {role.label}: its usage is TLS authentication only (ORG AUTH_CLI?)"
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        return f"not a {role.label}: the VIHF is signed RSA-SHA256 and this key is not RSA"
    return None


def _issued_by(cert: x509.Certificate, authorities: list[x509.Certificate]) -> bool:
    for authority in authorities:
        if authority.subject != cert.issuer or not _is_ca(authority):
            continue
        try:
            cert.verify_directly_issued_by(authority)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def _date(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def check_certificate(
    path: Path,
    certs: list[x509.Certificate],
    key: PrivateKey | None,
    authorities: list[x509.Certificate] | None,
    role: CertRole,
    now: dt.datetime,
    warn_days: int = 30,
    *,
    key_path: Path | None = None,
    ca_path: Path | None = None,
) -> list[Finding]:
    """The problems of loaded objects (``certs[0]`` the leaf; for the CA role, each)."""
    findings: list[Finding] = []
    checked = certs if role is CertRole.CA else certs[:1]
    for cert in checked:
        if now < cert.not_valid_before_utc:
            text = f"not valid before {_date(cert.not_valid_before_utc)} (is the clock right?)"
            findings.append(Finding(CertProblem.NOT_YET_VALID, path, text))
        ends = cert.not_valid_after_utc
        if now > ends:
            findings.append(Finding(CertProblem.EXPIRED, path, f"expired on {_date(ends)}"))
        elif ends - now < dt.timedelta(days=warn_days):
            days = (ends - now) // dt.timedelta(days=1)
            text = f"expires in {days} days, on {_date(ends)}: renew it"
            findings.append(Finding(CertProblem.EXPIRES_SOON, path, text))
        why = _usage_problem(cert, role)
        if why is not None:
            findings.append(Finding(CertProblem.WRONG_USAGE, path, why))
    leaf = certs[0]
    if key is not None and _public_der(key) != _public_der(leaf):
        text = f"does not match its key {key_path}" if key_path else "does not match its key"
        findings.append(Finding(CertProblem.KEY_MISMATCH, path, text))
    # an intermediate of the leaf's own file (a PKCS#12's extra certificates) counts when
    # a certificate of the CA file issued it
    chain = [c for c in certs[1:] if authorities is not None and _issued_by(c, authorities)]
    if authorities is not None and not _issued_by(leaf, [*authorities, *chain]):
        where = f" in {ca_path}" if ca_path else ""
        issuer = leaf.issuer.rfc4514_string()
        text = f"not issued by the CA{where} (its issuer is {issuer})"
        findings.append(Finding(CertProblem.NOT_FROM_CA, path, text))
    return findings


def report_of(
    path: Path, role: CertRole, certs: list[x509.Certificate] | None, findings: list[Finding]
) -> CertReport:
    subject = certs[0].subject.rfc4514_string() if certs else ""
    not_after = min(c.not_valid_after_utc for c in certs) if certs else None
    problems = tuple(dict.fromkeys(finding.problem for finding in findings))
    return CertReport(path, role, subject, not_after, problems, tuple(findings))


def inspect_pair(
    cert: Path,
    key: Path | None,
    ca: Path | None,
    role: CertRole,
    now: dt.datetime,
    warn_days: int = 30,
) -> CertReport:
    """Check a certificate file (and its key, its CA) for ``role``; never raises for a bad
    file: each problem is in the report."""
    try:
        certs = load_certificates(cert)
    except CertificateError as exc:
        return report_of(cert, role, None, [exc.finding()])
    findings: list[Finding] = []
    private: PrivateKey | None = None
    authorities: list[x509.Certificate] | None = None
    if key is not None:
        try:
            private = load_private_key(key)
        except CertificateError as exc:
            findings.append(exc.finding())
    if ca is not None:
        try:
            authorities = load_certificates(ca)
        except CertificateError as exc:
            findings.append(exc.finding())
    findings += check_certificate(
        cert, certs, private, authorities, role, now, warn_days, key_path=key, ca_path=ca
    )
    return report_of(cert, role, certs, findings)


def describe(report: CertReport) -> str:
    """One English line naming the file(s) and the problem(s), for the CLI and the doctor."""
    if not report.problems:
        days = f", until {_date(report.not_after)}" if report.not_after else ""
        return f"{report.path}: a valid {report.role.label}{days}"
    if report.findings:
        return "; ".join(f"{finding.file}: {finding.text}" for finding in report.findings)
    return f"{report.path}: " + ", ".join(str(p).replace("_", " ") for p in report.problems)
