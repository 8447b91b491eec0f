"""What the DMP transactions take and give back, as typed values. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class DmpState(IntEnum):
    """TD0.2 status codes [V]."""

    EXISTS = 1
    CLOSED = 2
    NOT_FOUND = 3
    ERROR = 4


@dataclass(frozen=True, slots=True)
class PatientTraits:
    """Vitale data sent to TD0.0 to obtain the certified identity (INS)."""

    holder_nir: str
    beneficiary_nir: str | None
    last_name: str
    first_name: str
    birth_date: str  # raw YYYYMMDD from the card, lunar dates included
    birth_rank: int
    quality: str


@dataclass(frozen=True, slots=True)
class CertifiedIdentity:
    """TD0.0 answer. ``session_id`` ties it to the journey that obtained it."""

    ins: str
    last_name: str
    first_name: str
    birth_date: str
    session_id: str = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class DmpStatus:
    state: DmpState
    authorized: bool  # whether this pharmacy already has access to the DMP


@dataclass(frozen=True, slots=True)
class Consent:
    """The patient's choices, collected on screen and attested by the pharmacist."""

    consent: bool
    bris_de_glace_allowed: bool = True  # ticked by default [V EX_1.1-1050]
    centre15_allowed: bool = True


@dataclass(frozen=True, slots=True)
class Guardian:
    """Legal representative declared for a minor."""

    last_name: str = field(repr=False)
    first_name: str = field(repr=False)
    role: str  # "mere", "pere", "tuteur" [A]
    birth_date: str = field(default="", repr=False)  # raw YYYYMMDD: the service checks an
    # adult declares


@dataclass(frozen=True, slots=True)
class Contact:
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Created:
    created_at: str  # UTC ISO 8601 from the service


@dataclass(frozen=True, slots=True)
class WebAccess:
    identifier: str
    password: str = field(repr=False)  # printed on paper only, never logged

    def __str__(self) -> str:
        return f"WebAccess(identifier={self.identifier!r}, password=<hidden>)"


@dataclass(frozen=True, slots=True)
class Practitioner:
    """The pharmacist the CPS authenticated: the VIHF's subject."""

    national_id: str
    profession: str  # "21" = pharmacien
    cnop_section: str  # "A" titulaire, "DA" adjoint
    last_name: str = ""
    first_name: str = ""

    @property
    def rpps(self) -> str:
        """The RPPS: a PS national id of an RPPS-registered professional is ``8`` + RPPS
        [V]; any other national id is given as it is."""
        nid = self.national_id
        return nid[1:] if len(nid) == 12 and nid.startswith("8") else nid
