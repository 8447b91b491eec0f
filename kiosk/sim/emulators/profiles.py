"""Build an emulated card from a profile file (docs/architecture.md §3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kiosk.hardware.cards import (
    ProfileError,
    cps_from_profile,
    profile_kind,
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


def read_profile(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError("no such profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read the profile ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise ProfileError("a profile is a JSON object")
    return data


def load_emulator(path: Path) -> EmulatedCard:
    return emulator_for(read_profile(path))
