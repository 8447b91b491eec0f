"""Build a DmpClient from the ``[dmp]`` section of the config."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import DmpConfig
from kiosk.dmp.client import DmpClient
from kiosk.dmp.service_errors import DmpAuthenticationError
from kiosk.dmp.transport import HttpsTransport
from kiosk.dmp.vihf import VihfSigner


def client_from_config(dmp: DmpConfig) -> DmpClient:
    dmp.require()
    try:
        signer = VihfSigner.from_files(Path(dmp.sign_key), Path(dmp.sign_cert), dmp.structure_id)
    except (OSError, ValueError) as exc:
        raise DmpAuthenticationError(f"cannot load the VIHF signing certificate: {exc}") from None
    transport = HttpsTransport(Path(dmp.ca), Path(dmp.auth_cert), Path(dmp.auth_key))
    return DmpClient(transport, dmp.endpoint, signer, deadline=dmp.deadline)
