"""Load and validate the kiosk's TOML config into frozen dataclasses.

A wrong or unknown key is reported with its name, the expected form and, for a typo,
the closest known key. Only the sections implemented so far exist; each later part of
the product adds its own section here.
"""

from __future__ import annotations

import difflib
import os
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
class Config:
    readers: ReadersConfig = field(default_factory=ReadersConfig)
    source: str = "(defaults)"


_SECTIONS: dict[str, dict[str, type]] = {
    "readers": {"patient": str, "professional": str},
}


def _unknown(key: str, known: list[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
    return ConfigError(f"{where}: unknown key {key!r}{hint}")


def _section(data: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    schema = _SECTIONS[name]
    for key, value in raw.items():
        if key not in schema:
            raise _unknown(key, sorted(schema), f"{source} [{name}]")
        expected = schema[key]
        if not isinstance(value, expected):
            raise ConfigError(
                f"{source} [{name}] {key}: expected a {expected.__name__}, "
                f"got {type(value).__name__}"
            )
    return raw


def parse_config(data: dict[str, Any], source: str = "(config)") -> Config:
    for key in data:
        if key not in _SECTIONS:
            raise _unknown(key, sorted(_SECTIONS), source)
    readers = ReadersConfig(**_section(data, "readers", source))
    return Config(readers=readers, source=source)


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
    return parse_config(data, str(path))
