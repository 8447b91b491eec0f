"""``config``: the config file read, every problem named, the keys a kiosk needs set, and
readable by the service user (doctor reads it as root; root:kiosk 0640 is the install's)."""

from __future__ import annotations

from pathlib import Path

from kiosk.appliance.doctor.access import READ, denied, name_of_group, service_user
from kiosk.appliance.doctor.report import Check, Name, fail, ok
from kiosk.config import DEFAULT_PATHS, Config, ConfigError, load_config

EXAMPLE = "config/kiosk.example.toml"


def load(path: Path | None) -> tuple[Config | None, Check]:
    """The config (None when it cannot be used at all) and its check."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return None, fail(  # the message names the file and every problem
            Name.CONFIG,
            str(exc),
            f"edit the config: each problem names its key and the expected form ({EXAMPLE})",
        )
    if config.source == "(defaults)":
        where = " or ".join(str(p) for p in DEFAULT_PATHS)
        return None, fail(
            Name.CONFIG,
            f"no config file ({where}, $KIOSK_CONFIG or --config)",
            "run `kiosk provision` to write /etc/kiosk/kiosk.toml",
        )
    missing = missing_keys(config)
    if missing:
        return config, fail(
            Name.CONFIG,
            f"{config.source}: not set: {', '.join(missing)}",
            f"set them in {config.source} (`kiosk provision` writes them; see {EXAMPLE})",
        )
    user = service_user()
    refused = denied(Path(config.source), user, READ) if user is not None else None
    if user is not None and refused is not None:
        group = name_of_group(user.pw_gid)
        return config, fail(
            Name.CONFIG,
            f"valid, but the service cannot read it: {refused}",
            f"`chown root:{group} {config.source}` and `chmod 0640 {config.source}`",
        )
    return config, ok(Name.CONFIG, f"{config.source}: valid, every key the kiosk needs is set")


def missing_keys(config: Config) -> list[str]:
    """What ``kiosk run`` cannot do without, all of it (``startup_checks`` stops at the
    first)."""
    dmp = config.dmp
    missing = [
        f"[dmp] {key}"
        for key in ("endpoint", *dmp.CERTIFICATE_KEYS, "structure_id")
        if not getattr(dmp, key)
    ]
    if not config.kiosk.pharmacist_code_hash:
        missing.append("[kiosk] pharmacist_code_hash")
    return missing
