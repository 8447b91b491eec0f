"""The demo's cards (``kiosk run --demo``, benchmarks, tests)."""

from __future__ import annotations

from pathlib import Path

CARDS_DIR = Path(__file__).resolve().parent.parent / "config" / "cards"
DEMO_VITALE = CARDS_DIR / "vitale-famille-martin.json"
DEMO_CPS = CARDS_DIR / "cps-dupont-titulaire.json"
