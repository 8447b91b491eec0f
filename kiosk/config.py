"""Load and validate the kiosk's TOML config into frozen dataclasses.

Each field declares its own type, default and check (:mod:`kiosk.config_schema`). Every
wrong or unknown key is reported at once, with its name, the expected form and, for a
typo, the closest known key. Only the sections implemented so far exist; each later part
of the product adds its own section here.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from kiosk.config_schema import PATH, one_of, parse, rule

DEFAULT_PATHS = (Path("/etc/kiosk/kiosk.toml"),)
LANGUAGES = ("fr", "en")
PRINTER_KINDS = ("none", "network", "usb", "serial", "file")


class ConfigError(ValueError):
    """One line for the CLI; ``problems`` names each problem found, with its key."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [message]

    @classmethod
    def listing(cls, source: str, problems: list[str]) -> ConfigError:
        """``kiosk.toml [dmp] deadline: expected …; [printer] kind: expected …``."""
        separator = " " if problems[0].startswith("[") else ": "
        return cls(source + separator + "; ".join(problems), problems)


def _b64(parts: list[str]) -> list[bytes] | None:
    try:
        return [base64.b64decode(part, validate=True) for part in parts]
    except ValueError:
        return None


def _valid_code_hash(text: str) -> bool:
    """The forms :mod:`kiosk.core.pharmacist_code` reads: scrypt (what `kiosk provision`
    writes; N a power of two from 2**14 to 2**20, r 1 to 16, p 1 to 4) or the PBKDF2 of
    older kiosks (1,000 to 1,000,000 iterations), upgraded on the next good code."""
    parts = text.split("$")
    if parts[0] == "scrypt" and len(parts) == 6 and all(v.isdigit() for v in parts[1:4]):
        n, r, p = (int(v) for v in parts[1:4])
        decoded = _b64(parts[4:])
        return (
            decoded is not None and 2**14 <= n <= 2**20 and n & (n - 1) == 0
            and 1 <= r <= 16 and 1 <= p <= 4 and len(decoded[0]) >= 8 and len(decoded[1]) == 32
        )  # fmt: skip
    if parts[0] == "pbkdf2-sha256" and len(parts) == 4 and parts[1].isdigit():
        decoded = _b64(parts[2:])
        return (
            decoded is not None and 1_000 <= int(parts[1]) <= 1_000_000
            and len(decoded[0]) >= 8 and len(decoded[1]) == 32
        )  # fmt: skip
    return False


_CERTIFICATE = MappingProxyType({**PATH, "certificate": True})  # a file `kiosk run` requires
_CODE_HASH = (
    "scrypt$N$R$P$SALT$HASH as `kiosk provision` writes it (or an older kiosk's"
    " pbkdf2-sha256$ITERATIONS$SALT$HASH)"
)


@dataclass(frozen=True, slots=True)
class ReadersConfig:
    """Pin a role to a reader name; empty = decided by the card inserted (its ATR)."""

    patient: str = ""
    professional: str = ""


@dataclass(frozen=True, slots=True)
class DmpConfig:
    """The DMP service and the pharmacy's certificates (paths relative to the config)."""

    CERTIFICATE_KEYS: ClassVar[tuple[str, ...]]  # ca … sign_key, set below from the fields

    endpoint: str = field(  # e.g. https://lps2.dmp.gouv.fr/si-dmp-server/v2/services
        default="",
        metadata=rule("an https:// URL", lambda url: not url or url.startswith("https://")),
    )
    ca: str = field(default="", metadata=_CERTIFICATE)
    auth_cert: str = field(default="", metadata=_CERTIFICATE)
    auth_key: str = field(default="", metadata=_CERTIFICATE)
    sign_cert: str = field(default="", metadata=_CERTIFICATE)
    sign_key: str = field(default="", metadata=_CERTIFICATE)
    structure_id: str = ""  # Identifiant_Structure: 3 + FINESS
    deadline: float = field(  # TOML allows nan and inf: neither is a deadline
        default=10.0, metadata=rule("a number of seconds above 0", lambda s: 0 < s < math.inf)
    )

    def require(self) -> None:
        """Raise ConfigError naming the first key a DMP call cannot do without."""
        for key in ("endpoint", *self.CERTIFICATE_KEYS):
            if not getattr(self, key):
                raise ConfigError(f"[dmp] {key} is not set")
        if not self.structure_id:
            raise ConfigError("[dmp] structure_id is not set (3 followed by the FINESS number)")


DmpConfig.CERTIFICATE_KEYS = tuple(
    item.name for item in fields(DmpConfig) if item.metadata.get("certificate")
)


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    """Where the remuneration ledger lives; its keys sit in the same directory."""

    RETIRED: ClassVar[Mapping[str, str]] = {
        "retention_years": "nothing is ever deleted from the ledger",
    }

    path: str = field(default="/var/lib/kiosk/ledger.db", metadata=PATH)
    kiosk_id: str = ""  # default: kiosk-<hostname>

    def kiosk_name(self) -> str:
        return self.kiosk_id or f"kiosk-{socket.gethostname()}"


@dataclass(frozen=True, slots=True)
class KioskConfig:
    """The site: the pharmacy's name on receipts, the pharmacist code (as a hash written
    by ``kiosk provision``), where receipts are spooled, the first language."""

    pharmacy_name: str = ""
    pharmacist_code_hash: str = field(  # scrypt$n$r$p$salt$hash (core.pharmacist_code)
        default="", metadata=rule(_CODE_HASH, lambda text: not text or _valid_code_hash(text))
    )
    spool: str = field(default="/var/lib/kiosk/receipts", metadata=PATH)
    exchange: str = field(  # the admin's payment files in, exports out (a USB key)
        default="/media/kiosk", metadata=PATH
    )
    language: str = field(default="fr", metadata=rule('"fr" or "en"', LANGUAGES.__contains__))
    # inactivity: seconds untouched before "are you still there?", then before the journey
    # ends; speech mode doubles both, "Plus de temps" doubles them again
    idle_warning: int = field(
        default=60, metadata=rule("20 to 600 seconds", lambda s: 20 <= s <= 600)
    )
    idle_grace: int = field(
        default=30, metadata=rule("10 to 300 seconds", lambda s: 10 <= s <= 300)
    )
    # an on-screen key ignores a second press this soon after the first (a shaking hand)
    key_guard_ms: int = field(
        default=300, metadata=rule("0 to 1000 ms", lambda ms: 0 <= ms <= 1000)
    )


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """The ESC/POS ticket printer; ``none`` = receipts are only spooled as PDF."""

    kind: str = field(default="none", metadata=one_of(PRINTER_KINDS))
    host: str = ""  # network: the printer's address, raw TCP (port 9100)
    port: int = field(default=9100, metadata=rule("1 to 65535", lambda port: 0 < port < 65536))
    usb_vendor: int = 0  # usb: idVendor / idProduct as `lsusb` shows them
    usb_product: int = 0
    device: str = field(  # serial: /dev/ttyUSB0; file: a device node such as /dev/usb/lp0
        default="", metadata=PATH
    )
    width: int = field(  # characters per line: 42 on 80 mm paper (font B: 56), 32 on 58 mm
        default=42, metadata=rule("24 to 64 characters per line", lambda width: 24 <= width <= 64)
    )

    def problems(self) -> list[str]:
        """What the printer's kind needs from the other keys (checked by the loader)."""
        problems = []
        if self.kind == "network" and not self.host:
            problems.append("host: a network printer needs its address")
        if self.kind == "usb" and not (self.usb_vendor and self.usb_product):
            problems.append("usb_vendor, usb_product: a USB printer needs both ids")
        if self.kind in ("serial", "file") and not self.device:
            problems.append(f"device: a {self.kind} printer needs its device path")
        return problems


def _alsa_device(name: str) -> bool:
    """An ALSA device name as ``aplay -L`` lists them (``plughw:CARD=Headset,DEV=0``,
    ``default``), or "" for the default output: no spaces, no leading dash."""
    return name == "" or (
        len(name) <= 80 and name.isprintable() and not name.startswith("-")
        and not any(c.isspace() for c in name)
    )  # fmt: skip


ALSA_DEVICE = rule('an ALSA device name (as `aplay -L` lists them), or ""', _alsa_device)


@dataclass(frozen=True, slots=True)
class SpeechConfig:
    """Where speech mode is heard. Names, birth dates, the mobile and the e-mail are said
    only on the headset; on the loudspeaker a neutral phrase stands for them."""

    speaker_device: str = field(default="", metadata=ALSA_DEVICE)  # "" = the default output
    # "" = no headset; "auto" = a USB sound card in /proc/asound/cards is a headset on
    # the default output; else the headset's own ALSA device (a second output)
    headset_device: str = field(default="", metadata=ALSA_DEVICE)

    def problems(self) -> list[str]:
        """The two outputs must differ (else private data would reach the speaker)."""
        if self.headset_device and self.headset_device == self.speaker_device:
            return ["headset_device: the headset must be another output than speaker_device"]
        if self.headset_device == "auto" and self.speaker_device:
            return ['headset_device: "auto" is a headset on the default output, which '
                    "speaker_device replaces: name the headset's device instead"]  # fmt: skip
        return []


@dataclass(frozen=True, slots=True)
class Config:
    readers: ReadersConfig = field(default_factory=ReadersConfig)
    dmp: DmpConfig = field(default_factory=DmpConfig)
    ledger: LedgerConfig = field(default_factory=LedgerConfig)
    kiosk: KioskConfig = field(default_factory=KioskConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    source: str = "(defaults)"  # the file read; set by the loader, not a key


def loopback_host(url: str) -> tuple[str, bool]:
    """The URL's host, and whether it is this machine (``localhost`` or a loopback IP):
    where only a sandbox may answer."""
    host = urlsplit(url).hostname or ""
    try:
        return host, host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host, False


def parse_config(
    data: dict[str, Any], source: str = "(config)", base: Path | None = None
) -> Config:
    """``base``: the directory relative paths are read from."""
    config = parse(Config, data, base=base, given={"source": source})
    if isinstance(config, list):
        raise ConfigError.listing(source, config)
    return config


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
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (TOML is UTF-8)") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_config(data, str(path), path.parent)
