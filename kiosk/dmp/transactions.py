"""Body messages of the DMP transactions, for both ends (client and sandbox). Pure.

[A] The real HL7v3 templates sit in a non-public integration guide. These mirror the
public field lists (docs/architecture.md §3) in our own namespace; the client only goes through
:class:`Transaction` objects, so the official templates can replace this module
without touching the journey.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from kiosk.dmp.models import (
    CertifiedIdentity,
    Consent,
    Contact,
    Created,
    DmpState,
    DmpStatus,
    Guardian,
    PatientTraits,
    WebAccess,
)
from kiosk.dmp.service_errors import DmpInputError

NS = "urn:borne-dmp:dmp:v1"
SERVICE_PATIENTS = "patients"
SERVICE_CERTIF = "patientCertif"


# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class MessageError(ValueError):
    """A body element lacks a field or holds a value of the wrong form."""


@dataclass(frozen=True, slots=True)
class Transaction:
    code: str  # TD0.0 …
    operation: str  # identity|status|create|reactivate|web_access (fault injection names)
    service: str  # sub-service path
    request: str  # body element names
    response: str
    safe_to_retry: bool

    @property
    def action(self) -> str:
        return f"{NS}:{self.code}"


IDENTITY = Transaction(
    "TD0.0", "identity", SERVICE_CERTIF, "IdentityRequest", "IdentityResponse", True
)
STATUS = Transaction("TD0.2", "status", SERVICE_PATIENTS, "StatusRequest", "StatusResponse", True)
CREATE = Transaction("TD1.1", "create", SERVICE_PATIENTS, "CreateRequest", "CreateResponse", False)
REACTIVATE = Transaction(
    "TD1.2", "reactivate", SERVICE_PATIENTS, "ReactivateRequest", "ReactivateResponse", False
)
WEB_ACCESS = Transaction(
    "TD1.5a", "web_access", SERVICE_PATIENTS, "WebAccessRequest", "WebAccessResponse", False
)
TRANSACTIONS = {t.action: t for t in (IDENTITY, STATUS, CREATE, REACTIVATE, WEB_ACCESS)}
OPERATIONS = tuple(t.operation for t in TRANSACTIONS.values())


# --- generic helpers -----------------------------------------------------------------


def element(name: str, **fields: str | bool | int | etree._Element | None) -> etree._Element:
    """``<dmp:name><dmp:field>value</dmp:field>…</dmp:name>``; None fields are left out."""
    root = etree.Element(f"{{{NS}}}{name}", nsmap={"dmp": NS})
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, etree._Element):
            root.append(value)
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if _NOT_XML.search(text):
            # Control characters cannot travel in XML 1.0; real cards never hold them.
            raise DmpInputError(f"{name}: {key} holds characters that cannot be sent")
        etree.SubElement(root, f"{{{NS}}}{key}").text = text
    return root


class Reader:
    """Typed access to the children of a body element; raises MessageError only."""

    def __init__(self, body: etree._Element, name: str) -> None:
        if body.tag != f"{{{NS}}}{name}":
            raise MessageError(f"expected {name}, got {etree.QName(body).localname}")
        self.body, self.name = body, name

    def text(
        self, field: str, required: bool = True, max_len: int = 256, exact: bool = False
    ) -> str | None:
        """The field's text, stripped of XML indentation; ``exact``: as sent, spaces
        included (a patient's strict traits go on unaltered [V EX_GEN-1265])."""
        child = self.body.find(f"{{{NS}}}{field}")
        raw = None if child is None else (child.text or "")
        value = None if raw is None else (raw if exact and raw.strip() else raw.strip())
        if not value:
            if required:
                raise MessageError(f"{self.name}: {field} is missing")
            return None
        if len(value) > max_len:
            raise MessageError(f"{self.name}: {field} is too long")
        return value

    def required(self, field: str, max_len: int = 256, exact: bool = False) -> str:
        value = self.text(field, max_len=max_len, exact=exact)
        assert value is not None  # text() raised otherwise
        return value

    def flag(self, field: str) -> bool:
        value = self.required(field)
        if value not in ("true", "false"):
            raise MessageError(f"{self.name}: {field} must be true or false")
        return value == "true"

    def number(self, field: str) -> int:
        value = self.required(field)
        if not value.isascii() or not value.isdigit() or len(value) > 9:
            raise MessageError(f"{self.name}: {field} must be a number")
        return int(value)

    def child(self, field: str) -> etree._Element | None:
        return self.body.find(f"{{{NS}}}{field}")


# --- TD0.0 certified identity --------------------------------------------------------


def identity_request(traits: PatientTraits) -> etree._Element:
    return element(
        IDENTITY.request,
        holderNir=traits.holder_nir,
        beneficiaryNir=traits.beneficiary_nir,
        lastName=traits.last_name,
        firstName=traits.first_name,
        birthDate=traits.birth_date,
        birthRank=traits.birth_rank,
        quality=traits.quality,
    )


def read_identity_request(body: etree._Element) -> PatientTraits:
    r = Reader(body, IDENTITY.request)
    return PatientTraits(
        holder_nir=r.required("holderNir"),
        beneficiary_nir=r.text("beneficiaryNir", required=False),
        last_name=r.required("lastName", exact=True),
        first_name=r.required("firstName", exact=True),
        birth_date=r.required("birthDate", exact=True),
        birth_rank=r.number("birthRank"),
        quality=r.required("quality"),
    )


def identity_response(ins: str, traits: PatientTraits) -> etree._Element:
    return element(
        IDENTITY.response,
        ins=ins,
        lastName=traits.last_name,
        firstName=traits.first_name,
        birthDate=traits.birth_date,
    )


def read_identity_response(body: etree._Element, session_id: str) -> CertifiedIdentity:
    r = Reader(body, IDENTITY.response)
    ins = r.required("ins")
    if len(ins) != 15 or not ins.isascii() or not ins.isalnum():
        raise MessageError("IdentityResponse: ins is not a 15-character INS")
    return CertifiedIdentity(
        ins=ins,
        # the names and birth date TD1.1 will carry: exactly as the card gave them
        last_name=r.required("lastName", exact=True),
        first_name=r.required("firstName", exact=True),
        birth_date=r.required("birthDate", exact=True),
        session_id=session_id,
    )


# --- TD0.2 status --------------------------------------------------------------------


def status_request(ins: str) -> etree._Element:
    return element(STATUS.request, ins=ins)


def read_ins_request(body: etree._Element, name: str) -> str:
    return Reader(body, name).required("ins")


def status_response(status: DmpStatus) -> etree._Element:
    return element(STATUS.response, status=int(status.state), authorized=status.authorized)


def read_status_response(body: etree._Element) -> DmpStatus:
    r = Reader(body, STATUS.response)
    code = r.number("status")
    try:
        state = DmpState(code)
    except ValueError:
        raise MessageError(f"StatusResponse: unknown status code {code}") from None
    return DmpStatus(state=state, authorized=r.flag("authorized"))


# --- TD1.1 create / TD1.2 reactivate ---------------------------------------------------


def _guardian(guardian: Guardian | None) -> etree._Element | None:
    if guardian is None:
        return None
    node = element(
        "guardian",
        lastName=guardian.last_name,
        firstName=guardian.first_name,
        role=guardian.role,
        birthDate=guardian.birth_date or None,
    )
    node.tag = f"{{{NS}}}guardian"
    return node


def create_request(
    identity: CertifiedIdentity, consent: Consent, guardian: Guardian | None
) -> etree._Element:
    return element(
        CREATE.request,
        ins=identity.ins,
        lastName=identity.last_name,
        firstName=identity.first_name,
        birthDate=identity.birth_date,
        consent=consent.consent,
        brisDeGlaceAllowed=consent.bris_de_glace_allowed,
        centre15Allowed=consent.centre15_allowed,
        guardian=_guardian(guardian),
    )


@dataclass(frozen=True, slots=True)
class CreateCall:
    """What a TD1.1 (or TD1.2) carries: the INS, the patient's choices, the representative."""

    ins: str
    consent: Consent
    guardian: Guardian | None
    birth_date: str | None = None  # the patient's (TD1.1 only)


ReactivateCall = CreateCall  # TD1.2 carries what TD1.1 does but the name and birth date


def _read_opening(r: Reader) -> CreateCall:
    node = r.child("guardian")
    guardian = None
    if node is not None:
        g = Reader(node, "guardian")
        guardian = Guardian(
            g.required("lastName"),
            g.required("firstName"),
            g.required("role"),
            g.text("birthDate", required=False) or "",
        )
    return CreateCall(
        ins=r.required("ins"),
        consent=Consent(r.flag("consent"), r.flag("brisDeGlaceAllowed"), r.flag("centre15Allowed")),
        guardian=guardian,
        birth_date=r.text("birthDate", required=False),
    )


def read_create_request(body: etree._Element) -> CreateCall:
    return _read_opening(Reader(body, CREATE.request))


def reactivate_request(
    identity: CertifiedIdentity, consent: Consent, guardian: Guardian | None = None
) -> etree._Element:
    """TD1.2 with the consent screen's choices and the legal representative, as TD1.1."""
    return element(
        REACTIVATE.request,
        ins=identity.ins,
        consent=consent.consent,
        brisDeGlaceAllowed=consent.bris_de_glace_allowed,
        centre15Allowed=consent.centre15_allowed,
        guardian=_guardian(guardian),
    )


def read_reactivate_request(body: etree._Element) -> ReactivateCall:
    return _read_opening(Reader(body, REACTIVATE.request))


def created_response(transaction: Transaction, created_at: str) -> etree._Element:
    return element(transaction.response, createdAt=created_at)


def read_created_response(body: etree._Element, transaction: Transaction) -> Created:
    return Created(created_at=Reader(body, transaction.response).required("createdAt"))


# --- TD1.5a web access -----------------------------------------------------------------


def web_access_request(identity: CertifiedIdentity, contact: Contact) -> etree._Element:
    return element(WEB_ACCESS.request, ins=identity.ins, mobile=contact.mobile, email=contact.email)


def read_web_access_request(body: etree._Element) -> tuple[str, Contact]:
    r = Reader(body, WEB_ACCESS.request)
    return r.required("ins"), Contact(r.text("mobile", False), r.text("email", False))


def web_access_response(access: WebAccess) -> etree._Element:
    return element(WEB_ACCESS.response, identifier=access.identifier, password=access.password)


def read_web_access_response(body: etree._Element) -> WebAccess:
    r = Reader(body, WEB_ACCESS.response)
    return WebAccess(identifier=r.required("identifier"), password=r.required("password"))
