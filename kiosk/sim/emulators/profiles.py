"""Build an emulated card from a profile file (docs/architecture.md §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.hardware.cards import (
    cps_from_profile,
    profile_kind,
    read_profile,
    vitale_from_profile,
)
from kiosk.sim.emulators.cps_emulator import CpsEmulator
from kiosk.sim.emulators.emulated_card import EmulatedCard
from kiosk.sim.emulators.vitale_emulator import VitaleEmulator


def emulator_for(profile: dict[str, Any]) -> EmulatedCard:
    if profile_kind(profile) == "vitale":
        return VitaleEmulator(vitale_from_profile(profile))
    card, pin = cps_from_profile(profile)
    return CpsEmulator(card, pin)


def load_emulator(path: Path) -> EmulatedCard:
    return emulator_for(read_profile(path))
