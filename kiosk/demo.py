"""Demo parts shared by ``kiosk run --demo``: the demo cards and a patient read that
waits for pcscd to notice a freshly inserted card."""

from __future__ import annotations

import time
from pathlib import Path

from kiosk.hardware.cards import CpsCard, VitaleCard
from kiosk.hardware.errors import NoCard
from kiosk.hardware.reading import read_card_typed

CARDS_DIR = Path(__file__).resolve().parent.parent / "config" / "cards"
DEMO_VITALE = CARDS_DIR / "vitale-famille-martin.json"
DEMO_CPS = CARDS_DIR / "cps-dupont-titulaire.json"


def read_when_present(role: str, pin: str | None, timeout: float = 5.0) -> VitaleCard | CpsCard:
    """pcscd notices an inserted card on its next poll: retry "no card" briefly."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return read_card_typed(role, pin)
        except NoCard:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
