"""Clients of a running sandbox: a ready-made client, and the config file pointing at it."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import DmpConfig
from kiosk.dmp.client import DEFAULT_DEADLINE, DmpClient
from kiosk.dmp.client_factory import client_from_config
from kiosk.sim.sandbox.pki import PkiPaths, load_pharmacy
from kiosk.sim.sandbox.server import SandboxServer

CLIENT_CONFIG = "kiosk-dmp.toml"


def sandbox_client(server: SandboxServer, deadline: float = DEFAULT_DEADLINE) -> DmpClient:
    """A client of a running sandbox, as the pharmacy its PKI was made for: the kiosk's
    own client, from the config a kiosk would have."""
    pki = server.pki
    return client_from_config(
        DmpConfig(
            endpoint=server.url, ca=str(pki.ca), auth_cert=str(pki.auth),
            auth_key=str(pki.auth_key), sign_cert=str(pki.sign), sign_key=str(pki.sign_key),
            structure_id=load_pharmacy(pki.root).structure_id, deadline=deadline,
        )
    )  # fmt: skip


def dmp_section(data_dir: Path, url: str, relative: bool = True) -> str:
    """A config's [dmp] section for this sandbox and its PKI: certificate paths relative
    to ``data_dir`` (a config written there), or absolute."""
    pki = PkiPaths(data_dir)

    def where(path: Path) -> str:
        return path.name if relative else str(path.resolve())

    return (
        "[dmp]\n"
        f'endpoint = "{url}"\n'
        f'ca = "{where(pki.ca)}"\n'
        f'auth_cert = "{where(pki.auth)}"\n'
        f'auth_key = "{where(pki.auth_key)}"\n'
        f'sign_cert = "{where(pki.sign)}"\n'
        f'sign_key = "{where(pki.sign_key)}"\n'
        f'structure_id = "{load_pharmacy(data_dir).structure_id}"\n'
    )


def write_client_config(data_dir: Path, url: str) -> Path:
    """A config whose [dmp] section points at this sandbox and its PKI."""
    path = data_dir / CLIENT_CONFIG
    path.write_text(
        "# Written by `kiosk dmp sandbox`: a client config for this sandbox; what\n"
        "# `kiosk dmp create` opens is recorded in the ledger beside it.\n"
        + dmp_section(data_dir, url)
        + '\n[ledger]\npath = "ledger.db"\nkiosk_id = "kiosk-sandbox"\n',
        encoding="utf-8",
    )
    return path
