"""The demo's data, shipped inside the package (so an installed wheel can run the demo):
card profiles (``cards/``: two families, a single holder, two pharmacists) and autopilot
journeys (``journeys/``)."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
CARDS_DIR = DATA_DIR / "cards"
JOURNEYS_DIR = DATA_DIR / "journeys"
DEMO_VITALE = CARDS_DIR / "vitale-famille-martin.json"
DEMO_CPS = CARDS_DIR / "cps-dupont-titulaire.json"
DEFAULT_PLAN = JOURNEYS_DIR / "holder-creates.json"
