"""What we read from a card, as typed values, and their JSON profile form (docs/architecture.md §3).

``from_profile`` validates a profile (used by the emulators and the tests) and reports
the first bad field by name; ``to_profile`` gives back the exact JSON shape, which is
also what ``kiosk card read --json`` prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config_schema import JsonFileError, read_json
from kiosk.hardware.nir import InvalidNir, validate_nir

MAX_BENEFICIARIES = 16
CPS_PIN_MAX_TRIES = 3


class ProfileError(ValueError):
    """A card profile is not valid; the message names the field and the expected form."""


@dataclass(frozen=True, slots=True)
class Beneficiary:
    quality: str
    nir: str | None
    last_name: str
    birth_name: str
    first_name: str
    birth_date: str  # raw YYYYMMDD as on the card: may be "lunar" (00 day/month)
    birth_rank: int

    @property
    def is_holder(self) -> bool:
        return self.quality == "0"


@dataclass(frozen=True, slots=True)
class VitaleCard:
    serial: str
    valid_from: str
    holder_nir: str
    regime: str
    caisse: str
    centre: str
    beneficiaries: tuple[Beneficiary, ...]


@dataclass(frozen=True, slots=True)
class CpsCard:
    serial: str
    national_id: str
    rpps: str
    last_name: str
    first_name: str
    profession: str
    cnop_section: str
    valid_until: str
    pin_tries_left: int
    # the structures of the card's "situations d'exercice" (Identifiant_Structure form,
    # e.g. 3 + FINESS); empty when the card names none
    structures: tuple[str, ...] = ()


# --- validation helpers ---------------------------------------------------------


def _digits(value: object, field: str, length: int | tuple[int, int]) -> str:
    low, high = (length, length) if isinstance(length, int) else length
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise ProfileError(f"{field}: expected a string of digits, got {type(value).__name__}")
    if not low <= len(value) <= high:
        span = str(low) if low == high else f"{low} to {high}"
        raise ProfileError(f"{field}: expected {span} digits, got {len(value)}")
    return value


def _text(value: object, field: str, max_len: int = 64) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ProfileError(f"{field}: expected a non-empty text of at most {max_len} characters")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ProfileError(f"{field}: text holds an unpaired surrogate")
    return value


def _nir(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"{field}: expected a 15-character NIR")
    try:
        validate_nir(value)
    except InvalidNir as exc:
        raise ProfileError(f"{field}: {exc}") from None
    return value


def _keys(
    data: object, field: str, expected: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProfileError(f"{field}: expected a JSON object")
    unknown = sorted(set(data) - set(expected) - set(optional))
    if unknown:
        raise ProfileError(f"{field}: unknown key {unknown[0]!r} (expected {', '.join(expected)})")
    missing = [k for k in expected if k not in data]
    if missing:
        raise ProfileError(f"{field}: missing key {missing[0]!r}")
    return data


_BENEFICIARY_KEYS = (
    "quality", "nir", "last_name", "birth_name", "first_name", "birth_date", "birth_rank",
)  # fmt: skip
_VITALE_KEYS = (
    "card", "serial", "valid_from", "holder_nir", "regime", "caisse", "centre", "beneficiaries",
)  # fmt: skip
_CPS_KEYS = (
    "card", "serial", "national_id", "rpps", "last_name", "first_name", "profession",
    "cnop_section", "valid_until", "pin", "pin_tries_left",
)  # fmt: skip
_CPS_OPTIONAL = ("structures",)  # absent: a card that names no structure


def _beneficiary(data: object, field: str) -> Beneficiary:
    d = _keys(data, field, _BENEFICIARY_KEYS)
    rank = d["birth_rank"]
    if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= 9:
        raise ProfileError(f"{field}.birth_rank: expected an integer from 1 to 9")
    return Beneficiary(
        quality=_digits(d["quality"], f"{field}.quality", 1),
        nir=None if d["nir"] is None else _nir(d["nir"], f"{field}.nir"),
        last_name=_text(d["last_name"], f"{field}.last_name"),
        birth_name=_text(d["birth_name"], f"{field}.birth_name"),
        first_name=_text(d["first_name"], f"{field}.first_name"),
        birth_date=_digits(d["birth_date"], f"{field}.birth_date", 8),
        birth_rank=rank,
    )


def vitale_from_profile(data: object) -> VitaleCard:
    d = _keys(data, "profile", _VITALE_KEYS)
    if d["card"] != "vitale":
        raise ProfileError("card: expected 'vitale'")
    beneficiaries = d["beneficiaries"]
    if not isinstance(beneficiaries, list) or len(beneficiaries) > MAX_BENEFICIARIES:
        raise ProfileError(f"beneficiaries: expected a list of at most {MAX_BENEFICIARIES}")
    return VitaleCard(
        serial=_digits(d["serial"], "serial", (1, 20)),
        valid_from=_digits(d["valid_from"], "valid_from", 8),
        holder_nir=_nir(d["holder_nir"], "holder_nir"),
        regime=_digits(d["regime"], "regime", 2),
        caisse=_digits(d["caisse"], "caisse", 3),
        centre=_digits(d["centre"], "centre", 4),
        beneficiaries=tuple(
            _beneficiary(b, f"beneficiaries[{i}]") for i, b in enumerate(beneficiaries)
        ),
    )


def cps_from_profile(data: object) -> tuple[CpsCard, str]:
    """The card and its PIN (the PIN is never part of :class:`CpsCard`)."""
    d = _keys(data, "profile", _CPS_KEYS, _CPS_OPTIONAL)
    structures = d.get("structures", [])
    if not isinstance(structures, list) or len(structures) > 3:
        raise ProfileError("structures: expected a list of at most 3 structure ids")
    if d["card"] != "cps":
        raise ProfileError("card: expected 'cps'")
    tries = d["pin_tries_left"]
    if not isinstance(tries, int) or isinstance(tries, bool) or not 0 <= tries <= 3:
        raise ProfileError("pin_tries_left: expected an integer from 0 to 3")
    section = d["cnop_section"]
    if not isinstance(section, str) or not re.fullmatch(r"[A-H]|D[A-H]", section):
        raise ProfileError("cnop_section: expected a CNOP section such as 'A' or 'DA'")
    card = CpsCard(
        serial=_digits(d["serial"], "serial", (1, 20)),
        national_id=_digits(d["national_id"], "national_id", (8, 12)),
        rpps=_digits(d["rpps"], "rpps", 11),
        last_name=_text(d["last_name"], "last_name"),
        first_name=_text(d["first_name"], "first_name"),
        profession=_digits(d["profession"], "profession", 2),
        cnop_section=section,
        valid_until=_digits(d["valid_until"], "valid_until", 8),
        pin_tries_left=tries,
        structures=tuple(_text(s, f"structures[{i}]", 20) for i, s in enumerate(structures)),
    )
    return card, _digits(d["pin"], "pin", (4, 8))


def read_profile(path: Path) -> dict[str, Any]:
    """A profile file's JSON object; any problem is a :class:`ProfileError`."""
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise ProfileError(f"not a card profile ({exc})") from None
    if not isinstance(data, dict):
        raise ProfileError("a profile is a JSON object")
    return data


def profile_kind(data: object) -> str:
    if not isinstance(data, dict) or data.get("card") not in ("vitale", "cps"):
        raise ProfileError("card: expected 'vitale' or 'cps'")
    return str(data["card"])


def vitale_to_profile(card: VitaleCard) -> dict[str, Any]:
    return {
        "card": "vitale",
        "serial": card.serial,
        "valid_from": card.valid_from,
        "holder_nir": card.holder_nir,
        "regime": card.regime,
        "caisse": card.caisse,
        "centre": card.centre,
        "beneficiaries": [
            {
                "quality": b.quality,
                "nir": b.nir,
                "last_name": b.last_name,
                "birth_name": b.birth_name,
                "first_name": b.first_name,
                "birth_date": b.birth_date,
                "birth_rank": b.birth_rank,
            }
            for b in card.beneficiaries
        ],
    }


def cps_to_profile(card: CpsCard) -> dict[str, Any]:
    """The CPS profile without ``pin``, with the tries left as read from the card."""
    return {
        "card": "cps",
        "serial": card.serial,
        "national_id": card.national_id,
        "rpps": card.rpps,
        "last_name": card.last_name,
        "first_name": card.first_name,
        "profession": card.profession,
        "cnop_section": card.cnop_section,
        "valid_until": card.valid_until,
        "pin_tries_left": card.pin_tries_left,
        **({"structures": list(card.structures)} if card.structures else {}),
    }
