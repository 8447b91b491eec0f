"""What the patient's receipt says, once, for every medium that prints it.

The PDF (``receipt.py``, fpdf2) and the ESC/POS ticket (``ticket.py``) lay out the same
``ReceiptContent``; only the layout differs. Patient-facing text is French, with English
when the journey ran in English. No fpdf, no escpos, no Kivy here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from kiosk.dmp.models import WebAccess

PARIS = ZoneInfo("Europe/Paris")

TITLES = {
    "created": {"fr": "Accusé de création de votre DMP", "en": "Your DMP has been opened"},
    "reactivated": {"fr": "Réactivation de votre DMP", "en": "Your DMP has been reactivated"},
}

NEXT_STEPS = {
    "fr": "Votre Dossier Médical Partagé est ouvert. Vous pouvez le consulter sur "
    "www.monespacesante.fr et le fermer à tout moment.",
    "en": "Your Shared Medical Record is open. You can read it on www.monespacesante.fr "
    "and close it at any time.",
}

ACCESS_HEADING = {"fr": "Vos codes d'accès en ligne", "en": "Your online access"}
IDENTIFIER_LABEL = "Identifiant / Identifier"
PASSWORD_LABEL = "Mot de passe provisoire / Provisional password"  # noqa: S105 - a label
ACCESS_ADVICE = {
    "fr": "Gardez ce papier en lieu sûr. Vous changerez ce mot de passe à la première connexion.",
    "en": "Keep this paper safe. You will change the password when you first log in.",
}


@dataclass(frozen=True, slots=True)
class AccessBlock:
    """The web-access secrets as printed: on paper only [V EX_GEN-1470]."""

    heading: str
    identifier: str
    password: str = field(repr=False)
    advice: str
    identifier_label: str = IDENTIFIER_LABEL
    password_label: str = PASSWORD_LABEL


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    title: str
    pharmacy: str
    when: str  # Europe/Paris, dd/mm/YYYY HH:MM
    next_steps: str
    access: AccessBlock | None = field(default=None, repr=False)


def paper_language(language: str) -> str:
    """English when the journey ran in English, French otherwise."""
    return "en" if language == "en" else "fr"


def receipt_content(
    outcome: str,
    language: str,
    pharmacy: str,
    web_access: WebAccess | None,
    now: dt.datetime,
) -> ReceiptContent:
    """The receipt's text; ``now`` is an aware datetime, shown in Europe/Paris."""
    lang = paper_language(language)
    access = None
    if web_access is not None:
        access = AccessBlock(
            heading=ACCESS_HEADING[lang],
            identifier=web_access.identifier,
            password=web_access.password,
            advice=ACCESS_ADVICE[lang],
        )
    return ReceiptContent(
        title=TITLES.get(outcome, TITLES["created"])[lang],
        pharmacy=pharmacy,
        when=now.astimezone(PARIS).strftime("%d/%m/%Y %H:%M"),
        next_steps=NEXT_STEPS[lang],
        access=access,
    )
