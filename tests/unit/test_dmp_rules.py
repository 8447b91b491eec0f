"""Input rules checked before anything is sent; error messages never repeat the input."""

from __future__ import annotations

import pytest

from kiosk.dmp.models import Consent, Contact
from kiosk.dmp.rules import check_consent, check_contact, check_email, check_mobile
from kiosk.dmp.service_errors import DmpError, DmpInputError
from kiosk.ui.i18n import render


def assert_private(error: DmpError, *values: str) -> None:
    patient = render(error.problem, "fr")
    shown = " ".join([str(error), repr(error), error.message, patient, error.fix])
    for value in values:
        stripped = value.strip()
        if len(stripped) >= 3:
            assert stripped not in shown


@pytest.mark.parametrize(
    ("mobile", "normalized"),
    [
        ("0612345678", "0612345678"),
        ("06 12 34 56 78", "0612345678"),
        ("+33 6 12 34 56 78", "0612345678"),
        ("+33612345678", "0612345678"),
        ("07.12.34.56.78", "0712345678"),
        ("07-12-34-56-78", "0712345678"),
        (" 06 12 34 56 78 ", "0612345678"),
    ],
)
def test_mobile_accepted(mobile: str, normalized: str) -> None:
    assert check_mobile(mobile) == normalized


@pytest.mark.parametrize(
    "mobile",
    [
        "0512345678",  # landline-ish prefix
        "0112345678",
        "061234567",  # 9 digits
        "06123456789",  # 11 digits
        "abc",
        "",
        "   ",
        "+44 6 12 34 56 78",
        "0033 6 12 34 56 78",
        "+33 06 12 34 56 78",
        "06 12 34 56 7a",
        "٠٦١٢٣٤٥٦٧٨",  # Arabic-Indic digits are not ASCII digits
        "06/12/34/56/78",
        "0612345678\x00",
    ],
)
def test_mobile_refused_without_echoing_it(mobile: str) -> None:
    with pytest.raises(DmpInputError) as caught:
        check_mobile(mobile)
    assert_private(caught.value, mobile, mobile.replace(" ", ""))


LONGEST = "a" * 60 + "@" + "x" * 190 + ".fr"  # 254 characters: the limit


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("jeanne.martin@example.fr", "jeanne.martin@example.fr"),
        ("a@b.co", "a@b.co"),
        ("x+tag@mail.example.com", "x+tag@mail.example.com"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a-b_c@sub-domain.example.fr", "a-b_c@sub-domain.example.fr"),
        ("  jeanne@example.fr  ", "jeanne@example.fr"),
        ("Jeanne.MARTIN@Example.FR", "Jeanne.MARTIN@Example.FR"),
        (LONGEST, LONGEST),
    ],
)
def test_email_accepted(email: str, expected: str) -> None:
    assert check_email(email) == expected


@pytest.mark.parametrize(
    "email",
    [
        "jeanne.example.fr",  # no @
        "a@b@example.fr",  # two @
        "jeanne martin@example.fr",  # space
        "jeanne@exa mple.fr",
        ".jeanne@example.fr",  # leading dot
        "jeanne.@example.fr",  # trailing dot in the local part
        "a..b@example.fr",
        "jeanne@example",  # no dot in the domain
        "jeanne@example.fr.",
        "jeanne@.example.fr",
        "jeanne@example..fr",
        "jeanne@-example.fr",
        "@example.fr",
        "jeanne@",
        "",
        "   ",
        "jéanne@example.fr",
        "jeanne@exämple.fr",
        "<jeanne@example.fr>",
        "jeanne@example.fr\nBcc: x@y.fr",
        "a" * 65 + "@example.fr",  # local part over 64
        "a" * 60 + "@" + "x" * 236 + ".fr",  # 300 characters
        LONGEST[:-3] + "x.fr",  # 255 characters
    ],
)
def test_email_refused_without_echoing_it(email: str) -> None:
    with pytest.raises(DmpInputError) as caught:
        check_email(email)
    assert_private(caught.value, email, email.partition("@")[0], email.partition("@")[2])


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        (Contact(mobile="06 12 34 56 78"), Contact(mobile="0612345678")),
        (Contact(email=" a@b.fr "), Contact(email="a@b.fr")),
        (
            Contact(mobile="+33 7 12 34 56 78", email="a@b.fr"),
            Contact(mobile="0712345678", email="a@b.fr"),
        ),
    ],
)
def test_check_contact_normalizes(contact: Contact, expected: Contact) -> None:
    assert check_contact(contact) == expected


@pytest.mark.parametrize(
    "contact",
    [
        Contact(),
        Contact(mobile="0512345678"),
        Contact(mobile="", email=None),
        Contact(mobile="0612345678", email="not-an-email"),
        Contact(mobile="nope", email="a@b.fr"),
    ],
)
def test_check_contact_refused(contact: Contact) -> None:
    with pytest.raises(DmpInputError) as caught:
        check_contact(contact)
    assert_private(caught.value, contact.mobile or "", contact.email or "")


def test_check_contact_needs_one_of_them() -> None:
    with pytest.raises(DmpInputError, match="mobile number or an e-mail"):
        check_contact(Contact())


@pytest.mark.parametrize(
    "consent", [Consent(True), Consent(True, False, False), Consent(True, True, False)]
)
def test_consent_given(consent: Consent) -> None:
    check_consent(consent)


@pytest.mark.parametrize("consent", [Consent(False), Consent(False, False, False)])
def test_consent_refused(consent: Consent) -> None:
    with pytest.raises(DmpInputError) as caught:
        check_consent(consent)
    assert render(caught.value.problem, "fr") == "Une information tapée n'est pas bonne."
    assert "nothing was sent" in caught.value.fix
