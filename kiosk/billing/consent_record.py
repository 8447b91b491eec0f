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
    language: str  # on screen when consent was ticked: the hashed texts' language
    # The RPPS of the CPS authenticated in the pharmacist's reader when the attestation
    # was made. The attestation itself is the site's pharmacist code (``attestation``):
    # it proves that someone who knows the site code confirmed the consent while that
    # CPS was in the reader, not that its holder typed it (README "What the ledger proves").
    attested_by: str
    attestation: str = "site_code"  # how consent was attested: the site's pharmacist code
    representative_role: str | None = None  # a minor's: mere|pere|tuteur, as declared
    warning_language: str | None = None  # the web-access warning confirmed, in this language

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
