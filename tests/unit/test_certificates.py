"""The pharmacy's certificates checked for their role (kiosk.appliance.certificates), with
certificates issued by the sandbox's own PKI code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from kiosk.appliance.certificates import (
    CertificateError,
    CertProblem,
    CertReport,
    CertRole,
    describe,
    inspect_pair,
    load_pkcs12,
)
from kiosk.sim.sandbox.pki import PkiPaths, _name, ensure_pki, issue, new_key, write_key, write_pem

NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)
CLIENT = [ExtendedKeyUsageOID.CLIENT_AUTH]


@pytest.fixture(scope="module", name="pki")
def pki_fixture(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("pki"))


def _ca(pki: PkiPaths) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return cert, key


def _pair(
    pki: PkiPaths, tmp_path: Path, name: str, usage: list[x509.ObjectIdentifier] | None = None,
    **dates: dt.datetime,
) -> tuple[Path, Path]:  # fmt: skip
    """A leaf issued by the sandbox CA, written as NAME.pem / NAME.key."""
    ca_cert, ca_key = _ca(pki)
    key = new_key()
    cert = issue(_name(f"ORG {name}"), key, ca_cert, ca_key, usage=usage, **dates)  # type: ignore[arg-type]
    write_pem(tmp_path / f"{name}.pem", cert)
    write_key(tmp_path / f"{name}.key", key)
    return tmp_path / f"{name}.pem", tmp_path / f"{name}.key"


def _check(cert: Path, key: Path | None, ca: Path | None, role: CertRole) -> CertReport:
    """Checked now: the session's PKI may be younger than this module's NOW."""
    return inspect_pair(cert, key, ca, role, dt.datetime.now(dt.UTC))


def test_the_sandbox_certificates_pass_for_their_roles(pki: PkiPaths) -> None:
    for cert, key, role in (
        (pki.auth, pki.auth_key, CertRole.TLS_CLIENT),
        (pki.sign, pki.sign_key, CertRole.SIGNATURE),
    ):
        report = _check(cert, key, pki.ca, role)
        assert report.problems == (), describe(report)
        assert report.ok
        assert "ORG" in report.subject
        assert report.days_left(NOW) in range(1090, 1100)
    ca = _check(pki.ca, None, None, CertRole.CA)
    assert ca.ok
    assert ca.problems == ()
    assert describe(ca).startswith(f"{pki.ca}: a valid CA certificate")


def test_a_signature_certificate_is_refused_for_tls_and_the_reverse(pki: PkiPaths) -> None:
    as_tls = _check(pki.sign, pki.sign_key, pki.ca, CertRole.TLS_CLIENT)
    assert as_tls.problems == (CertProblem.WRONG_USAGE,)
    assert not as_tls.ok
    assert describe(as_tls).startswith(f"{pki.sign}: not a TLS client certificate")
    as_sign = _check(pki.auth, pki.auth_key, pki.ca, CertRole.SIGNATURE)
    assert as_sign.problems == (CertProblem.WRONG_USAGE,)
    assert "TLS authentication only" in describe(as_sign)
    leaf = _check(pki.auth, None, None, CertRole.CA)
    assert leaf.problems == (CertProblem.WRONG_USAGE,)
    assert "not a CA" in describe(leaf)
    ca_as_leaf = _check(pki.ca, pki.ca_key, None, CertRole.SIGNATURE)
    assert ca_as_leaf.problems == (CertProblem.WRONG_USAGE,)


def test_a_key_that_is_not_the_certificates(pki: PkiPaths) -> None:
    report = _check(pki.auth, pki.sign_key, pki.ca, CertRole.TLS_CLIENT)
    assert report.problems == (CertProblem.KEY_MISMATCH,)
    assert describe(report) == f"{pki.auth}: does not match its key {pki.sign_key}"


def test_a_certificate_from_another_ca(pki: PkiPaths, tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other")
    report = _check(other.auth, other.auth_key, pki.ca, CertRole.TLS_CLIENT)
    assert report.problems == (CertProblem.NOT_FROM_CA,)
    assert describe(report).startswith(f"{other.auth}: not issued by the CA in {pki.ca}")


def test_same_issuer_name_but_another_key_is_not_from_the_ca(pki: PkiPaths, tmp_path: Path) -> None:
    """An impostor CA with the very name of ours: the signature decides."""
    ca_cert, _ = _ca(pki)
    impostor_key = new_key()
    impostor = issue(ca_cert.subject, impostor_key, None, impostor_key, ca=True)
    key = new_key()
    leaf = issue(_name("ORG AUTH_CLI"), key, impostor, impostor_key, usage=CLIENT)
    write_pem(tmp_path / "leaf.pem", leaf)
    report = _check(tmp_path / "leaf.pem", None, pki.ca, CertRole.TLS_CLIENT)
    assert report.problems == (CertProblem.NOT_FROM_CA,)


def test_a_ca_bundle_with_the_issuer_among_others(pki: PkiPaths, tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(other.ca.read_bytes() + pki.ca.read_bytes())
    assert _check(pki.auth, pki.auth_key, bundle, CertRole.TLS_CLIENT).ok
    assert _check(bundle, None, None, CertRole.CA).ok


def test_dates_expired_not_yet_valid_and_expiring(pki: PkiPaths, tmp_path: Path) -> None:
    cert, key = _pair(pki, tmp_path, "expired", CLIENT, not_before=NOW - 400 * DAY,
                      not_after=NOW - 2 * DAY + dt.timedelta(hours=1))  # fmt: skip
    expired = _check(cert, key, pki.ca, CertRole.TLS_CLIENT)
    assert expired.problems == (CertProblem.EXPIRED,)
    assert not expired.ok
    assert expired.days_left(NOW) == -2
    assert describe(expired).startswith(f"{cert}: expired on ")

    cert, key = _pair(pki, tmp_path, "future", CLIENT, not_before=NOW + 3 * DAY)
    future = _check(cert, key, pki.ca, CertRole.TLS_CLIENT)
    assert future.problems == (CertProblem.NOT_YET_VALID,)
    assert not future.ok
    assert "is the clock right?" in describe(future)

    cert, key = _pair(pki, tmp_path, "soon", None, not_before=NOW - DAY,
                      not_after=NOW + 10 * DAY + dt.timedelta(hours=1))  # fmt: skip
    soon = _check(cert, key, pki.ca, CertRole.SIGNATURE)
    assert soon.problems == (CertProblem.EXPIRES_SOON,)
    assert soon.ok
    assert soon.days_left(NOW) == 10
    assert "expires in 10 days" in describe(soon)
    assert "renew it" in describe(soon)
    assert inspect_pair(cert, key, pki.ca, CertRole.SIGNATURE, NOW, warn_days=5).problems == ()


def test_missing_and_unreadable_files_are_named_never_raised(pki: PkiPaths, tmp_path: Path) -> None:
    missing = _check(tmp_path / "nope.pem", pki.auth_key, pki.ca, CertRole.TLS_CLIENT)
    assert missing.problems == (CertProblem.MISSING,)
    assert missing.not_after is None
    assert missing.days_left(NOW) is None
    assert describe(missing) == f"{tmp_path / 'nope.pem'}: no such file"

    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"\x00\xffnot a certificate")
    assert _check(garbage, None, None, CertRole.TLS_CLIENT).problems == (CertProblem.UNREADABLE,)
    assert _check(tmp_path, None, None, CertRole.CA).problems == (CertProblem.UNREADABLE,)

    key_missing = _check(pki.auth, tmp_path / "auth.key", pki.ca, CertRole.TLS_CLIENT)
    assert key_missing.problems == (CertProblem.MISSING,)
    assert describe(key_missing) == f"{tmp_path / 'auth.key'}: no such file"

    ca_garbage = _check(pki.auth, pki.auth_key, garbage, CertRole.TLS_CLIENT)
    assert ca_garbage.problems == (CertProblem.UNREADABLE,)
    assert describe(ca_garbage) == f"{garbage}: not a PEM certificate"

    encrypted = tmp_path / "encrypted.key"
    key = serialization.load_pem_private_key(pki.auth_key.read_bytes(), password=None)
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ))  # fmt: skip
    report = _check(pki.auth, encrypted, pki.ca, CertRole.TLS_CLIENT)
    assert report.problems == (CertProblem.UNREADABLE,)
    assert "encrypted" in describe(report)


def test_several_problems_in_one_line(pki: PkiPaths, tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other")
    report = _check(other.sign, pki.sign_key, pki.ca, CertRole.TLS_CLIENT)
    assert set(report.problems) == {
        CertProblem.WRONG_USAGE, CertProblem.KEY_MISMATCH, CertProblem.NOT_FROM_CA,
    }  # fmt: skip
    line = describe(report)
    assert "\n" not in line
    assert line.count(str(other.sign)) == 3


def test_a_non_rsa_signature_key_is_refused(pki: PkiPaths, tmp_path: Path) -> None:
    ca_cert, ca_key = _ca(pki)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue(_name("ORG SIGN"), key, ca_cert, ca_key)  # type: ignore[arg-type]
    write_pem(tmp_path / "ec.pem", cert)
    report = _check(tmp_path / "ec.pem", None, pki.ca, CertRole.SIGNATURE)
    assert report.problems == (CertProblem.WRONG_USAGE,)
    assert "RSA" in describe(report)


def _p12(pki: PkiPaths, path: Path, password: bytes) -> None:
    key = serialization.load_pem_private_key(pki.auth_key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate(pki.auth.read_bytes())
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    encryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption()
    )  # fmt: skip
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"auth", key, cert, [ca], encryption))


def test_pkcs12_with_the_right_password(pki: PkiPaths, tmp_path: Path) -> None:
    _p12(pki, tmp_path / "auth.p12", b"t0p secret")
    key, cert, extra = load_pkcs12(tmp_path / "auth.p12", b"t0p secret")
    assert cert == x509.load_pem_x509_certificate(pki.auth.read_bytes())
    assert extra == [x509.load_pem_x509_certificate(pki.ca.read_bytes())]
    assert isinstance(key, rsa.RSAPrivateKey)
    _p12(pki, tmp_path / "open.p12", b"")
    assert load_pkcs12(tmp_path / "open.p12", b"")[1] == cert


def test_pkcs12_wrong_password_and_bad_files(pki: PkiPaths, tmp_path: Path) -> None:
    _p12(pki, tmp_path / "auth.p12", b"right")
    with pytest.raises(CertificateError) as wrong:
        load_pkcs12(tmp_path / "auth.p12", b"wrong")
    assert wrong.value.problem is CertProblem.WRONG_PASSWORD
    assert str(wrong.value).startswith(f"{tmp_path / 'auth.p12'}: wrong PKCS#12 password")
    with pytest.raises(CertificateError) as pem:
        load_pkcs12(pki.auth, b"right")
    assert pem.value.problem is CertProblem.UNREADABLE
    with pytest.raises(CertificateError) as missing:
        load_pkcs12(tmp_path / "none.p12", b"")
    assert missing.value.problem is CertProblem.MISSING
    assert missing.value.path.name == "none.p12"


def _leaf(
    pki: PkiPaths, path: Path, usage: x509.KeyUsage, purposes: list[x509.ObjectIdentifier] | None
) -> Path:
    """A leaf with exactly this KeyUsage and ExtendedKeyUsage (None: no such extension)."""
    ca_cert, ca_key = _ca(pki)
    key = new_key()
    builder = (
        x509.CertificateBuilder().subject_name(_name("ORG TEST")).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY).not_valid_after(NOW + 365 * DAY)
        .add_extension(usage, critical=True)
    )  # fmt: skip
    if purposes is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
    write_pem(path, builder.sign(ca_key, hashes.SHA256()))
    return path


def _usage(digital: bool, non_repudiation: bool, encipherment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital, non_repudiation, encipherment, False, False, False, False, False, False
    )


@pytest.mark.parametrize(
    ("usage", "purposes", "role", "fits"),
    [
        (_usage(True, False, True), CLIENT, CertRole.TLS_CLIENT, True),
        (_usage(True, False, False), [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE],
         CertRole.TLS_CLIENT, True),
        (_usage(False, False, True), CLIENT, CertRole.TLS_CLIENT, False),  # no digitalSignature
        (_usage(True, False, False), [ExtendedKeyUsageOID.EMAIL_PROTECTION],
         CertRole.TLS_CLIENT, False),
        (_usage(False, True, False), None, CertRole.SIGNATURE, True),  # nonRepudiation only
        (_usage(True, True, False), [ExtendedKeyUsageOID.EMAIL_PROTECTION],
         CertRole.SIGNATURE, True),
        (_usage(False, False, True), None, CertRole.SIGNATURE, False),  # encipherment only
        (_usage(True, False, False), [*CLIENT, ExtendedKeyUsageOID.SERVER_AUTH],
         CertRole.SIGNATURE, False),
    ],
)  # fmt: skip
def test_key_usage_by_role(
    pki: PkiPaths, tmp_path: Path, usage: x509.KeyUsage,
    purposes: list[x509.ObjectIdentifier] | None, role: CertRole, fits: bool,
) -> None:  # fmt: skip
    report = _check(_leaf(pki, tmp_path / "leaf.pem", usage, purposes), None, pki.ca, role)
    assert report.problems == (() if fits else (CertProblem.WRONG_USAGE,)), describe(report)


def _intermediate(
    issuer: x509.Certificate, issuer_key: rsa.RSAPrivateKey, name: str
) -> tuple[x509.Certificate, rsa.RSAPrivateKey, x509.Certificate]:
    """An intermediate CA issued by ``issuer``, and a TLS client leaf it issued."""
    key = new_key()
    middle = issue(_name(name), key, issuer, issuer_key, ca=True)
    leaf_key = new_key()
    leaf = issue(_name("ORG AUTH_CLI"), leaf_key, middle, key, usage=CLIENT)
    return middle, leaf_key, leaf


def test_an_intermediate_after_the_leaf_chains_it_to_the_ca(pki: PkiPaths, tmp_path: Path) -> None:
    """A PKCS#12's extra certificates (written after the leaf): an intermediate the CA file
    issued is a candidate issuer; one it did not issue is not."""
    ca_cert, ca_key = _ca(pki)
    middle, leaf_key, leaf = _intermediate(ca_cert, ca_key, "ORGANISATIONS")
    write_key(tmp_path / "leaf.key", leaf_key)
    (tmp_path / "chain.pem").write_bytes(b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in (leaf, middle)
    ))  # fmt: skip
    write_pem(tmp_path / "alone.pem", leaf)
    chained = _check(tmp_path / "chain.pem", tmp_path / "leaf.key", pki.ca, CertRole.TLS_CLIENT)
    assert chained.ok, describe(chained)
    alone = _check(tmp_path / "alone.pem", tmp_path / "leaf.key", pki.ca, CertRole.TLS_CLIENT)
    assert [f.problem for f in alone.findings] == [CertProblem.NOT_FROM_CA]
    other = ensure_pki(tmp_path / "other")
    other_ca, other_key = _ca(other)
    stranger, stranger_leaf_key, stranger_leaf = _intermediate(other_ca, other_key, "ORGANISATIONS")
    write_key(tmp_path / "stranger.key", stranger_leaf_key)
    (tmp_path / "stranger.pem").write_bytes(b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in (stranger_leaf, stranger)
    ))  # fmt: skip
    refused = _check(tmp_path / "stranger.pem", tmp_path / "stranger.key", pki.ca,
                     CertRole.TLS_CLIENT)  # fmt: skip
    assert [f.problem for f in refused.findings] == [CertProblem.NOT_FROM_CA]
