"""What the patient's receipt says, once, for every medium that prints it.

The PDF (``receipt.py``, fpdf2) and the ESC/POS ticket (``ticket_layout.py``) lay out the
same ``ReceiptContent``, in the same order; only the layout differs. Patient-facing text
is French, or English when the journey ran in English [EX_1.X-1320: for whom, when,
where, by whom, the choices made, how to see and manage the DMP]. No fpdf, no escpos, no
Kivy here.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from kiosk.documents.facts import ReceiptFacts

PARIS = ZoneInfo("Europe/Paris")
SPACE_URL = "https://www.monespacesante.fr"  # the QR code's target

# -- the texts: French first, then English ----------------------------------------------

TITLES = {
    "created": {"fr": "Accusé de création de votre DMP", "en": "Your DMP has been opened"},
    "reactivated": {"fr": "Réactivation de votre DMP", "en": "Your DMP has been reactivated"},
}
LEADS = {
    "created": {
        "fr": "Votre Dossier Médical Partagé (DMP) est ouvert. Il garde vos documents de "
        "santé, pour les soignants qui s'occupent de vous.",
        "en": "Your Shared Medical Record (DMP) is open. It keeps your health documents for "
        "the carers who look after you.",
    },
    "reactivated": {
        "fr": "Votre Dossier Médical Partagé (DMP) est de nouveau ouvert. Il garde vos "
        "documents de santé, pour les soignants qui s'occupent de vous.",
        "en": "Your Shared Medical Record (DMP) is open again. It keeps your health "
        "documents for the carers who look after you.",
    },
}
SEPARATOR = {"fr": " : ", "en": ": "}
PERSON_LABELS = {
    "fr": {"for": "Pour", "born": "Date de naissance", "guardian": "Parent ou tuteur"},
    "en": {"for": "For", "born": "Date of birth", "guardian": "Parent or guardian"},
}
ROLES = {
    "fr": {"mere": "mère", "pere": "père", "tuteur": "tuteur/tutrice"},
    "en": {"mere": "mother", "pere": "father", "tuteur": "guardian"},
}
UNKNOWN_DATE = {"fr": "inconnue", "en": "unknown"}
VISIT_LABELS = {
    "fr": {"when": "Date", "pharmacy": "Pharmacie", "pharmacist": "Pharmacien·ne"},
    "en": {"when": "Date", "pharmacy": "Pharmacy", "pharmacist": "Pharmacist"},
}
AT = {"fr": "à", "en": "at"}
HANDED_OVER = {
    "fr": "Ce document vous est remis par votre pharmacien·ne.",
    "en": "Your pharmacist hands you this document.",
}
CHOICES_HEADING = {"fr": "Vos choix", "en": "Your choices"}
CHOICE_LABELS = {
    "fr": {
        "bris_de_glace": "Ouverture en cas d'urgence (bris de glace)",
        "centre15": "Lecture par le médecin du SAMU-Centre\u00a015",
        "web": "Accès en ligne demandé",
    },
    "en": {
        "bris_de_glace": "Opening in an emergency (break-the-glass)",
        "centre15": "Reading by the SAMU-Centre\u00a015 doctor",
        "web": "Online access requested",
    },
}
YES_NO = {"fr": ("oui", "non"), "en": ("yes", "no")}
# asked for, but no codes on this paper (TD1.5a failed, or the patient had left)
ACCESS_NOT_MADE = {
    "fr": "oui, mais pas créé ici : activez-le sur www.monespacesante.fr",
    "en": "yes, but not made here: activate it on www.monespacesante.fr",
}
ACCESS_HEADING = {"fr": "Vos codes d'accès en ligne", "en": "Your online access"}
IDENTIFIER_LABEL = "Identifiant / Identifier"
PASSWORD_LABEL = "Mot de passe provisoire / Provisional password"  # noqa: S105 - a label
ACCESS_ADVICE = {
    "fr": "Gardez ce papier en lieu sûr. Vous changerez ce mot de passe à la première connexion.",
    "en": "Keep this paper safe. You will change the password when you first log in.",
}
MANAGE_HEADING = {"fr": "Voir et gérer votre DMP", "en": "See and manage your DMP"}
MANAGE_INTRO = {
    "fr": "Sur www.monespacesante.fr (ou avec le code), vous pouvez :",
    "en": "On www.monespacesante.fr (or with the code), you can:",
}
MANAGE_ITEMS = {
    "fr": (
        "lire vos documents de santé ;",
        "cacher (masquer) un document ;",
        "bloquer un professionnel de santé ;",
        "voir qui a regardé votre DMP ;",
        "changer vos choix ;",
        "fermer votre DMP, quand vous voulez.",
    ),
    "en": (
        "read your health documents;",
        "hide a document;",
        "block a health professional;",
        "see who looked at your DMP;",
        "change your choices;",
        "close your DMP, whenever you want.",
    ),
}
QR_CAPTION = "Mon espace santé"  # a name: the same in both languages


@dataclass(frozen=True, slots=True)
class Entry:
    """One labelled fact: ``Pour : Jeanne MARTIN``. The value may be the patient's."""

    label: str
    value: str = field(repr=False)
    separator: str = " : "  # French typography; English: ": "

    @property
    def text(self) -> str:
        return f"{self.label}{self.separator}{self.value}"


@dataclass(frozen=True, slots=True)
class AccessBlock:
    """The web-access secrets as printed: on paper only [V EX_GEN-1470]."""

    heading: str
    identifier: str = field(repr=False)
    password: str = field(repr=False)
    advice: str
    identifier_label: str = IDENTIFIER_LABEL
    password_label: str = PASSWORD_LABEL


@dataclass(frozen=True, slots=True)
class ReceiptContent:
    """The accusé, top to bottom: every medium prints these in this order."""

    title: str
    lead: str  # what happened, and what a DMP is
    person: tuple[Entry, ...] = field(repr=False)  # for whom: name, birth date, guardian
    visit: tuple[Entry, ...]  # when, which pharmacy, which pharmacist
    handed_over: str  # "" unless the pharmacist hands the accusé over (patient_left)
    choices_heading: str
    choices: tuple[Entry, ...]  # emergency access, Centre 15, online access
    access: AccessBlock | None = field(repr=False)
    manage_heading: str
    manage_intro: str
    manage_items: tuple[str, ...]  # what Mon espace santé lets the patient do
    qr_url: str
    qr_caption: str

    def texts(self) -> list[str]:
        """Every patient-facing text but the access block, in order (for checks)."""
        lines = [self.title, self.lead, *(e.text for e in (*self.person, *self.visit))]
        lines += [self.handed_over] if self.handed_over else []
        lines += [self.choices_heading, *(e.text for e in self.choices)]
        return [*lines, self.manage_heading, self.manage_intro, *self.manage_items]


def paper_language(language: str) -> str:
    """English when the journey ran in English, French otherwise."""
    return "en" if language == "en" else "fr"


def birth_date_text(raw: str) -> str:
    """The card's raw ``YYYYMMDD`` as ``DD/MM/YYYY``, as the screens show it; a "lunar"
    date prints only its known part (``19750000`` → ``1975``, ``19750300`` → ``03/1975``,
    an impossible day ``19800231`` → ``02/1980``); "" when unreadable."""
    if len(raw) != 8 or not raw.isascii() or not raw.isdigit() or raw[:4] == "0000":
        return ""
    year, month, day = int(raw[:4]), int(raw[4:6]), int(raw[6:8])
    if not 1 <= month <= 12:
        return raw[:4]
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return f"{raw[4:6]}/{raw[:4]}"
    return f"{raw[6:8]}/{raw[4:6]}/{raw[:4]}"


def _name(first: str, last: str) -> str:
    return " ".join(part.strip() for part in (first, last) if part.strip())


def _person(facts: ReceiptFacts, lang: str) -> tuple[Entry, ...]:
    sep = SEPARATOR[lang]
    labels = PERSON_LABELS[lang]
    born = birth_date_text(facts.birth_date) or UNKNOWN_DATE[lang]
    entries = [
        Entry(labels["for"], _name(facts.first_name, facts.last_name), sep),
        Entry(labels["born"], born, sep),
    ]
    guardian = facts.guardian
    if guardian is not None:
        who = _name(guardian.first_name, guardian.last_name)
        role = ROLES[lang].get(guardian.role)
        entries.append(Entry(labels["guardian"], f"{who} ({role})" if role else who, sep))
    return tuple(entries)


def _visit(facts: ReceiptFacts, pharmacy: str, now: dt.datetime, lang: str) -> tuple[Entry, ...]:
    sep = SEPARATOR[lang]
    labels = VISIT_LABELS[lang]
    local = now.astimezone(PARIS)
    when = f"{local:%d/%m/%Y} {AT[lang]} {local:%H:%M}"
    entries = [Entry(labels["when"], when, sep)]
    if pharmacy.strip():
        entries.append(Entry(labels["pharmacy"], pharmacy.strip(), sep))
    if facts.pharmacist.strip():
        entries.append(Entry(labels["pharmacist"], facts.pharmacist.strip(), sep))
    return tuple(entries)


def _choices(facts: ReceiptFacts, lang: str) -> tuple[Entry, ...]:
    sep = SEPARATOR[lang]
    labels, (yes, no) = CHOICE_LABELS[lang], YES_NO[lang]
    return (
        Entry(labels["bris_de_glace"], yes if facts.bris_de_glace else no, sep),
        Entry(labels["centre15"], yes if facts.centre15 else no, sep),
        Entry(labels["web"], _web(facts, lang), sep),
    )


def _web(facts: ReceiptFacts, lang: str) -> str:
    yes, no = YES_NO[lang]
    if not facts.web_access_requested:
        return no
    return yes if facts.web_access is not None else ACCESS_NOT_MADE[lang]


def receipt_content(facts: ReceiptFacts, pharmacy: str, now: dt.datetime) -> ReceiptContent:
    """The receipt's text; ``now`` is an aware datetime, shown in Europe/Paris."""
    lang = paper_language(facts.language)
    outcome = facts.outcome if facts.outcome in TITLES else "created"
    access = None
    if facts.web_access is not None:
        access = AccessBlock(
            heading=ACCESS_HEADING[lang],
            identifier=facts.web_access.identifier,
            password=facts.web_access.password,
            advice=ACCESS_ADVICE[lang],
        )
    return ReceiptContent(
        title=TITLES[outcome][lang],
        lead=LEADS[outcome][lang],
        person=_person(facts, lang),
        visit=_visit(facts, pharmacy, now, lang),
        handed_over=HANDED_OVER[lang] if facts.patient_left else "",
        choices_heading=CHOICES_HEADING[lang],
        choices=_choices(facts, lang),
        access=access,
        manage_heading=MANAGE_HEADING[lang],
        manage_intro=MANAGE_INTRO[lang],
        manage_items=MANAGE_ITEMS[lang],
        qr_url=SPACE_URL,
        qr_caption=QR_CAPTION,
    )
