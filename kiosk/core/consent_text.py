"""What the patient reads before consenting, in French and English.

The consent record in the ledger keeps the text version and the SHA-256 of the exact
texts shown [V EX_1.1-1010], so what a patient agreed to can be proven later: the
information and consent screens in the language on screen when consent was ticked, the
legal representative's declaration for a minor, and the web-access warning (in the
language it was confirmed in) when a contact was given. The screens display these very
tables, so the hash is of what was on screen. Change a text, change the version.
"""

from __future__ import annotations

# -a: the hash covers the declaration and the warning; -b: every text rewritten in plain
# language, for a 12-year-old reader (issue 13 item 6), the meaning unchanged.
CONSENT_TEXT_VERSION = "2026-12-b"

INFORMATION = {
    "fr": (
        "Le DMP (Dossier Médical Partagé) est votre carnet de santé sur Internet. "
        "Seuls les soignants qui s'occupent de vous (médecin, infirmier, pharmacien…) "
        "peuvent le lire, si vous êtes d'accord. Vous pouvez cacher un document. "
        "Vous pouvez bloquer un soignant. Vous pouvez voir qui a lu votre dossier. "
        "Vous pouvez le fermer quand vous voulez. "
        "Vos remboursements des 24 derniers mois y sont ajoutés tout seuls."
    ),
    "en": (
        "The DMP (Shared Medical Record) is your health record on the Internet. Only the "
        "health workers who care for you (doctor, nurse, pharmacist…) can read it, and "
        "only if you agree. You can hide a document. You can block a health worker. You "
        "can see who read your record. You can close it at any time. What the health "
        "insurance paid back for your care in the last 24 months is added to it for you."
    ),
}

CONSENT = {
    "fr": "J'accepte qu'on ouvre mon DMP.",
    "en": "I agree that my DMP will be opened.",
}

BRIS_DE_GLACE = {
    "fr": "En cas d'urgence, un soignant peut lire mon DMP.",
    "en": "In an emergency, a health worker may read my DMP.",
}

# The regulating doctor of the SAMU-Centre 15: the doctor who answers a call to the 15.
CENTRE15 = {
    "fr": "Si on appelle le 15 (SAMU) pour moi, le médecin qui répond peut lire mon DMP.",
    "en": "If someone calls 15 (SAMU) for me, the doctor who answers may read my DMP.",
}

WEB_ACCESS_WARNING = {
    "fr": (
        "Si vous donnez un mobile ou un e-mail, vous créez votre accès au DMP sur "
        "Internet. Votre identifiant et votre mot de passe seront imprimés sur papier. "
        "Ils ne seront jamais envoyés ensemble."
    ),
    "en": (
        "If you give a mobile number or an e-mail, you create your online access to the "
        "DMP. Your user name and password will be printed on paper. They will never be "
        "sent together."
    ),
}


# The declaration shown on the consent screen when the DMP is a minor's, by role: the
# adult declares being the child's legal representative (a parent or a legal guardian).
REPRESENTATIVE = {
    "fr": {
        "mere": "Je suis sa mère, son parent légal. Je donne cet accord pour l'enfant.",
        "pere": "Je suis son père, son parent légal. Je donne cet accord pour l'enfant.",
        "tuteur": "Je suis son tuteur ou sa tutrice légale. Je donne cet accord pour l'enfant.",
    },
    "en": {
        "mere": "I am the child's mother, a legal parent. I agree for the child.",
        "pere": "I am the child's father, a legal parent. I agree for the child.",
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
    import hashlib  # here: the consent screen's module loads before the kiosk's first frame

    text = consent_text(language, representative_role, warning_language)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
