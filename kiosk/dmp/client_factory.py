"""Build a DmpClient from the ``[dmp]`` section of the config."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import DmpConfig
from kiosk.dmp.client import DmpClient
from kiosk.dmp.service_errors import DmpAuthenticationError
from kiosk.dmp.trace import VihfListener
from kiosk.dmp.transport import HttpsTransport
from kiosk.dmp.vihf import VihfSigner


def client_from_config(dmp: DmpConfig, on_vihf: VihfListener | None = None) -> DmpClient:
    """The client of the ``[dmp]`` section; ``on_vihf`` is told of every VIHF it sends
    (the application keeps them: :func:`kiosk.appliance.wiring.vihf_trace`)."""
    dmp.require()
    try:
        signer = VihfSigner.from_files(Path(dmp.sign_key), Path(dmp.sign_cert), dmp.structure_id)
    except (OSError, ValueError) as exc:
        raise DmpAuthenticationError(f"cannot load the VIHF signing certificate: {exc}") from None
    transport = HttpsTransport(Path(dmp.ca), Path(dmp.auth_cert), Path(dmp.auth_key))
    return DmpClient(transport, dmp.endpoint, signer, deadline=dmp.deadline, on_vihf=on_vihf)
