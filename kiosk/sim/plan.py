"""A JOURNEY plan for the autopilot (docs/architecture.md §3), read and checked without
Kivy, so a bad plan is reported before any window opens: every unknown key, wrong type or
value at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kiosk.config import LANGUAGES
from kiosk.config_schema import JsonFileError, one_of, parse, read_json, rule
from kiosk.core.flow import GUARDIAN_ROLES, TEXT_SIZES
from kiosk.sim.errors import SimulationError

__all__ = ["AutopilotError", "Plan"]


class AutopilotError(SimulationError):
    pass


@dataclass
class Plan:
    beneficiary: int = field(default=0, metadata=rule("an index, 0 or above", lambda i: i >= 0))
    consent: bool = True
    bris_de_glace: bool = True
    centre15: bool = True
    mobile: str | None = None
    email: str | None = None
    pharmacist_code: str = ""
    guardian: str = field(default="mere", metadata=one_of(GUARDIAN_ROLES))
    # the adult on the card who declares the role for a minor (None: the first adult)
    representative: int | None = field(
        default=None, metadata=rule("an index, 0 or above", lambda i: i is None or i >= 0)
    )
    reactivate: bool = True
    language: str = field(default="fr", metadata=one_of(LANGUAGES))
    cps_pin: str | None = None
    # speech mode, switched on as a patient would (a long press), every control then
    # tapped twice (the first touch says it); what is said goes to <shots>/speech.jsonl
    speech: bool = False
    text_size: str = field(default="normal", metadata=one_of(TEXT_SIZES))  # the header's "Aa"
    # seconds the autopilot blocks the Kivy loop on the end screen: the watchdog's test
    freeze_ui: float = field(default=0.0, metadata=rule("0 to 60 seconds", lambda s: 0 <= s <= 60))

    @classmethod
    def load(cls, path: Path) -> Plan:
        try:
            data = read_json(path)
        except JsonFileError as exc:
            raise AutopilotError(f"{path}: not a journey plan ({exc})") from None
        if not isinstance(data, dict):
            raise AutopilotError(f"{path}: a journey plan is a JSON object")
        plan = parse(cls, data)
        if isinstance(plan, list):
            raise AutopilotError(f"{path}: {'; '.join(plan)}")
        return plan
