"""The VIHF's subject:role as the service expects it of a pharmacist: the profession
(21, code system 1.2.250.1.71.1.2.7) and the speciality, the section of the Ordre des
pharmaciens (``A`` titulaire, ``DA`` adjoint) in the ANS code system TRE_G05
(1.2.250.1.71.4.2.6); a pharmacist's VIHF without the section is refused."""

from __future__ import annotations

import pytest
from lxml import etree

from kiosk.dmp.models import Practitioner
from kiosk.dmp.vihf import (
    ATTR_ROLE,
    NS_SAML,
    VihfError,
    VihfSigner,
    verify_vihf,
)
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki, load_pharmacy

INS = "180057512345627"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def signer(pki: PkiPaths) -> VihfSigner:
    return VihfSigner.from_files(pki.sign_key, pki.sign, load_pharmacy(pki.root).structure_id)


def roles(assertion: etree._Element) -> list[tuple[str | None, str | None]]:
    path = f"{{{NS_SAML}}}AttributeStatement/{{{NS_SAML}}}Attribute[@Name='{ATTR_ROLE}']"
    return [
        (role.get("codeSystem"), role.get("code"))
        for value in assertion.iterfind(f"{path}/{{{NS_SAML}}}AttributeValue")
        for role in value
    ]


@pytest.mark.parametrize("section", ["A", "DA"])
def test_a_pharmacists_vihf_carries_profession_and_section(
    signer: VihfSigner, pki: PkiPaths, section: str
) -> None:
    assertion = signer.assertion(Practitioner("810001234567", "21", section), INS)
    assert roles(assertion) == [("1.2.250.1.71.1.2.7", "21"), ("1.2.250.1.71.4.2.6", section)]
    claims = verify_vihf(assertion, pki.ca)
    assert (claims.profession, claims.cnop_section) == ("21", section)


def test_a_pharmacists_vihf_without_the_section_is_refused(
    signer: VihfSigner, pki: PkiPaths
) -> None:
    assertion = signer.assertion(Practitioner("810001234567", "21", ""), INS)
    assert roles(assertion) == [("1.2.250.1.71.1.2.7", "21")]  # nothing empty is sent
    with pytest.raises(VihfError, match="pharmacist lacks the CNOP section"):
        verify_vihf(assertion, pki.ca)


def test_another_profession_needs_no_section(signer: VihfSigner, pki: PkiPaths) -> None:
    claims = verify_vihf(signer.assertion(Practitioner("810001234567", "10", ""), INS), pki.ca)
    assert (claims.profession, claims.cnop_section) == ("10", "")
