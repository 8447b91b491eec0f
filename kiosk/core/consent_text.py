"""What the patient reads before consenting, in French and English.

The consent record in the ledger keeps the text version and the SHA-256 of the exact
texts shown [V EX_1.1-1010], so what a patient agreed to can be proven later: the
information and consent screens in the language on screen when consent was ticked, the
legal representative's declaration for a minor, and the web-access warning (in the
language it was confirmed in) when a contact was given. The screens display these very
tables, so the hash is of what was on screen. Change a text, change the version.
"""

from __future__ import annotations

import hashlib

CONSENT_TEXT_VERSION = "2026-12-a"  # -a: the hash covers the declaration and the warning

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


# The declaration shown on the consent screen when the DMP is a minor's, by role.
REPRESENTATIVE = {
    "fr": {
        "mere": "Je suis sa mère, sa représentante légale. Je donne cet accord pour l'enfant.",
        "pere": "Je suis son père, son représentant légal. Je donne cet accord pour l'enfant.",
        "tuteur": "Je suis son tuteur ou sa tutrice légale. Je donne cet accord pour l'enfant.",
    },
    "en": {
        "mere": "I am the child's mother and legal representative. I agree for the child.",
        "pere": "I am the child's father and legal representative. I agree for the child.",
        "tuteur": "I am the child's legal guardian. I agree for the child.",
    },
}


def shown(table: dict[str, str], language: str) -> str:
    """A table's text as a screen shows it (French for a language it lacks)."""
    return table.get(language, table["fr"])


def declaration(role: str, language: str) -> str:
    roles = REPRESENTATIVE.get(language, REPRESENTATIVE["fr"])
    return roles.get(role, "")


def consent_text(
    language: str, representative_role: str | None = None, warning_language: str | None = None
) -> str:
    """Everything the patient was shown and agreed to, in the order of the screens:
    information, consent (the representative's declaration first for a minor, then the
    three boxes), and the web-access warning when a contact was given
    (``warning_language`` set)."""
    parts = [shown(INFORMATION, language)]
    if representative_role is not None:
        parts.append(declaration(representative_role, language))
    parts += [shown(table, language) for table in (CONSENT, BRIS_DE_GLACE, CENTRE15)]
    if warning_language is not None:
        parts.append(shown(WEB_ACCESS_WARNING, warning_language))
    return "\n".join(parts)


def consent_text_sha256(
    language: str, representative_role: str | None = None, warning_language: str | None = None
) -> str:
    text = consent_text(language, representative_role, warning_language)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
