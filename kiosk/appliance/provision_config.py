"""The config `kiosk provision` writes: what a site is (checked field by field, one line
per mistake naming the flag) and its TOML text, validated by :func:`kiosk.config.parse_config`
before anything is written. Re-provisioning keeps what the technician set by hand in the
old config: ``[readers]``, ``[printer]``, the language, the exchange folder, the deadline,
and the ledger's path (a ledger is never moved by re-provisioning).

Imported by every ``kiosk`` command (the CLI's prompts use its checks): it imports neither
the DMP client nor ``cryptography``, so ``kiosk run`` loads nothing of provision's."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.config import Config, ConfigError, parse_config

SERVICES_PATH = "/si-dmp-server/v2/services"  # kiosk.dmp.client's (a test says they agree)
PRODUCTION_ENDPOINT = f"https://lps2.dmp.gouv.fr{SERVICES_PATH}"
LEDGER_FILE = "ledger.db"
FINESS = re.compile(r"(\d{2}|2A|2B)\d{7}")  # 9 characters; Corsica's départements 2A, 2B
KIOSK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
KEPT_SECTIONS = ("readers", "printer")
KEPT_KEYS = {"kiosk": ("language", "exchange"), "dmp": ("deadline",)}


class ProvisionError(ValueError):
    """One line for the CLI, naming the flag or the file at fault."""


def check_pharmacy_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 120 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ProvisionError("--pharmacy-name: expected the pharmacy's name (1 to 120 characters)")
    return name


def check_finess(finess: str) -> str:
    finess = finess.strip().upper()
    if not FINESS.fullmatch(finess):
        raise ProvisionError(f"--finess: expected the 9-character FINESS number, not {finess!r}")
    return finess


def check_kiosk_id(kiosk_id: str) -> str:
    if not KIOSK_ID.fullmatch(kiosk_id):
        raise ProvisionError(
            f"--kiosk-id: expected 1 to 64 letters, digits, '.', '_' or '-', not {kiosk_id!r}"
        )
    return kiosk_id


def check_endpoint(url: str) -> str:
    url = url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme != "https" or not parts.hostname or not port_ok:
        raise ProvisionError(f"--endpoint: expected an https:// URL, not {url!r}")
    return url


@dataclass(frozen=True, slots=True)
class CertPaths:
    """Where the config says the certificates are (absolute)."""

    ca: Path
    auth_cert: Path
    auth_key: Path
    sign_cert: Path
    sign_key: Path

    @classmethod
    def in_directory(cls, directory: Path) -> CertPaths:
        return cls(
            directory / "ca.pem", directory / "auth.pem", directory / "auth.key",
            directory / "sign.pem", directory / "sign.key",
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Site:
    pharmacy_name: str
    finess: str
    kiosk_id: str
    endpoint: str
    code_hash: str
    state_dir: Path

    @property
    def structure_id(self) -> str:
        """Identifiant_Structure of the VIHF: type 3 (FINESS) + the number."""
        return f"3{self.finess}"


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"not a config value: {value!r}")
    escaped = "".join(
        f"\\{c}" if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 else c
        for c in value
    )
    return f'"{escaped}"'


def _table(name: str, values: dict[str, Any]) -> str:
    rows = (f"{key} = {toml_value(value)}" for key, value in values.items())
    return f"[{name}]\n" + "".join(row + "\n" for row in rows)


def read_previous(path: Path) -> dict[str, Any]:
    """The config being replaced, as TOML data (empty if absent or not TOML)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def previous_settings(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What to keep from the config being replaced (its TOML data)."""
    kept: dict[str, dict[str, Any]] = {}
    for section, value in data.items():
        if not isinstance(value, dict):
            continue
        wanted = value if section in KEPT_SECTIONS else {}
        if section in KEPT_KEYS:
            wanted = {k: v for k, v in value.items() if k in KEPT_KEYS[section]}
        simple = {k: v for k, v in wanted.items() if isinstance(v, str | int | float | bool)}
        if simple:
            kept[section] = simple
    return kept


def previous_ledger(data: dict[str, Any], out: Path) -> tuple[Path | None, str | None]:
    """The old config's ``[ledger]`` path (absolute, relative ones from the config's
    directory) and kiosk id, each None when it set none."""
    ledger = data.get("ledger")
    if not isinstance(ledger, dict):
        return None, None
    path, kiosk_id = ledger.get("path"), ledger.get("kiosk_id")
    where = None
    if isinstance(path, str) and path:
        where = Path(os.path.normpath(out.parent / Path(path).expanduser()))
    return where, kiosk_id if isinstance(kiosk_id, str) and kiosk_id else None


def config_text(
    site: Site, certs: CertPaths, kept: dict[str, dict[str, Any]], ledger_path: Path | None = None
) -> str:
    """The config's text; ``ledger_path`` is the ledger's (the state directory's by default)."""
    dmp = {
        "endpoint": site.endpoint, "ca": certs.ca, "auth_cert": certs.auth_cert,
        "auth_key": certs.auth_key, "sign_cert": certs.sign_cert, "sign_key": certs.sign_key,
        "structure_id": site.structure_id, **kept.get("dmp", {}),
    }  # fmt: skip
    kiosk = {
        "pharmacy_name": site.pharmacy_name, "pharmacist_code_hash": site.code_hash,
        "spool": site.state_dir / "receipts", **kept.get("kiosk", {}),
    }  # fmt: skip
    ledger = {"path": ledger_path or site.state_dir / LEDGER_FILE, "kiosk_id": site.kiosk_id}
    return (
        "# Written by `kiosk provision`; [readers] and [printer] may be edited by hand\n"
        "# (config/kiosk.example.toml describes every key). Re-provisioning keeps them.\n\n"
        + _table("readers", kept.get("readers", {}))
        + "\n" + _table("dmp", dmp)
        + "\n" + _table("ledger", ledger)
        + "\n" + _table("kiosk", kiosk)
        + "\n" + _table("printer", kept.get("printer", {"kind": "none"}))
    )  # fmt: skip


def validated(text: str, out: Path) -> Config:
    """The config ``text`` describes, checked as ``kiosk run`` will read it from ``out``."""
    try:
        return parse_config(tomllib.loads(text), str(out), out.parent)
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ProvisionError(f"{out}: the config to write is not valid ({exc})") from None
