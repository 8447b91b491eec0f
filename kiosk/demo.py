"""Demo mode: emulated cards through the real PC/SC stack, and the local DMP sandbox.

Until the touchscreen journey lands, the demo inserts the demo Vitale in vpcd slot 0
and the demo CPS in slot 1, reads both exactly as the kiosk will (role by ATR, PIN
verified once), then opens the holder's DMP against a sandbox DMP service started on
loopback (mutual TLS, signed VIHF), and returns what happened. No INS is printed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from kiosk.dmp.client import DmpClient
from kiosk.dmp.models import Consent
from kiosk.dmp.sandbox.pki import load_pharmacy
from kiosk.dmp.sandbox.server import SandboxServer
from kiosk.dmp.traits import practitioner_from_cps, traits_from_vitale
from kiosk.dmp.transport import HttpsTransport
from kiosk.dmp.vihf import VihfSigner
from kiosk.hardware.cards import (
    CpsCard,
    VitaleCard,
    cps_to_profile,
    vitale_to_profile,
)
from kiosk.hardware.emulators.profiles import load_emulator, read_profile
from kiosk.hardware.emulators.vpcd import VpcdCard, slot_port
from kiosk.hardware.errors import NoCard, WrongCard
from kiosk.hardware.pcscd import ensure_pcscd
from kiosk.hardware.reading import read_card_typed

CARDS_DIR = Path(__file__).resolve().parent.parent / "config" / "cards"
DEMO_VITALE = CARDS_DIR / "vitale-famille-martin.json"
DEMO_CPS = CARDS_DIR / "cps-dupont-titulaire.json"


def run_demo(vitale: Path = DEMO_VITALE, cps: Path = DEMO_CPS) -> dict[str, Any]:
    pin = str(read_profile(cps)["pin"])
    daemon = ensure_pcscd()
    try:
        with (
            VpcdCard(load_emulator(vitale), slot_port(0)),
            VpcdCard(load_emulator(cps), slot_port(1)),
        ):
            started = time.monotonic()
            patient = _read_when_present("patient", None)
            professional = _read_when_present("professional", pin)
            elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    finally:
        daemon.stop()
    if not isinstance(patient, VitaleCard) or not isinstance(professional, CpsCard):
        raise WrongCard("the demo cards are not in the readers they should be in")
    return {
        "demo": "cards+dmp",
        "pcscd": "started" if daemon.started_here else "reused",
        "patient_card": vitale_to_profile(patient),
        "professional_card": cps_to_profile(professional),
        "read_ms": elapsed_ms,
        "dmp": open_holder_dmp(patient, professional),
    }


def open_holder_dmp(patient: VitaleCard, professional: CpsCard) -> dict[str, Any]:
    """TD0.0, TD0.2, TD1.1, TD0.2 for the card holder against a fresh sandbox."""
    with tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp:
        data = Path(tmp)
        server = SandboxServer(data, port=0).start()
        try:
            pki = server.pki
            signer = VihfSigner.from_files(pki.sign_key, pki.sign, load_pharmacy(data).structure_id)
            client = DmpClient(HttpsTransport(pki.ca, pki.auth, pki.auth_key), server.url, signer)
            session = client.session(practitioner_from_cps(professional))
            started = time.monotonic()
            identity = session.certified_identity(traits_from_vitale(patient, 0))
            before = session.status(identity).state
            outcome = session.create_or_resolve(identity, Consent(consent=True))
            after = session.status(identity)
            elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        finally:
            server.shutdown()
            server.server_close()
    return {
        "sandbox": server.url,
        "status_before": before.name.lower(),
        "created": outcome.created,
        "status_after": after.state.name.lower(),
        "authorized_after": after.authorized,
        "dmp_ms": elapsed_ms,
    }


def _read_when_present(role: str, pin: str | None, timeout: float = 5.0) -> VitaleCard | CpsCard:
    """pcscd notices an inserted card on its next poll: retry "no card" briefly."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read_card_typed(role, pin)
        except NoCard:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
