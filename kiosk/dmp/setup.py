"""Build a DmpClient from the config, and the sandbox's ready-made client config."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import DmpConfig
from kiosk.dmp.client import DEFAULT_DEADLINE, DmpClient
from kiosk.dmp.errors import DmpAuthenticationError
from kiosk.dmp.sandbox.pki import PkiPaths, load_pharmacy
from kiosk.dmp.sandbox.server import SandboxServer
from kiosk.dmp.transport import HttpsTransport
from kiosk.dmp.vihf import VihfSigner

CLIENT_CONFIG = "kiosk-dmp.toml"


def client_from_config(dmp: DmpConfig) -> DmpClient:
    dmp.require()
    try:
        signer = VihfSigner.from_files(Path(dmp.sign_key), Path(dmp.sign_cert), dmp.structure_id)
    except (OSError, ValueError) as exc:
        raise DmpAuthenticationError(f"cannot load the VIHF signing certificate: {exc}") from None
    transport = HttpsTransport(Path(dmp.ca), Path(dmp.auth_cert), Path(dmp.auth_key))
    return DmpClient(transport, dmp.endpoint, signer, deadline=dmp.deadline)


def sandbox_client(server: SandboxServer, deadline: float = DEFAULT_DEADLINE) -> DmpClient:
    """A client of a running sandbox, as the pharmacy its PKI was made for."""
    pki = server.pki
    signer = VihfSigner.from_files(pki.sign_key, pki.sign, load_pharmacy(pki.root).structure_id)
    transport = HttpsTransport(pki.ca, pki.auth, pki.auth_key)
    return DmpClient(transport, server.url, signer, deadline=deadline)


def write_client_config(data_dir: Path, url: str) -> Path:
    """A config whose [dmp] section points at this sandbox and its PKI."""
    pki = PkiPaths(data_dir)
    pharmacy = load_pharmacy(data_dir)
    path = data_dir / CLIENT_CONFIG
    path.write_text(
        "# Written by `kiosk dmp sandbox`: a client config for this sandbox.\n"
        "[dmp]\n"
        f'endpoint = "{url}"\n'
        f'ca = "{pki.ca.name}"\n'
        f'auth_cert = "{pki.auth.name}"\n'
        f'auth_key = "{pki.auth_key.name}"\n'
        f'sign_cert = "{pki.sign.name}"\n'
        f'sign_key = "{pki.sign_key.name}"\n'
        f'structure_id = "{pharmacy.structure_id}"\n',
        encoding="utf-8",
    )
    return path
