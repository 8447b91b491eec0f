"""The consent record kept with each act: what was shown and chosen, no patient data.

Kept apart from the ledger so the journey can build one without loading SQLite and
cryptography (the kiosk's start-up imports only what the welcome screen needs).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """What was shown and chosen; no patient data."""

    text_version: str
    text_sha256: str
    consent: bool
    bris_de_glace_allowed: bool
    centre15_allowed: bool
    web_access: bool
    language: str
    attested_by: str  # RPPS of the pharmacist who attested

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
