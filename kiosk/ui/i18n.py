"""Renders what the kiosk shows or says: a typed message (:mod:`kiosk.messages`) or one of
the screens' own texts (:class:`kiosk.ui.ui_text.UiText`), in French or English.

The only place a message becomes a sentence. An argument that is itself a message is
rendered first (the pharmacist's line names the CPS state). A key missing from a
catalogue shows as the key (a test keeps the catalogues complete); a missing English
text falls back to French.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.messages import Message
from kiosk.ui.catalog_en import EN
from kiosk.ui.catalog_fr import FR
from kiosk.ui.plural import Entry
from kiosk.ui.ui_text import UiText

CATALOGS: dict[str, dict[str, Entry]] = {"fr": FR, "en": EN}


def render(message: Message, language: str) -> str:
    """``message`` in ``language`` ("fr" or "en")."""
    return _text(message.key, language, message.args())


def t(text: UiText, language: str, **args: object) -> str:
    """One of the screens' own texts (kv rules call this), with its arguments."""
    return _text(text.key, language, args)


def _text(key: str, language: str, args: Mapping[str, object]) -> str:
    shown = {
        name: render(value, language) if isinstance(value, Message) else value
        for name, value in args.items()
    }
    entry = CATALOGS.get(language, FR).get(key) or FR.get(key)
    if entry is None:
        return key
    template = entry if isinstance(entry, str) else entry.choose(shown)
    return template.format(**shown) if shown else template
