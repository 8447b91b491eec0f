"""The live widget tree as :class:`kiosk.ui.spoken.SpokenItem` values, in visual order
(top to bottom, then left to right), for speech mode.

Skipped: the pharmacist's line (:class:`StaffLabel`), what is invisible (zero opacity,
here or above, or no size), the speech bar (its buttons speak when touched) and
images. Drawn over the screen (the "still there?" banner, a confirmation), an overlay
is all that is spoken. Which widgets hold personal data is known from what they are
(the people buttons, the contact fields, a keyboard's typed text), never from their
words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.core import flow as f
from kiosk.ui.i18n import t
from kiosk.ui.spoken import Private, Role, SpokenItem
from kiosk.ui.ui_text import UiText
from kiosk.ui.widgets import CheckRow, KeyButton, OnScreenKeyboard, StaffLabel

PEOPLE_ACTIONS = ("choose", "representative")  # their buttons are a name and a birth date
ROW = 12.0  # px: widgets whose tops are this close are on one line
_MARKUP = re.compile(r"\[/?[a-z_]+(=[^\]]*)?\]")


def _shown(widget: Widget) -> bool:
    node: object = widget
    while isinstance(node, Widget):
        if float(node.opacity) <= 0:
            return False
        node = node.parent
    return bool(widget.width > 0 and widget.height > 0)


def _keyboard_of(widget: Widget) -> OnScreenKeyboard | None:
    node: object = widget.parent
    while isinstance(node, Widget):
        if isinstance(node, OnScreenKeyboard):
            return node
        node = node.parent
    return None


def _plain(widget: Label) -> str:
    text = str(widget.text)
    if getattr(widget, "markup", False):
        text = _MARKUP.sub("", text)
    return " ".join(text.split())


def _walk(widget: Widget, skip: tuple[type, ...]) -> Iterator[Widget]:
    if isinstance(widget, skip):
        return
    yield widget
    if isinstance(widget, Button):
        return  # a button's children are its own drawing
    for child in reversed(widget.children):  # the order the rules built them
        yield from _walk(child, skip)


def _position(widget: Widget) -> tuple[float, float]:
    x, top = widget.to_window(widget.x, widget.top)
    return (-round(top / ROW), x)


def item_of(widget: Widget, screen: Widget | None = None) -> SpokenItem | None:
    """What one widget says, or None (a widget that says nothing)."""
    if isinstance(widget, StaffLabel) or not isinstance(widget, Label):
        return None
    if isinstance(widget, CheckRow):
        return SpokenItem(Role.CHECKBOX, " ".join(widget.label.split()),
                          checked=bool(widget.checked), disabled=bool(widget.disabled))  # fmt: skip
    text = _plain(widget)
    if not text:
        return None
    keyboard = _keyboard_of(widget)
    private = _private_field(widget, screen)
    if isinstance(widget, KeyButton):
        purpose = keyboard.purpose if keyboard is not None else ""
        hidden = purpose == "attest"
        kind = {"mobile": Private.NUMBER, "email": Private.EMAIL}.get(purpose)
        return SpokenItem(Role.KEY, text, private=kind, masked=hidden)
    kind, public = private if private is not None else (None, "")
    if isinstance(widget, Button):
        ordinal = None
        if getattr(widget, "action", "") in PEOPLE_ACTIONS and isinstance(widget.value, int):
            kind, ordinal = Private.NAME, widget.value + 1
        return SpokenItem(Role.BUTTON, text, disabled=bool(widget.disabled), private=kind,
                          public=public, ordinal=ordinal)  # fmt: skip
    if keyboard is not None:  # the typed text (or the hint when nothing is typed)
        if not keyboard.buffer:
            return SpokenItem(Role.TEXT, text)
        if keyboard.purpose == "attest":
            return SpokenItem(Role.FIELD, text, masked=True)
        kind = Private.NUMBER if keyboard.purpose == "mobile" else Private.EMAIL
        return SpokenItem(Role.FIELD, text, private=kind)
    return SpokenItem(Role.TEXT, text, private=kind, public=public)


def _is(widget: Widget, named: object) -> bool:
    """``named`` is an ``ids`` entry: a weak proxy, never ``is`` the widget itself."""
    return named is not None and getattr(named, "__self__", named) is widget


def _private_field(widget: Widget, screen: Widget | None) -> tuple[Private, str] | None:
    """The screens' widgets that hold personal data, by what they are: the contact
    fields once filled, the guardian's sentence that names the child."""
    if screen is None:
        return None
    ids = getattr(screen, "ids", {})
    language = str(getattr(screen, "language", "fr"))
    name = str(getattr(screen, "name", ""))
    if name == f.Screen.CONTACT.value:
        for field, kind, label in (("mobile", Private.NUMBER, UiText.CONTACT_MOBILE),
                                   ("email", Private.EMAIL, UiText.CONTACT_EMAIL)):  # fmt: skip
            if _is(widget, ids.get(f"{field}_field")) and str(getattr(screen, field, "")):
                hidden = t(UiText.SPEECH_PRIVATE_NUMBER if kind is Private.NUMBER
                           else UiText.SPEECH_PRIVATE_EMAIL, language)  # fmt: skip
                return kind, f"{t(label, language)} : {hidden}"
    if name == f.Screen.GUARDIAN.value and _is(widget, ids.get("explain")):
        # the sentence without the child's name, as when no one is chosen yet
        return Private.NAME, t(UiText.GUARDIAN_BODY_ANONYMOUS, language)
    return None


def screen_items(screen: Widget, skip: tuple[type, ...] = ()) -> list[SpokenItem]:
    """Every item of ``screen`` (a KioskScreen), in visual order; only the overlay's when
    one is drawn over it."""
    frame = getattr(screen, "frame", screen)
    header = getattr(frame, "ids", {}).get("header")
    main = header.parent if header is not None else None
    overlays = [c for c in frame.children if c is not main and not isinstance(c, skip)]
    roots = overlays[:1] if overlays else [frame]
    widgets = [w for root in roots for w in _walk(root, skip) if _shown(w)]
    title = getattr(frame, "ids", {}).get("title")
    ordered = sorted(enumerate(widgets), key=lambda iw: (_position(iw[1]), iw[0]))
    items: list[SpokenItem] = []
    for _index, widget in ordered:
        item = item_of(widget, screen)
        if item is None:
            continue
        if _is(widget, title):
            item = SpokenItem(Role.TITLE, item.text)
        items.append(item)
    return items
