"""What ``kiosk run`` checks in its config before any window opens."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import Config, ConfigError


def check_config(config: Config) -> None:
    """What the kiosk cannot run without, named before any window opens."""
    config.dmp.require()
    for key in config.dmp.CERTIFICATE_KEYS:
        path = Path(getattr(config.dmp, key))
        if not path.is_file():
            raise ConfigError(f"{config.source} [dmp] {key}: no such file {path}")
    if not config.kiosk.pharmacist_code_hash:
        raise ConfigError(
            f"{config.source} [kiosk] pharmacist_code_hash is not set (`kiosk provision` sets it)"
        )
