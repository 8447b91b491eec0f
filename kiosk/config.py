"""Load and validate the kiosk's TOML config into frozen dataclasses.

A wrong or unknown key is reported with its name, the expected form and, for a typo,
the closest known key. Only the sections implemented so far exist; each later part of
the product adds its own section here.
"""

from __future__ import annotations

import base64
import difflib
import math
import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PATHS = (Path("/etc/kiosk/kiosk.toml"),)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ReadersConfig:
    """Pin a role to a reader name; empty = decided by the card inserted (its ATR)."""

    patient: str = ""
    professional: str = ""


@dataclass(frozen=True, slots=True)
class DmpConfig:
    """The DMP service and the pharmacy's certificates (paths relative to the config)."""

    endpoint: str = ""  # e.g. https://lps2.dmp.gouv.fr/si-dmp-server/v2/services
    ca: str = ""
    auth_cert: str = ""
    auth_key: str = ""
    sign_cert: str = ""
    sign_key: str = ""
    structure_id: str = ""  # Identifiant_Structure: 3 + FINESS
    deadline: float = 10.0

    def require(self) -> None:
        """Raise ConfigError naming the first key a DMP call cannot do without."""
        for key in ("endpoint", "ca", "auth_cert", "auth_key", "sign_cert", "sign_key"):
            if not getattr(self, key):
                raise ConfigError(f"[dmp] {key} is not set")
        if not self.structure_id:
            raise ConfigError("[dmp] structure_id is not set (3 followed by the FINESS number)")


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    """Where the remuneration ledger lives; its keys sit in the same directory."""

    path: str = "/var/lib/kiosk/ledger.db"
    kiosk_id: str = ""  # default: kiosk-<hostname>
    retention_years: int = 10  # [V] accounting records are kept 10 years

    def kiosk_name(self) -> str:
        return self.kiosk_id or f"kiosk-{socket.gethostname()}"


@dataclass(frozen=True, slots=True)
class KioskConfig:
    """The site: the pharmacy's name on receipts, the pharmacist code (as a hash written
    by ``kiosk provision``), where receipts are spooled, the first language."""

    pharmacy_name: str = ""
    pharmacist_code_hash: str = ""  # pbkdf2-sha256$iterations$salt$hash (core.pharmacist_code)
    spool: str = "/var/lib/kiosk/receipts"
    exchange: str = "/media/kiosk"  # the admin's payment files in, exports out (a USB key)
    language: str = "fr"


PRINTER_KINDS = ("none", "network", "usb", "serial", "file")


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """The ESC/POS ticket printer; ``none`` = receipts are only spooled as PDF."""

    kind: str = "none"
    host: str = ""  # network: the printer's address, raw TCP (port 9100)
    port: int = 9100
    usb_vendor: int = 0  # usb: idVendor / idProduct as `lsusb` shows them
    usb_product: int = 0
    device: str = ""  # serial: /dev/ttyUSB0; file: a device node such as /dev/usb/lp0
    width: int = 42  # characters per line: 42 on 80 mm paper (font B: 56), 32 on 58 mm


@dataclass(frozen=True, slots=True)
class Config:
    readers: ReadersConfig = field(default_factory=ReadersConfig)
    dmp: DmpConfig = field(default_factory=DmpConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    kiosk: KioskConfig = field(default_factory=KioskConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    source: str = "(defaults)"


_PATH_KEYS = ("ca", "auth_cert", "auth_key", "sign_cert", "sign_key")
_SECTIONS: dict[str, dict[str, type]] = {
    "readers": {"patient": str, "professional": str},
    "dmp": {
        "endpoint": str, "ca": str, "auth_cert": str, "auth_key": str, "sign_cert": str,
        "sign_key": str, "structure_id": str, "deadline": float,
    },
    "ledger": {"path": str, "kiosk_id": str, "retention_years": int},
    "kiosk": {
        "pharmacy_name": str, "pharmacist_code_hash": str, "spool": str, "exchange": str,
        "language": str,
    },
    "printer": {
        "kind": str, "host": str, "port": int, "usb_vendor": int, "usb_product": int,
        "device": str, "width": int,
    },
}  # fmt: skip


def _unknown(key: str, known: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _section(data: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    raw = dict(raw)  # a copy: the caller's data is left as it was
    schema = _SECTIONS[name]
    for key, value in raw.items():
        if key not in schema:
            raise _unknown(key, sorted(schema), f"{source} [{name}]")
        expected = schema[key]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            raw[key] = value = float(value)
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ConfigError(
                f"{source} [{name}] {key}: expected a {expected.__name__}, "
                f"got {type(value).__name__}"
            )
    return raw


def parse_config(
    data: dict[str, Any], source: str = "(config)", base: Path | None = None
) -> Config:
    """``base``: the directory relative certificate paths are read from."""
    for key in data:
        if key not in _SECTIONS:
            raise _unknown(key, sorted(_SECTIONS), source)
    readers = ReadersConfig(**_section(data, "readers", source))
    dmp_raw = dict(_section(data, "dmp", source))
    for key in _PATH_KEYS:
        if dmp_raw.get(key) and base is not None:
            dmp_raw[key] = str(base / dmp_raw[key])
    dmp = DmpConfig(**dmp_raw)
    if dmp.endpoint and not dmp.endpoint.startswith("https://"):
        raise ConfigError(f"{source} [dmp] endpoint: expected an https:// URL")
    if not 0 < dmp.deadline < math.inf:  # TOML allows nan and inf: neither is a deadline
        raise ConfigError(f"{source} [dmp] deadline: expected a number of seconds above 0")
    ledger_raw = dict(_section(data, "ledger", source))
    if ledger_raw.get("path") and base is not None:
        ledger_raw["path"] = str(base / ledger_raw["path"])
    ledger = LedgerConfig(**ledger_raw)
    if ledger.retention_years < 10:
        raise ConfigError(f"{source} [ledger] retention_years: at least 10 (accounting records)")
    return Config(
        readers=readers,
        dmp=dmp,
        ledger=ledger,
        kiosk=_kiosk(_section(data, "kiosk", source), source, base),
        printer=_printer(_section(data, "printer", source), source, base),
        source=source,
    )


def _kiosk(raw: dict[str, Any], source: str, base: Path | None) -> KioskConfig:
    for key in ("spool", "exchange"):
        if raw.get(key) and base is not None:
            raw[key] = str(base / raw[key])
    kiosk = KioskConfig(**raw)
    if kiosk.language not in ("fr", "en"):
        raise ConfigError(f'{source} [kiosk] language: expected "fr" or "en"')
    if kiosk.pharmacist_code_hash and not _valid_code_hash(kiosk.pharmacist_code_hash):
        raise ConfigError(
            f"{source} [kiosk] pharmacist_code_hash: expected pbkdf2-sha256$ITERATIONS$SALT$HASH"
            " (1,000 to 1,000,000 iterations, base64 salt and hash) as `kiosk provision` writes it"
        )
    return kiosk


def _valid_code_hash(text: str) -> bool:
    """The form :mod:`kiosk.core.pharmacist_code` writes; the iterations are bounded since the
    check runs on the UI thread."""
    parts = text.split("$")
    if len(parts) != 4 or parts[0] != "pbkdf2-sha256" or not parts[1].isdigit():
        return False
    try:
        salt, digest = (base64.b64decode(part, validate=True) for part in parts[2:])
    except ValueError:
        return False
    return 1_000 <= int(parts[1]) <= 1_000_000 and len(salt) >= 8 and len(digest) == 32


def _printer(raw: dict[str, Any], source: str, base: Path | None) -> PrinterConfig:
    if raw.get("device") and base is not None:
        raw["device"] = str(base / raw["device"])
    printer = PrinterConfig(**raw)
    where = f"{source} [printer]"
    if printer.kind not in PRINTER_KINDS:
        raise ConfigError(f"{where} kind: expected one of {', '.join(PRINTER_KINDS)}")
    if printer.kind == "network" and not printer.host:
        raise ConfigError(f"{where} host: a network printer needs its address")
    if not 0 < printer.port < 65536:
        raise ConfigError(f"{where} port: expected 1 to 65535")
    if printer.kind == "usb" and not (printer.usb_vendor and printer.usb_product):
        raise ConfigError(f"{where} usb_vendor, usb_product: a USB printer needs both ids")
    if printer.kind in ("serial", "file") and not printer.device:
        raise ConfigError(f"{where} device: a {printer.kind} printer needs its device path")
    if not 24 <= printer.width <= 64:
        raise ConfigError(f"{where} width: expected 24 to 64 characters per line")
    return printer


def load_config(path: Path | None = None) -> Config:
    """``path``, else ``$KIOSK_CONFIG``, else ``/etc/kiosk/kiosk.toml``, else defaults."""
    if path is None:
        env = os.environ.get("KIOSK_CONFIG")
        if env:
            path = Path(env)  # named on purpose: a missing file is an error, not defaults
        else:
            path = next((p for p in DEFAULT_PATHS if p.exists()), None)
            if path is None:
                return Config()
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_config(data, str(path), path.parent)
