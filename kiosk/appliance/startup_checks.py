"""What ``kiosk run`` checks in its config before any window opens."""

from __future__ import annotations

import stat
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
    check_spool(config)


def check_spool(config: Config) -> None:
    """The receipts' spool holds PDFs with the web-access identifier and password: a
    directory the group or others may enter or list is refused (the kiosk creates it 0700
    when it is absent; install.sh makes it so)."""
    spool = Path(config.kiosk.spool)
    try:
        found = spool.stat()
    except FileNotFoundError:
        return  # created 0700 with the first receipt
    except OSError as exc:
        raise ConfigError(
            f"{config.source} [kiosk] spool: {spool} cannot be read ({type(exc).__name__})"
        ) from None
    if not stat.S_ISDIR(found.st_mode):
        raise ConfigError(f"{config.source} [kiosk] spool: {spool} is not a directory")
    mode = stat.S_IMODE(found.st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"{config.source} [kiosk] spool: {spool} is open to others (mode {mode:04o}); its "
            f"receipts carry web-access passwords: `chmod 700 {spool}`"
        )
