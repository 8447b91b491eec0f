"""From what the cards hold to what the DMP transactions take. Pure."""

from __future__ import annotations

from kiosk.dmp.models import PatientTraits, Practitioner
from kiosk.hardware.cards import CpsCard, VitaleCard


def traits_from_vitale(card: VitaleCard, index: int) -> PatientTraits:
    if not 0 <= index < len(card.beneficiaries):
        raise IndexError(f"the card has {len(card.beneficiaries)} beneficiaries")
    b = card.beneficiaries[index]
    return PatientTraits(
        holder_nir=card.holder_nir,
        beneficiary_nir=b.nir,
        last_name=b.last_name,
        first_name=b.first_name,
        birth_date=b.birth_date,
        birth_rank=b.birth_rank,
        quality=b.quality,
    )


def practitioner_from_cps(card: CpsCard) -> Practitioner:
    return Practitioner(
        national_id=card.national_id,
        profession=card.profession,
        cnop_section=card.cnop_section,
        last_name=card.last_name,
        first_name=card.first_name,
    )
