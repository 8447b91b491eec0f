"""NIR (French social security number) key rule, Corsica included.

A NIR is 13 characters (sex, year, month, department, commune, order) followed by a
2-digit key: ``97 - (number mod 97)``. Corsican departments ``2A`` and ``2B`` are
replaced by ``19`` and ``18`` for the computation.
"""

from __future__ import annotations

import re

_NIR_RE = re.compile(r"^[1-478][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")


class InvalidNir(ValueError):
    pass


def nir_number(body13: str) -> int:
    if len(body13) != 13:
        raise InvalidNir("a NIR body has 13 characters")
    department = body13[5:7]
    digits = body13[:5] + {"2A": "19", "2B": "18"}.get(department, department) + body13[7:]
    if not digits.isascii() or not digits.isdigit():
        raise InvalidNir("a NIR body is digits, with 2A/2B allowed as department")
    return int(digits)


def nir_key(body13: str) -> int:
    return 97 - nir_number(body13) % 97


def with_key(body13: str) -> str:
    """Complete a 13-character NIR body with its key."""
    return f"{body13}{nir_key(body13):02d}"


def validate_nir(nir: str) -> None:
    """Raise :class:`InvalidNir` (message free of the NIR itself) unless ``nir`` is valid."""
    if not isinstance(nir, str) or not _NIR_RE.fullmatch(nir):
        raise InvalidNir("NIR must be 15 characters: 13 digits (2A/2B for Corsica) + 2-digit key")
    if nir_key(nir[:13]) != int(nir[13:]):
        raise InvalidNir("NIR key does not match the number")


def is_valid_nir(nir: str) -> bool:
    try:
        validate_nir(nir)
    except InvalidNir:
        return False
    return True
