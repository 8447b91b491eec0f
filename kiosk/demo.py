"""Demo mode: emulated cards through the real PC/SC stack.

Until the touchscreen journey lands, the demo inserts the demo Vitale in vpcd slot 0
and the demo CPS in slot 1, reads both exactly as the kiosk will (role by ATR, PIN
verified once), pulls them, and returns what was read.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from kiosk.hardware.emulators.profiles import load_emulator, read_profile
from kiosk.hardware.emulators.vpcd import VpcdCard, slot_port
from kiosk.hardware.pcscd import ensure_pcscd
from kiosk.hardware.reading import read_card

CARDS_DIR = Path(__file__).resolve().parent.parent / "config" / "cards"
DEMO_VITALE = CARDS_DIR / "vitale-famille-martin.json"
DEMO_CPS = CARDS_DIR / "cps-dupont-titulaire.json"


def run_card_demo(vitale: Path = DEMO_VITALE, cps: Path = DEMO_CPS) -> dict[str, Any]:
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
    return {
        "demo": "cards",
        "pcscd": "started" if daemon.started_here else "reused",
        "patient_card": patient,
        "professional_card": professional,
        "read_ms": elapsed_ms,
    }


def _read_when_present(role: str, pin: str | None, timeout: float = 5.0) -> dict[str, Any]:
    """pcscd notices an inserted card on its next poll: retry "no card" briefly."""
    from kiosk.hardware.errors import NoCard

    deadline = time.monotonic() + timeout
    while True:
        try:
            return read_card(role, pin)
        except NoCard:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
