"""VIHF: the SAML 2.0 assertion that names the pharmacist and the pharmacy on each call.

Signed with the pharmacy's "ORG SIGN" key (enveloped XML-DSig, RSA-SHA256, exclusive
C14N, reference to the assertion's ``ID``), valid for a few minutes, with a unique ID.
An independent implementation must accept it:
``xmlsec1 --verify --pubkey-cert-pem sign.pem --id-attr:ID
urn:oasis:names:tc:SAML:2.0:assertion:Assertion vihf.xml``.

Attributes [V]: Identifiant_Structure, Secteur_Activite SA33, subject
NameID = PS national id, subject:role (profession, code system 1.2.250.1.71.1.2.7, and
for a pharmacist a second value, the speciality: the section of the Ordre des
pharmaciens, ``A`` titulaire, ``DA`` adjoint), purposeofuse ``normal``, resource-id = INS
``^^^&1.2.250.1.213.1.4.8&ISO^NH``, Authentification_Mode ``INDIRECTE``, VIHF_Version,
LPS_ID / LPS_Nom / LPS_Version.
"""

from __future__ import annotations

import base64
import datetime as dt
import heapq
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import methods
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, VerifyResult, XMLVerifier

from kiosk.dmp.models import Practitioner

NS_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
NS_HL7 = "urn:hl7-org:v3"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

VIHF_VERSION = "3.0"
SECTOR_PHARMACY = "SA33"
PROFESSION_SYSTEM = "1.2.250.1.71.1.2.7"
# [V] the ANS terminology TRE_G05-SousSectionTableauCNOP (urn:oid:1.2.250.1.71.4.2.6:
# A "Pharmacien titulaire d'officine", DA "Pharmacien adjoint"…); [A] that the DMP's
# VIHF carries the pharmacist's speciality role in exactly this code system (the public
# homologation notes say only that it carries one beside the profession).
CNOP_SECTION_SYSTEM = "1.2.250.1.71.4.2.6"
PHARMACIST = "21"  # profession code (TRE_G15) of a pharmacist
PURPOSE_SYSTEM = "1.2.250.1.213.1.1.4.248"
INS_OID = "1.2.250.1.213.1.4.8"
VALIDITY = dt.timedelta(minutes=5)
CLOCK_SKEW = dt.timedelta(seconds=60)

ATTR_ROLE = "urn:oasis:names:tc:xspa:1.0:subject:role"
ATTR_PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
ATTR_RESOURCE = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"


class VihfError(ValueError):
    """The assertion is missing, unsigned, tampered, expired, replayed or incomplete."""


@dataclass(frozen=True, slots=True)
class Software:
    lps_id: str = "BORNE-DMP"
    name: str = "Borne DMP"
    version: str = "0.1.0"


@dataclass(frozen=True, slots=True)
class VihfClaims:
    assertion_id: str
    structure_id: str
    practitioner_id: str
    profession: str
    cnop_section: str  # "" for a profession without one (any pharmacist has one)
    sector: str
    purpose: str
    auth_mode: str
    ins: str | None
    not_on_or_after: dt.datetime
    signer_subject: str


def resource_id(ins: str) -> str:
    return f"{ins}^^^&{INS_OID}&ISO^NH"


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class VihfSigner:
    """Builds and signs one fresh assertion per call; thread-safe."""

    def __init__(
        self,
        key_pem: bytes,
        cert_pem: bytes,
        structure_id: str,
        software: Software | None = None,
        validity: dt.timedelta = VALIDITY,
    ) -> None:
        # Parsed once: loading a PEM RSA key costs ~30 ms (key checks), signing ~1 ms.
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("the VIHF signing key must be an RSA key")
        self._key = key
        self._cert = [x509.load_pem_x509_certificate(cert_pem)]
        self.structure_id = structure_id
        self.software = software or Software()
        self.validity = validity
        self._lock = threading.Lock()
        self._signer = XMLSigner(
            method=methods.enveloped,
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=EXC_C14N,
        )

    @classmethod
    def from_files(cls, key: Path, cert: Path, structure_id: str) -> VihfSigner:
        return cls(key.read_bytes(), cert.read_bytes(), structure_id)

    def assertion(
        self, practitioner: Practitioner, ins: str | None, now: dt.datetime | None = None
    ) -> etree._Element:
        now = now or dt.datetime.now(dt.UTC)
        assertion_id = f"_{uuid.uuid4().hex}"
        root = etree.Element(
            _q(NS_SAML, "Assertion"),
            nsmap={"saml2": NS_SAML, "ds": NS_DS},
            ID=assertion_id,
            IssueInstant=_iso(now),
            Version="2.0",
        )
        issuer = etree.SubElement(root, _q(NS_SAML, "Issuer"))
        issuer.text = self.structure_id
        etree.SubElement(root, _q(NS_DS, "Signature"), Id="placeholder")
        subject = etree.SubElement(root, _q(NS_SAML, "Subject"))
        etree.SubElement(subject, _q(NS_SAML, "NameID")).text = practitioner.national_id
        etree.SubElement(
            root,
            _q(NS_SAML, "Conditions"),
            NotBefore=_iso(now - CLOCK_SKEW),
            NotOnOrAfter=_iso(now + self.validity),
        )
        authn = etree.SubElement(root, _q(NS_SAML, "AuthnStatement"), AuthnInstant=_iso(now))
        context = etree.SubElement(authn, _q(NS_SAML, "AuthnContext"))
        etree.SubElement(
            context, _q(NS_SAML, "AuthnContextClassRef")
        ).text = "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
        statement = etree.SubElement(root, _q(NS_SAML, "AttributeStatement"))

        def attribute(name: str, *values: str | etree._Element) -> None:
            element = etree.SubElement(statement, _q(NS_SAML, "Attribute"), Name=name)
            for value in values:
                holder = etree.SubElement(element, _q(NS_SAML, "AttributeValue"))
                if isinstance(value, str):
                    holder.text = value
                else:
                    holder.append(value)

        def coded(tag: str, code: str, system: str) -> etree._Element:
            return etree.Element(
                _q(NS_HL7, tag),
                {_q(NS_XSI, "type"): "CE", "code": code, "codeSystem": system},
                nsmap={None: NS_HL7, "xsi": NS_XSI},  # type: ignore[dict-item]
            )

        attribute("VIHF_Version", VIHF_VERSION)
        attribute("Identifiant_Structure", self.structure_id)
        attribute("Secteur_Activite", f"{SECTOR_PHARMACY}^1.2.250.1.71.4.2.4")
        roles = [coded("Role", practitioner.profession, PROFESSION_SYSTEM)]
        if practitioner.cnop_section:  # a pharmacist's speciality role
            roles.append(coded("Role", practitioner.cnop_section, CNOP_SECTION_SYSTEM))
        attribute(ATTR_ROLE, *roles)
        attribute(ATTR_PURPOSE, coded("PurposeOfUse", "normal", PURPOSE_SYSTEM))
        if ins is not None:
            attribute(ATTR_RESOURCE, resource_id(ins))
        attribute("Authentification_Mode", "INDIRECTE")
        attribute("LPS_ID", self.software.lps_id)
        attribute("LPS_Nom", self.software.name)
        attribute("LPS_Version", self.software.version)
        with self._lock:  # XMLSigner keeps per-call state
            signed: etree._Element = self._signer.sign(
                root, key=self._key, cert=self._cert, reference_uri=assertion_id
            )
        return signed


# --- verification (the sandbox side, and our own tests) ------------------------------


class ReplayCache:
    """Assertion IDs seen while still valid: a replayed VIHF is refused."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._expiry: list[tuple[dt.datetime, str]] = []  # heap: pruning costs O(log n)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_add(self, assertion_id: str, expires: dt.datetime, now: dt.datetime) -> None:
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                self._seen.discard(heapq.heappop(self._expiry)[1])
            if assertion_id in self._seen:
                raise VihfError("VIHF replayed: this assertion ID was already used")
            self._seen.add(assertion_id)
            heapq.heappush(self._expiry, (expires, assertion_id))


def _attributes(assertion: etree._Element) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for attr in assertion.iterfind(f"{{{NS_SAML}}}AttributeStatement/{{{NS_SAML}}}Attribute"):
        found.setdefault(attr.get("Name", ""), []).extend(
            attr.iterfind(f"{{{NS_SAML}}}AttributeValue")
        )
    return found


def _value(attrs: dict[str, list[etree._Element]], name: str, required: bool = True) -> str:
    values = attrs.get(name, [])
    if not values or not (values[0].text or "").strip():
        if required:
            raise VihfError(f"VIHF attribute {name} is missing")
        return ""
    return (values[0].text or "").strip()


def _time(value: str | None, what: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(value or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise VihfError(f"VIHF {what} is not a UTC timestamp") from None


def _signing_cert(signature: etree._Element | None) -> x509.Certificate:
    text = signature.findtext(f".//{{{NS_DS}}}X509Certificate") if signature is not None else None
    if not text:
        raise VihfError("the VIHF signature carries no certificate")
    return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))


_EXPECT = SignatureConfiguration(
    signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
    expect_references=1,
)


def verify_vihf(
    assertion: etree._Element | None,
    ca_pem_file: Path,
    replay: ReplayCache | None = None,
    now: dt.datetime | None = None,
) -> VihfClaims:
    """Check signature (certificate from our CA), validity window, replay; read claims
    only from the signed subtree (no signature-wrapping tricks)."""
    if assertion is None:
        raise VihfError("no VIHF assertion in the WS-Security header")
    if assertion.find(f"{{{NS_DS}}}Signature") is None:
        raise VihfError("the VIHF assertion is not signed")
    try:
        result = XMLVerifier().verify(
            etree.tostring(assertion), ca_pem_file=str(ca_pem_file), expect_config=_EXPECT
        )
    except (
        SignXMLException,
        etree.LxmlError,
        ValueError,
        x509.InvalidVersion,
        UnsupportedAlgorithm,
    ) as exc:
        # signxml lets lxml schema/C14N errors and cryptography's errors on a garbled
        # certificate through: they are invalid signatures too, not crashes.
        raise VihfError(f"VIHF signature invalid: {exc}") from None
    if not isinstance(result, VerifyResult):
        raise VihfError("the VIHF must carry exactly one signature")
    signed = result.signed_xml
    if signed is None or signed.tag != _q(NS_SAML, "Assertion"):
        raise VihfError("the signature does not cover the assertion")
    now = now or dt.datetime.now(dt.UTC)
    conditions = signed.find(f"{{{NS_SAML}}}Conditions")
    if conditions is None:
        raise VihfError("VIHF has no validity window")
    not_before = _time(conditions.get("NotBefore"), "NotBefore")
    not_after = _time(conditions.get("NotOnOrAfter"), "NotOnOrAfter")
    if now < not_before - CLOCK_SKEW or now >= not_after:
        raise VihfError("VIHF expired or not yet valid")
    if not_after - not_before > VALIDITY + 2 * CLOCK_SKEW:
        raise VihfError("VIHF validity window too long")
    assertion_id = signed.get("ID", "")
    if replay is not None:
        replay.check_and_add(assertion_id, not_after, now)
    attrs = _attributes(signed)
    roles = attrs.get(ATTR_ROLE, [])
    codes = [(child.get("codeSystem"), child.get("code")) for v in roles for child in v]
    profession = next((c for s, c in codes if s == PROFESSION_SYSTEM), None)
    section = next((c for s, c in codes if s == CNOP_SECTION_SYSTEM), None) or ""
    if not profession:
        raise VihfError("VIHF subject:role lacks the profession")
    if profession == PHARMACIST and not section:
        # as the service does: a pharmacist's VIHF carries the speciality role too
        raise VihfError("VIHF subject:role of a pharmacist lacks the CNOP section")
    purposes = [child.get("code") for v in attrs.get(ATTR_PURPOSE, []) for child in v]
    resource = _value(attrs, ATTR_RESOURCE, required=False)
    ins = None
    if resource:
        ins, _, rest = resource.partition("^^^")
        if rest != f"&{INS_OID}&ISO^NH":
            raise VihfError("VIHF resource-id is not an INS")
    name_id = signed.findtext(f"{{{NS_SAML}}}Subject/{{{NS_SAML}}}NameID") or ""
    if not name_id.strip():
        raise VihfError("VIHF subject has no NameID")
    signer = _signing_cert(result.signature_xml)
    return VihfClaims(
        assertion_id=assertion_id,
        structure_id=_value(attrs, "Identifiant_Structure"),
        practitioner_id=name_id.strip(),
        profession=profession,
        cnop_section=section,
        sector=_value(attrs, "Secteur_Activite").split("^")[0],
        purpose=purposes[0] if purposes and purposes[0] else "",
        auth_mode=_value(attrs, "Authentification_Mode"),
        ins=ins,
        not_on_or_after=not_after,
        signer_subject=signer.subject.rfc4514_string(),
    )
