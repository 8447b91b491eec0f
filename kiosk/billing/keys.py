"""The kiosk's ledger secrets: the HMAC key that pseudonymizes patients and the Ed25519
key that signs the daily checkpoints, 0600 beside the ledger.

Only ``kiosk provision`` and the kiosk's own first start (no ledger file yet,
:func:`kiosk.appliance.wiring.open_ledger`) make them (:func:`load_or_create_keys`);
everything else loads them (:func:`load_keys`) and is refused, naming the missing file,
when they are not there: a fresh key beside a copied ledger would make its checkpoints
fail verification, and a fresh secret would silently change every patient's key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.billing.chain import LedgerError

SECRET_FILE = "ledger.secret"  # noqa: S105 - a file name, not a secret
SIGNING_KEY_FILE = "ledger-signing.key"
PUBLIC_KEY_FILE = "ledger-signing.pub"


@dataclass(frozen=True)
class KioskKeys:
    kiosk_id: str
    secret: bytes
    signing_key: Ed25519PrivateKey

    def patient_key(self, ins: str) -> str:
        """Pseudonymous, stable per kiosk: the same patient gives the same key here only."""
        return hmac.new(self.secret, ins.encode(), hashlib.sha256).hexdigest()

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()


def public_key_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_public_key(path: Path) -> Ed25519PublicKey:
    text = path.read_text(encoding="ascii").strip()
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


class MissingKeys(LedgerError):
    """The ledger's secret or signing key is not beside it: nothing may be written."""

    def __init__(self, missing: list[Path]) -> None:
        self.missing = missing
        names = " and ".join(str(path) for path in missing)
        super().__init__(
            f"{names}: missing (the ledger's {'keys are' if len(missing) > 1 else 'key is'} not"
            " beside it); nothing was written: restore it from the kiosk's backup (only"
            " `kiosk provision` or the kiosk's first start make keys)"
        )


def load_keys(state_dir: Path, kiosk_id: str) -> KioskKeys:
    """The keys beside a ledger, never created: :class:`MissingKeys` names what is absent."""
    secret_path, key_path = state_dir / SECRET_FILE, state_dir / SIGNING_KEY_FILE
    missing = [path for path in (secret_path, key_path) if not path.is_file()]
    if missing:
        raise MissingKeys(missing)
    try:
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        secret = bytes.fromhex(secret_path.read_text(encoding="ascii").strip())
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise LedgerError(f"{state_dir}: the ledger's keys cannot be read ({exc})") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise LedgerError(f"{key_path}: not an Ed25519 key")
    return KioskKeys(kiosk_id=kiosk_id, secret=secret, signing_key=loaded)


def public_key_beside(state_dir: Path) -> Ed25519PublicKey | None:
    """The public key in ``ledger-signing.pub``, else derived from ``ledger-signing.key``;
    None when neither is there."""
    public = state_dir / PUBLIC_KEY_FILE
    if public.exists():
        return load_public_key(public)
    private = state_dir / SIGNING_KEY_FILE
    if not private.is_file():
        return None
    loaded = serialization.load_pem_private_key(private.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"{private}: not an Ed25519 key")
    return loaded.public_key()


def load_or_create_keys(state_dir: Path, kiosk_id: str) -> KioskKeys:
    """Provisioning and the kiosk's first start only: the keys, each made when absent."""
    state_dir.mkdir(parents=True, exist_ok=True)
    secret_path, key_path = state_dir / SECRET_FILE, state_dir / SIGNING_KEY_FILE
    if not secret_path.exists():
        _write_private(secret_path, secrets.token_hex(32).encode())
    if not key_path.exists():
        key = Ed25519PrivateKey.generate()
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        (state_dir / PUBLIC_KEY_FILE).write_text(public_key_hex(key.public_key()) + "\n")
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise TypeError(f"{key_path}: not an Ed25519 key")
    secret = bytes.fromhex(secret_path.read_text(encoding="ascii").strip())
    return KioskKeys(kiosk_id=kiosk_id, secret=secret, signing_key=loaded)
