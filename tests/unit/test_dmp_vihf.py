"""VIHF: the signed SAML assertion carries every attribute the DMP asks for, and verify_vihf accepts
it untouched and refuses (VihfError only) anything missing, edited, foreign, out of its
validity window, replayed or wrapped."""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from kiosk.dmp.models import Practitioner
from kiosk.dmp.vihf import (
    ATTR_PURPOSE,
    ATTR_RESOURCE,
    ATTR_ROLE,
    CNOP_SECTION_SYSTEM,
    NS_DS,
    NS_HL7,
    NS_SAML,
    PROFESSION_SYSTEM,
    VIHF_VERSION,
    ReplayCache,
    Software,
    VihfClaims,
    VihfError,
    VihfSigner,
    verify_vihf,
)
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki, load_pharmacy

INS = "180057512345627"
PHARMACIST = Practitioner("810001234567", "21", "A", "DUPONT", "Claire")
NS = {"saml2": NS_SAML, "ds": NS_DS, "hl7": NS_HL7}
ALGORITHMS = {
    "signature": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "c14n": "http://www.w3.org/2001/10/xml-exc-c14n#",
    "digest": "http://www.w3.org/2001/04/xmlenc#sha256",
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("other-pki"))


@pytest.fixture(scope="module")
def structure_id(pki: PkiPaths) -> str:
    return load_pharmacy(pki.root).structure_id


@pytest.fixture(scope="module")
def signer(pki: PkiPaths, structure_id: str) -> VihfSigner:
    return VihfSigner.from_files(pki.sign_key, pki.sign, structure_id)


def attribute_values(assertion: etree._Element, name: str) -> list[etree._Element]:
    return list(
        assertion.iterfind(
            f"saml2:AttributeStatement/saml2:Attribute[@Name='{name}']/saml2:AttributeValue", NS
        )
    )


def value(assertion: etree._Element, name: str) -> str | None:
    values = attribute_values(assertion, name)
    return values[0].text if values else None


def instant(text: str | None) -> dt.datetime:
    assert text is not None
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def one(node: etree._Element, path: str) -> etree._Element:
    found = node.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    assert len(found) == 1
    assert isinstance(found[0], etree._Element)
    return found[0]


def strings(node: etree._Element, path: str) -> list[str]:
    found = node.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [str(item) for item in found]


# --- what the signer writes ----------------------------------------------------------


def test_assertion_has_every_design_attribute(signer: VihfSigner, structure_id: str) -> None:
    assertion = signer.assertion(PHARMACIST, INS)
    assert assertion.tag == f"{{{NS_SAML}}}Assertion"
    assert assertion.get("Version") == "2.0"
    assert value(assertion, "Identifiant_Structure") == structure_id
    assert (value(assertion, "Secteur_Activite") or "").split("^")[0] == "SA33"
    assert assertion.findtext("saml2:Subject/saml2:NameID", namespaces=NS) == "810001234567"
    roles = [
        (role.get("code"), role.get("codeSystem"))
        for holder in attribute_values(assertion, ATTR_ROLE)
        for role in holder
    ]
    assert ("21", "1.2.250.1.71.1.2.7") in roles
    assert PROFESSION_SYSTEM == "1.2.250.1.71.1.2.7"
    assert ("A", CNOP_SECTION_SYSTEM) in roles
    purposes = [
        p.get("code") for holder in attribute_values(assertion, ATTR_PURPOSE) for p in holder
    ]
    assert purposes == ["normal"]
    assert value(assertion, ATTR_RESOURCE) == f"{INS}^^^&1.2.250.1.213.1.4.8&ISO^NH"
    assert value(assertion, "Authentification_Mode") == "INDIRECTE"
    assert value(assertion, "VIHF_Version") == VIHF_VERSION
    software = Software()
    assert value(assertion, "LPS_ID") == software.lps_id
    assert value(assertion, "LPS_Nom") == software.name
    assert value(assertion, "LPS_Version") == software.version


def test_adjoint_section_is_carried(signer: VihfSigner) -> None:
    adjoint = Practitioner("810009999999", "21", "DA")
    assertion = signer.assertion(adjoint, None)
    codes = {role.get("code") for h in attribute_values(assertion, ATTR_ROLE) for role in h}
    assert codes == {"21", "DA"}


def test_no_resource_id_without_an_ins(signer: VihfSigner, pki: PkiPaths) -> None:
    assertion = signer.assertion(PHARMACIST, None)
    assert attribute_values(assertion, ATTR_RESOURCE) == []
    assert verify_vihf(assertion, pki.ca, ReplayCache()).ins is None


def test_unique_ids_and_short_validity(signer: VihfSigner) -> None:
    assertions = [signer.assertion(PHARMACIST, INS) for _ in range(20)]
    ids = {a.get("ID") for a in assertions}
    assert len(ids) == 20
    for assertion in assertions:
        issued = instant(assertion.get("IssueInstant"))
        conditions = assertion.find("saml2:Conditions", NS)
        assert conditions is not None
        lifetime = instant(conditions.get("NotOnOrAfter")) - issued
        assert dt.timedelta(0) < lifetime <= dt.timedelta(minutes=5)


def test_signature_algorithms_and_reference(signer: VihfSigner) -> None:
    assertion = signer.assertion(PHARMACIST, INS)
    signatures = assertion.findall("ds:Signature", NS)
    assert len(signatures) == 1
    info = signatures[0].find("ds:SignedInfo", NS)
    assert info is not None
    [method] = strings(info, "ds:SignatureMethod/@Algorithm")
    [c14n] = strings(info, "ds:CanonicalizationMethod/@Algorithm")
    [reference] = info.findall("ds:Reference", NS)
    assert (method, c14n) == (ALGORITHMS["signature"], ALGORITHMS["c14n"])
    assert reference.get("URI") == f"#{assertion.get('ID')}"
    transforms = strings(reference, "ds:Transforms/ds:Transform/@Algorithm")
    assert transforms[0] == "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    assert ALGORITHMS["c14n"] in transforms
    assert strings(reference, "ds:DigestMethod/@Algorithm") == [ALGORITHMS["digest"]]
    assert signatures[0].findtext(".//ds:X509Certificate", namespaces=NS)


def test_signer_refuses_a_non_rsa_key(pki: PkiPaths) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(TypeError):
        VihfSigner(key, pki.sign.read_bytes(), "3750012345")


# --- verification ----------------------------------------------------------------------


def test_verify_accepts_and_reads_the_claims(
    signer: VihfSigner, pki: PkiPaths, structure_id: str
) -> None:
    assertion = signer.assertion(PHARMACIST, INS)
    claims = verify_vihf(assertion, pki.ca, ReplayCache(), dt.datetime.now(dt.UTC))
    assert claims == VihfClaims(
        assertion_id=assertion.get("ID", ""),
        structure_id=structure_id,
        practitioner_id="810001234567",
        profession="21",
        cnop_section="A",
        sector="SA33",
        purpose="normal",
        auth_mode="INDIRECTE",
        ins=INS,
        not_on_or_after=claims.not_on_or_after,
        signer_subject=claims.signer_subject,
    )
    assert f"ORG SIGN {structure_id}" in claims.signer_subject


def test_verify_accepts_a_reparsed_copy(signer: VihfSigner, pki: PkiPaths) -> None:
    """What the service sees: the assertion after serialization and parsing."""
    data = etree.tostring(signer.assertion(PHARMACIST, INS))
    assert verify_vihf(etree.fromstring(data), pki.ca).ins == INS


def test_verify_refuses_nothing_and_unsigned(signer: VihfSigner, pki: PkiPaths) -> None:
    with pytest.raises(VihfError, match="no VIHF"):
        verify_vihf(None, pki.ca, ReplayCache())
    assertion = signer.assertion(PHARMACIST, INS)
    signature = assertion.find("ds:Signature", NS)
    assert signature is not None
    assertion.remove(signature)
    with pytest.raises(VihfError, match="not signed"):
        verify_vihf(assertion, pki.ca, ReplayCache())


Edit = Callable[[etree._Element], None]


def set_text(path: str, text: str) -> Edit:
    def edit(assertion: etree._Element) -> None:
        one(assertion, path).text = text

    return edit


def set_attribute(path: str, name: str, new: str) -> Edit:
    def edit(assertion: etree._Element) -> None:
        one(assertion, path).set(name, new)

    return edit


def attr_path(name: str) -> str:
    return f"saml2:AttributeStatement/saml2:Attribute[@Name='{name}']/saml2:AttributeValue"


def remove(path: str) -> Edit:
    def edit(assertion: etree._Element) -> None:
        node = one(assertion, path)
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)

    return edit


def add_attribute(assertion: etree._Element) -> None:
    statement = assertion.find("saml2:AttributeStatement", NS)
    assert statement is not None
    extra = etree.SubElement(statement, f"{{{NS_SAML}}}Attribute", Name="Identifiant_Structure")
    etree.SubElement(extra, f"{{{NS_SAML}}}AttributeValue").text = "3999999999"


LATER = "2099-01-01T00:00:00Z"
EDITS: dict[str, Edit] = {
    "NameID": set_text("saml2:Subject/saml2:NameID", "810009999999"),
    "Identifiant_Structure": set_text(attr_path("Identifiant_Structure"), "3999999999"),
    "resource-id": set_text(
        attr_path(ATTR_RESOURCE), "299999999999999^^^&1.2.250.1.213.1.4.8&ISO^NH"
    ),
    "Secteur_Activite": set_text(attr_path("Secteur_Activite"), "SA01^1.2.250.1.71.4.2.4"),
    "Authentification_Mode": set_text(attr_path("Authentification_Mode"), "DIRECTE"),
    "Issuer": set_text("saml2:Issuer", "3999999999"),
    "NotOnOrAfter": set_attribute("saml2:Conditions", "NotOnOrAfter", LATER),
    "NotBefore": set_attribute("saml2:Conditions", "NotBefore", "2000-01-01T00:00:00Z"),
    "IssueInstant": set_attribute(".", "IssueInstant", LATER),
    "ID": set_attribute(".", "ID", "_other"),
    "profession code": set_attribute(f"{attr_path(ATTR_ROLE)}/hl7:Role[@code='21']", "code", "10"),
    "CNOP section": set_attribute(f"{attr_path(ATTR_ROLE)}/hl7:Role[@code='A']", "code", "DA"),
    "purposeofuse": set_attribute(f"{attr_path(ATTR_PURPOSE)}/hl7:PurposeOfUse", "code", "bris"),
    "remove resource-id": remove(
        f"saml2:AttributeStatement/saml2:Attribute[@Name='{ATTR_RESOURCE}']"
    ),
    "remove Conditions": remove("saml2:Conditions"),
    "extra attribute": add_attribute,
    "DigestValue": set_text(".//ds:DigestValue", base64.b64encode(b"\0" * 32).decode()),
    "SignatureValue": set_text(".//ds:SignatureValue", base64.b64encode(b"\1" * 256).decode()),
    "signature algorithm": set_attribute(
        ".//ds:SignatureMethod", "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    ),
    "garbled certificate": set_text(".//ds:X509Certificate", "QUJD"),
    "non-base64 certificate": set_text(".//ds:X509Certificate", "!!!not base64"),
    "remove KeyInfo": remove(".//ds:KeyInfo"),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_any_edit_after_signing_is_refused(name: str, signer: VihfSigner, pki: PkiPaths) -> None:
    assertion = signer.assertion(PHARMACIST, INS)
    EDITS[name](assertion)
    with pytest.raises(VihfError):
        verify_vihf(etree.fromstring(etree.tostring(assertion)), pki.ca, ReplayCache())


def test_signed_by_another_ca_is_refused(pki: PkiPaths, other_pki: PkiPaths) -> None:
    foreign = VihfSigner.from_files(other_pki.sign_key, other_pki.sign, "3750012345")
    assertion = foreign.assertion(PHARMACIST, INS)
    assert verify_vihf(copy.deepcopy(assertion), other_pki.ca).ins == INS  # valid there
    with pytest.raises(VihfError):
        verify_vihf(assertion, pki.ca, ReplayCache())


def test_our_certificate_with_a_foreign_key_is_refused(pki: PkiPaths, other_pki: PkiPaths) -> None:
    mixed = VihfSigner(other_pki.sign_key.read_bytes(), pki.sign.read_bytes(), "3750012345")
    with pytest.raises(VihfError):
        verify_vihf(mixed.assertion(PHARMACIST, INS), pki.ca, ReplayCache())


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (dt.timedelta(minutes=-10), False),  # not yet valid
        (dt.timedelta(minutes=-1), True),  # within the clock skew
        (dt.timedelta(0), True),
        (dt.timedelta(minutes=4, seconds=59), True),
        (dt.timedelta(minutes=5), False),  # NotOnOrAfter reached
        (dt.timedelta(minutes=10), False),  # expired
    ],
)
def test_validity_window(
    offset: dt.timedelta, accepted: bool, signer: VihfSigner, pki: PkiPaths
) -> None:
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assertion = signer.assertion(PHARMACIST, INS, issued)
    if accepted:
        verify_vihf(assertion, pki.ca, ReplayCache(), issued + offset)
    else:
        with pytest.raises(VihfError, match="expired or not yet valid"):
            verify_vihf(assertion, pki.ca, ReplayCache(), issued + offset)


def test_replay_is_refused(signer: VihfSigner, pki: PkiPaths) -> None:
    replay = ReplayCache()
    assertion = signer.assertion(PHARMACIST, INS)
    verify_vihf(assertion, pki.ca, replay)
    with pytest.raises(VihfError, match="replayed"):
        verify_vihf(assertion, pki.ca, replay)
    verify_vihf(signer.assertion(PHARMACIST, INS), pki.ca, replay)  # a fresh one is fine


def test_replay_cache_forgets_expired_ids() -> None:
    replay = ReplayCache()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    replay.check_and_add("_a", now + dt.timedelta(minutes=5), now)
    with pytest.raises(VihfError):
        replay.check_and_add("_a", now + dt.timedelta(minutes=5), now + dt.timedelta(minutes=1))
    later = now + dt.timedelta(minutes=6)
    replay.check_and_add("_a", later + dt.timedelta(minutes=5), later)  # expired entry purged


# --- signature wrapping ------------------------------------------------------------------


def evil_outer(signed: etree._Element, move_signature: bool, same_id: bool) -> etree._Element:
    """Another Assertion naming someone else, with the genuine signed one inside."""
    inner = copy.deepcopy(signed)
    outer = etree.Element(
        f"{{{NS_SAML}}}Assertion",
        nsmap={"saml2": NS_SAML, "ds": NS_DS},
        ID=signed.get("ID", "") if same_id else "_evil",
        IssueInstant=signed.get("IssueInstant", ""),
        Version="2.0",
    )
    subject = etree.SubElement(outer, f"{{{NS_SAML}}}Subject")
    etree.SubElement(subject, f"{{{NS_SAML}}}NameID").text = "810009999999"
    outer.append(copy.deepcopy(one(signed, "saml2:Conditions")))
    statement = etree.SubElement(outer, f"{{{NS_SAML}}}AttributeStatement")
    for name, text in (
        ("Identifiant_Structure", "3999999999"),
        (ATTR_RESOURCE, "299999999999999^^^&1.2.250.1.213.1.4.8&ISO^NH"),
    ):
        attribute = etree.SubElement(statement, f"{{{NS_SAML}}}Attribute", Name=name)
        etree.SubElement(attribute, f"{{{NS_SAML}}}AttributeValue").text = text
    if move_signature:
        signature = inner.find("ds:Signature", NS)
        assert signature is not None
        inner.remove(signature)
        outer.insert(0, signature)
    outer.append(inner)
    return outer


@pytest.mark.parametrize("same_id", [False, True])
@pytest.mark.parametrize("move_signature", [False, True])
def test_signature_wrapping_never_yields_the_outer_claims(
    move_signature: bool, same_id: bool, signer: VihfSigner, pki: PkiPaths, structure_id: str
) -> None:
    signed = signer.assertion(PHARMACIST, INS)
    wrapped = evil_outer(signed, move_signature, same_id)
    try:
        claims = verify_vihf(etree.fromstring(etree.tostring(wrapped)), pki.ca, ReplayCache())
    except VihfError:
        return
    # Accepted only if the claims are those of the signed subtree.
    assert claims.practitioner_id == PHARMACIST.national_id
    assert claims.structure_id == structure_id
    assert claims.ins == INS
    assert claims.assertion_id == signed.get("ID")


# --- fuzzing: single-byte edits of a signed assertion -------------------------------------


@pytest.fixture(scope="module")
def signed_bytes(signer: VihfSigner) -> bytes:
    return etree.tostring(signer.assertion(PHARMACIST, INS))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_byte_edits_raise_only_vihf_error(
    signed_bytes: bytes, pki: PkiPaths, structure_id: str, data: st.DataObject
) -> None:
    mutated = bytearray(signed_bytes)
    index = data.draw(st.integers(0, len(mutated) - 1))
    mutated[index] = data.draw(st.sampled_from(b'<>/="aZ09 +-_:#\n'))
    try:
        assertion = etree.fromstring(bytes(mutated))
    except etree.XMLSyntaxError:
        return
    try:
        claims = verify_vihf(assertion, pki.ca, ReplayCache())
    except VihfError:
        return
    # Accepted (an edit in the unsigned whitespace of the signature): same claims.
    assert (claims.practitioner_id, claims.structure_id, claims.ins) == (
        PHARMACIST.national_id,
        structure_id,
        INS,
    )
