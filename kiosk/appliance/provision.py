"""`kiosk provision`'s work: check the pharmacy's certificates, then write them, the
kiosk's secrets and its config.

Everything is checked before anything is written (the CA, each certificate for its role
with :mod:`kiosk.appliance.certificates`, the secrets already in the state directory: an
Ed25519 signing key, a 32-byte secret, both present when a ledger is; no symbolic link
in the state or certificates directory; the kiosk id the ledger was written with; the
config text, against the certificates about to be written), so a refusal leaves every
file as it was. What fails while writing all the same is one line too, never a
traceback. Then, each file written atomically (:mod:`kiosk.appliance.provision_files`,
which never follows a symbolic link): the certificates (PEM, 0600, the service user's) in
``certs/`` beside the config, the state directory (0700) with the pharmacist code's gate
state and the ledger's secrets (created only when absent: re-provisioning never replaces
``ledger.db``, ``ledger.secret`` or ``ledger-signing.key``, nor moves the ledger a config
put elsewhere), and the config last (0640, root and the service's group), checked as
``kiosk run`` checks it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.appliance.certificates import (
    CertificateError,
    CertProblem,
    CertRole,
    Finding,
    PrivateKey,
    check_certificate,
    load_certificates,
    load_pkcs12,
    load_private_key,
)
from kiosk.appliance.provision_config import (
    LEDGER_FILE,
    CertPaths,
    ProvisionError,
    Site,
    config_text,
    previous_ledger,
    previous_settings,
    read_previous,
    validated,
)
from kiosk.appliance.provision_files import (
    LinkRefused,
    Owners,
    create_atomic,
    ensure_directory,
    refuse_link,
    resolve_owners,
    set_owner,
    write_atomic,
)
from kiosk.appliance.startup_checks import check_config
from kiosk.billing.keys import PUBLIC_KEY_FILE, SECRET_FILE, SIGNING_KEY_FILE, public_key_hex
from kiosk.config import Config, ConfigError
from kiosk.core.code_gate import STATE_FILE, CodeGate

__all__ = ["LEDGER_FILE", "Outcome", "PairSource", "Request", "check_material", "provision"]

CERTS_DIR = "certs"
SECRET_BYTES = 32  # what keys.load_or_create_keys makes: 64 hex digits
PART_WAY = (
    "stopped part way: the config (written last) and the secrets already there are as they "
    "were; run it again once fixed"
)
RESTORE = "restore it from the backup or the old device; provision never makes a new one"


@dataclass(frozen=True, slots=True)
class PairSource:
    """A certificate and its key: two PEM files, or one PKCS#12 file and its password."""

    role: CertRole
    cert: Path | None = None
    key: Path | None = None
    p12: Path | None = None
    password: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True)
class Request:
    site: Site
    ca: Path
    auth: PairSource
    sign: PairSource
    out: Path
    user: str = "kiosk"
    new_kiosk_id: bool = False  # a kiosk id other than the one the ledger was written with


@dataclass(slots=True)
class Outcome:
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    owners: Owners = field(default_factory=lambda: Owners(None))


def _pem(certs: list[x509.Certificate]) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _refuse_or_warn(findings: list[Finding], outcome: Outcome) -> None:
    """Refused for any problem but EXPIRES_SOON, which is a warning."""
    refusals = [f for f in findings if f.problem is not CertProblem.EXPIRES_SOON]
    if refusals:
        raise ProvisionError("; ".join(f"{f.file}: {f.text}" for f in refusals))
    outcome.warnings += [f"{f.file}: {f.text}" for f in findings]


def _loaded(role: CertRole, source: PairSource) -> tuple[Path, list[x509.Certificate], PrivateKey]:
    """A pair's certificates (leaf first, then a PKCS#12's intermediates: written after the
    leaf, for TLS and the VIHF to present) and key, loaded; a file that fails is named."""
    try:
        if source.p12 is not None:
            key, cert, extra = load_pkcs12(source.p12, source.password)
            roots = [c for c in extra if c.subject == c.issuer]  # the CA file's business
            return source.p12, [cert, *(c for c in extra if c not in roots)], key
        if source.cert is None or source.key is None:
            raise ProvisionError(f"the {role.label} needs a certificate and its key")
        return source.cert, load_certificates(source.cert), load_private_key(source.key)
    except CertificateError as exc:
        raise ProvisionError(str(exc)) from None


def check_material(request: Request, now: dt.datetime, outcome: Outcome) -> dict[Path, bytes]:
    """The certificate files to write (their PEM), once every one is checked."""
    try:
        authorities = load_certificates(request.ca)
    except CertificateError as exc:
        raise ProvisionError(str(exc)) from None
    _refuse_or_warn(
        check_certificate(request.ca, authorities, None, None, CertRole.CA, now), outcome
    )
    paths = CertPaths.in_directory(request.out.parent / CERTS_DIR)
    files = {paths.ca: _pem(authorities)}
    for source, cert_path, key_path in (
        (request.auth, paths.auth_cert, paths.auth_key),
        (request.sign, paths.sign_cert, paths.sign_key),
    ):
        path, certs, key = _loaded(source.role, source)
        certs = [certs[0], *(c for c in certs[1:] if c not in authorities)]  # leaf + chain
        problems = check_certificate(
            path, certs, key, authorities, source.role, now, key_path=source.key,
            ca_path=request.ca,
        )  # fmt: skip
        _refuse_or_warn(problems, outcome)
        files[cert_path], files[key_path] = _pem(certs), _key_pem(key)
    return files


@dataclass(frozen=True, slots=True)
class State:
    """What :func:`check_state` found: the ledger's path and which files exist."""

    ledger: Path
    existing: frozenset[str]
    signing_key: Ed25519PrivateKey | None


def _read(path: Path) -> bytes:
    """A regular file's bytes, never through a symbolic link."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    with os.fdopen(os.open(path, flags), "rb") as handle:
        return handle.read()


def _unreadable(path: Path, why: str) -> ProvisionError:
    return ProvisionError(f"{path}: exists but {why}; {RESTORE}")


def _check_secret(path: Path) -> None:
    try:
        secret = bytes.fromhex(_read(path).decode("ascii").strip())
    except (OSError, ValueError):
        raise _unreadable(path, "cannot be read") from None
    if len(secret) != SECRET_BYTES:
        raise _unreadable(path, f"is not a ledger secret ({len(secret)} bytes, not {SECRET_BYTES})")


def _check_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm):
        raise _unreadable(path, "cannot be read") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _unreadable(path, "is not an Ed25519 key")
    return key


def _ledger_kiosk_id(ledger: Path) -> str | None:
    """The kiosk id of the ledger's last entry, read without a write (None if unreadable)."""
    from urllib.parse import quote

    wal = ledger.with_name(ledger.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{quote(str(ledger))}?{mode}", uri=True, timeout=2)
        ) as conn:
            row = conn.execute("SELECT kiosk_id FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row and row[0] else None


def check_state(request: Request, previous: dict[str, object]) -> State:
    """The state and certificates directories as provision will find them: no symbolic
    link; secrets already there load (provision never replaces one), both present when a
    ledger is; the kiosk id the ledger was written with, unless ``--new-kiosk-id``."""
    site, out = request.site, request.out
    state_dir, certs_dir = site.state_dir, out.parent / CERTS_DIR
    try:
        refuse_link(state_dir, directory=True)
        refuse_link(certs_dir, directory=True)
        for path in (*dataclasses.astuple(CertPaths.in_directory(certs_dir)), out):
            refuse_link(path)
    except LinkRefused as exc:
        raise ProvisionError(str(exc)) from None
    old_ledger, old_kiosk_id = previous_ledger(previous, out)
    ledger = old_ledger or state_dir / LEDGER_FILE
    if os.path.normpath(ledger.parent) != os.path.normpath(state_dir):
        raise ProvisionError(
            f"{out}: its [ledger] path {ledger} is not in --state-dir {state_dir}; give "
            f"--state-dir {ledger.parent} (the ledger's keys are beside it)"
        )
    ledger = state_dir / ledger.name  # the same file, named as the state directory is
    names = (STATE_FILE, SECRET_FILE, SIGNING_KEY_FILE, PUBLIC_KEY_FILE, ledger.name)
    try:
        existing = frozenset(name for name in names if refuse_link(state_dir / name))
    except LinkRefused as exc:
        raise ProvisionError(str(exc)) from None
    if SECRET_FILE in existing:
        _check_secret(state_dir / SECRET_FILE)
    key = None
    if SIGNING_KEY_FILE in existing:
        key = _check_signing_key(state_dir / SIGNING_KEY_FILE)
    if ledger.name in existing:
        missing = [name for name in (SECRET_FILE, SIGNING_KEY_FILE) if name not in existing]
        if missing:
            raise ProvisionError(
                f"{ledger}: a ledger without its {' and '.join(missing)} (in {state_dir}): a "
                "new one would lose its sealed INS and change every patient's key; restore "
                f"{' and '.join(missing)} from the backup or the old device"
            )
        recorded = _ledger_kiosk_id(ledger) or old_kiosk_id
        if recorded is not None and recorded != site.kiosk_id and not request.new_kiosk_id:
            raise ProvisionError(
                f"--kiosk-id {site.kiosk_id}: the ledger {ledger} was written as kiosk "
                f"{recorded!r}; give --kiosk-id {recorded}, or --new-kiosk-id to change it"
            )
    return State(ledger, existing, key)


def check_staged(config: Config, files: dict[Path, bytes]) -> None:
    """What ``kiosk run`` checks (:func:`check_config`), against the files about to be
    written rather than the disk."""
    try:
        config.dmp.require()
    except ConfigError as exc:
        raise ProvisionError(str(exc)) from None
    for key in config.dmp.CERTIFICATE_KEYS:
        path = Path(getattr(config.dmp, key))
        if path not in files:
            raise ProvisionError(f"{config.source} [dmp] {key}: {path} is not written here")
    if not config.kiosk.pharmacist_code_hash:
        raise ProvisionError(f"{config.source} [kiosk] pharmacist_code_hash: not set")


def _write_gate_state(state_dir: Path, owner: tuple[int, int] | None) -> None:
    """A fresh gate state, written by the gate itself: a new kiosk's gate, in an empty
    scratch directory of our own (not in the state directory, which the service user could
    swap it in), saves its empty state, whose bytes are then created in the state directory
    (never over a file that appeared since, never through a link; a state directory that
    already holds secrets would make a gate without its file lock, on purpose)."""
    scratch = Path(tempfile.mkdtemp(prefix="kiosk-provision-"))
    try:
        CodeGate(lambda _code: False, scratch)
        data = (scratch / STATE_FILE).read_bytes()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    create_atomic(state_dir / STATE_FILE, data, 0o600, owner)


def write_state(request: Request, state: State, outcome: Outcome) -> None:
    """The gate state and the ledger's secrets, each created only when absent."""
    state_dir, owner = request.site.state_dir, outcome.owners.service
    ensure_directory(state_dir, 0o700, owner)
    existing = state.existing
    if STATE_FILE not in existing:
        _write_gate_state(state_dir, owner)
    if SECRET_FILE not in existing:
        secret = secrets.token_hex(SECRET_BYTES).encode("ascii")
        create_atomic(state_dir / SECRET_FILE, secret, 0o600, owner)
    key = state.signing_key
    if key is None:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_atomic(state_dir / SIGNING_KEY_FILE, pem, 0o600, owner)
    if PUBLIC_KEY_FILE not in existing or state.signing_key is None:
        public = (public_key_hex(key.public_key()) + "\n").encode("ascii")
        write_atomic(state_dir / PUBLIC_KEY_FILE, public, 0o600, owner)
    for name in (STATE_FILE, SECRET_FILE, SIGNING_KEY_FILE, PUBLIC_KEY_FILE):
        path = state_dir / name
        (outcome.kept if name in existing else outcome.written).append(path)
        set_owner(path, 0o600, owner)
    if state.ledger.name in existing:
        outcome.kept.append(state.ledger)


def _write(
    request: Request, state: State, files: dict[Path, bytes], config: Config, text: str,
    outcome: Outcome,
) -> None:  # fmt: skip
    out, certs_dir = request.out, request.out.parent / CERTS_DIR
    service, config_owner = outcome.owners.service, outcome.owners.config_group
    if not out.parent.exists():
        ensure_directory(out.parent, 0o750, config_owner)
    ensure_directory(certs_dir, 0o750, config_owner)
    for path, data in files.items():
        write_atomic(path, data, 0o600, service)
        outcome.written.append(path)
    write_state(request, state, outcome)
    check_config(config)
    write_atomic(out, text.encode("utf-8"), 0o640, config_owner)
    outcome.written.append(out)


def provision(request: Request, now: dt.datetime | None = None) -> Outcome:
    """Check everything, then write; raises ProvisionError (one line) before any write, and
    for anything that fails while writing all the same."""
    now = now or dt.datetime.now(dt.UTC)
    outcome = Outcome(owners=resolve_owners(request.user))
    out = request.out
    if out.is_dir():
        raise ProvisionError(f"--out {out}: is a directory")
    files = check_material(request, now, outcome)
    previous = read_previous(out)
    state = check_state(request, previous)
    certs = CertPaths.in_directory(out.parent / CERTS_DIR)
    text = config_text(request.site, certs, previous_settings(previous), state.ledger)
    config = validated(text, out)
    check_staged(config, files)
    try:
        _write(request, state, files, config, text, outcome)
    except ProvisionError:
        raise
    except LinkRefused as exc:
        raise ProvisionError(f"{exc}; {PART_WAY}") from None
    except FileExistsError as exc:
        raise ProvisionError(f"{exc.filename}: appeared while provisioning; {PART_WAY}") from None
    except OSError as exc:
        where = exc.filename or out
        raise ProvisionError(f"{where}: cannot write ({exc.strerror or exc})") from None
    except ConfigError as exc:
        raise ProvisionError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - one line for the technician, never a traceback
        raise ProvisionError(
            f"stopped while writing ({type(exc).__name__}: {exc}); {PART_WAY}"
        ) from None
    return outcome
