"""Input rules checked before anything is sent to the DMP service. Pure."""

from __future__ import annotations

import re

from kiosk.dmp.models import Consent, Contact
from kiosk.dmp.service_errors import DmpInputError

_MOBILE = re.compile(r"0[67][0-9]{8}")
# Pragmatic e-mail syntax: one @, no spaces, a dot in the domain, no leading/trailing dot.
_EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_MAX_EMAIL = 254


def normalize_mobile(mobile: str) -> str:
    """Strip spaces, dots and dashes; ``+33 6…`` becomes ``06…``."""
    digits = re.sub(r"[\s.\-]", "", mobile)
    if digits.startswith("+33"):
        digits = "0" + digits[3:]
    return digits


def check_mobile(mobile: str) -> str:
    normalized = normalize_mobile(mobile)
    if not _MOBILE.fullmatch(normalized):
        raise DmpInputError("mobile number must be 10 digits starting with 06 or 07")
    return normalized


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > _MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise DmpInputError("e-mail address is not valid")
    local, _, domain = email.partition("@")
    if local.startswith(".") or local.endswith(".") or ".." in email or domain.startswith("-"):
        raise DmpInputError("e-mail address is not valid")
    return email


def check_contact(contact: Contact) -> Contact:
    if contact.mobile is None and contact.email is None:
        raise DmpInputError("web access needs a mobile number or an e-mail address")
    return Contact(
        mobile=check_mobile(contact.mobile) if contact.mobile is not None else None,
        email=check_email(contact.email) if contact.email is not None else None,
    )


def check_consent(consent: Consent) -> None:
    if consent.consent is not True:
        raise DmpInputError("the patient's consent is required to open or reactivate a DMP")
