"""What the patient reads before consenting, in French and English.

The consent record in the ledger keeps the text version and the SHA-256 of the exact
text shown, so what a patient agreed to can be proven later. Change the text, change
the version.
"""

from __future__ import annotations

import hashlib

CONSENT_TEXT_VERSION = "2026-11-a"

INFORMATION = {
    "fr": (
        "Le Dossier Médical Partagé (DMP) est votre carnet de santé numérique. "
        "Seuls les professionnels de santé qui vous soignent peuvent le consulter, "
        "avec votre accord. Vous pouvez masquer un document, bloquer un professionnel, "
        "consulter qui a accédé à votre dossier, et le fermer à tout moment. "
        "Vos remboursements des 24 derniers mois y sont ajoutés automatiquement."
    ),
    "en": (
        "The Shared Medical Record (DMP) is your digital health record. Only the health "
        "professionals who treat you can read it, with your agreement. You can hide a "
        "document, block a professional, see who accessed your record, and close it at "
        "any time. Your reimbursements of the last 24 months are added automatically."
    ),
}

CONSENT = {
    "fr": "J'accepte l'ouverture de mon Dossier Médical Partagé.",
    "en": "I agree to the opening of my Shared Medical Record.",
}

BRIS_DE_GLACE = {
    "fr": "En cas d'urgence, un professionnel de santé peut accéder à mon DMP.",
    "en": "In an emergency, a health professional may access my DMP.",
}

CENTRE15 = {
    "fr": "Le médecin régulateur du SAMU-Centre 15 peut accéder à mon DMP.",
    "en": "The SAMU-Centre 15 regulating doctor may access my DMP.",
}

WEB_ACCESS_WARNING = {
    "fr": (
        "En donnant un numéro de mobile ou une adresse e-mail, vous créez votre accès "
        "en ligne au DMP. Votre identifiant et votre mot de passe seront imprimés sur "
        "papier, jamais envoyés ensemble."
    ),
    "en": (
        "Giving a mobile number or an e-mail address creates your online access to the "
        "DMP. Your identifier and password will be printed on paper, never sent together."
    ),
}


def consent_text(language: str) -> str:
    """The full text the patient consents to, as shown."""
    return "\n".join(table[language] for table in (INFORMATION, CONSENT, BRIS_DE_GLACE, CENTRE15))


def consent_text_sha256(language: str) -> str:
    return hashlib.sha256(consent_text(language).encode("utf-8")).hexdigest()
