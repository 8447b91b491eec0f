"""A JOURNEY plan for the autopilot (DESIGN §3), read and checked without Kivy, so a bad
plan is reported before any window opens."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kiosk.sim.errors import SimulationError

__all__ = ["AutopilotError", "Plan"]


class AutopilotError(SimulationError):
    pass


@dataclass
class Plan:
    beneficiary: int = 0
    consent: bool = True
    bris_de_glace: bool = True
    centre15: bool = True
    mobile: str | None = None
    email: str | None = None
    pharmacist_code: str = ""
    guardian: str = "mere"
    reactivate: bool = True
    language: str = "fr"
    cps_pin: str | None = None

    @classmethod
    def load(cls, path: Path) -> Plan:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise AutopilotError(f"{path}: not a journey plan ({exc})") from None
        if not isinstance(data, dict):
            raise AutopilotError(f"{path}: a journey plan is a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise AutopilotError(f"{path}: unknown key {unknown[0]!r}")
        return cls(**data)
