"""What speech mode says, Kivy-free: typed items of a screen (role, text, state, private
kind) become sentences in the screen's language, with the catalogues.

The widget walk (:mod:`kiosk.ui.speech_walk`) turns the live widget tree into
:class:`SpokenItem` values in reading order; this module decides their words. Private
data (names, birth dates, the mobile, the e-mail) is said only on the headset; on the
loudspeaker it becomes a neutral phrase ("votre nom est affiché à l'écran"), and a
masked entry (the attestation code) is never said on either channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kiosk.ui.i18n import t
from kiosk.ui.ui_text import UiText


class Role(StrEnum):
    TITLE = "title"
    TEXT = "text"
    BUTTON = "button"
    CHECKBOX = "checkbox"
    KEY = "key"
    FIELD = "field"  # what a keyboard shows it has typed


class Private(StrEnum):
    """The kind of personal data an item holds: said only into a headset."""

    NAME = "name"  # a person's name (and birth date)
    NUMBER = "number"  # the mobile
    EMAIL = "email"


class Channel(StrEnum):
    SPEAKER = "speaker"
    HEADSET = "headset"


NEUTRAL = {
    Private.NAME: UiText.SPEECH_PRIVATE_NAME,
    Private.NUMBER: UiText.SPEECH_PRIVATE_NUMBER,
    Private.EMAIL: UiText.SPEECH_PRIVATE_EMAIL,
}


@dataclass(frozen=True)
class SpokenItem:
    """One thing on screen as speech mode sees it.

    ``checked``: a checkbox's state (None for other roles). ``private``: the kind of
    personal data ``text`` holds. ``public``: what may be said instead on the loudspeaker
    (the sentence with the name left out); "" means the neutral phrase of its kind.
    ``ordinal``: for a private button in a list (the people on the card), its number,
    so that the loudspeaker can still tell them apart. ``masked``: a secret (the
    attestation code or one of its keys), never said."""

    role: Role
    text: str
    checked: bool | None = None
    disabled: bool = False
    private: Private | None = None
    public: str = ""
    ordinal: int | None = None
    masked: bool = False


def said_text(item: SpokenItem, language: str, channel: Channel) -> str:
    """The item's own words on ``channel``: its text, or what stands for it."""
    if item.masked:
        return ""
    if item.private is None or channel is Channel.HEADSET:
        return item.text
    if item.public:
        return item.public
    if item.ordinal is not None:
        return t(UiText.SPEECH_PRIVATE_PERSON, language, number=item.ordinal)
    return t(NEUTRAL[item.private], language)


def sentence(item: SpokenItem, language: str, channel: Channel) -> str:
    """One item with its role and state: "bouton : Suivant", "case cochée : …"."""
    text = said_text(item, language, channel)
    match item.role:
        case Role.TITLE | Role.TEXT:
            return text
        case Role.CHECKBOX:
            key = UiText.SPEECH_CHECKED if item.checked else UiText.SPEECH_UNCHECKED
        case Role.BUTTON:
            key = UiText.SPEECH_BUTTON_DISABLED if item.disabled else UiText.SPEECH_BUTTON
        case Role.KEY:
            if item.masked or text != item.text:  # a secret's, or private on the speaker
                return t(UiText.SPEECH_KEY_HIDDEN, language)
            key = UiText.SPEECH_KEY
        case Role.FIELD:
            if item.masked:
                return t(UiText.SPEECH_FIELD_MASKED, language)
            key = UiText.SPEECH_FIELD
    return t(key, language, label=text)


def typed(item: SpokenItem, language: str, channel: Channel) -> str:
    """What a key says once it has typed: "6 saisi", "chiffre saisi" for a secret."""
    text = said_text(item, language, channel)
    if item.masked or text != item.text:
        return t(UiText.SPEECH_TYPED_HIDDEN, language)
    return t(UiText.SPEECH_TYPED, language, label=text)


def reading_order(items: Iterable[SpokenItem]) -> list[SpokenItem]:
    """Title, then the texts, then the controls, each group in the order given (the
    walk gives them top to bottom, left to right)."""
    items = list(items)
    texts = (Role.TITLE, Role.TEXT)
    return (
        [i for i in items if i.role is Role.TITLE]
        + [i for i in items if i.role is Role.TEXT]
        + [i for i in items if i.role not in texts]
    )


def sentences(items: Iterable[SpokenItem], language: str, channel: Channel) -> list[str]:
    """Every item, in reading order, as sentences (empty ones left out)."""
    said = (sentence(item, language, channel) for item in reading_order(items))
    return [s for s in (" ".join(s.split()) for s in said) if s]


def utterance(parts: Iterable[str]) -> str:
    """Sentences joined for the voice: a pause (a full stop) between two."""
    return " ".join(p if p.endswith((".", "?", "!", ":")) else f"{p}." for p in parts if p)
