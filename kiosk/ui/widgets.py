"""The few widgets every screen is made of: the big :class:`ActionButton` that forwards a
tap to the app, the consent :class:`CheckRow`, the :class:`OnScreenKeyboard` (digits for
the mobile and the pharmacist's code, letters for the e-mail) and the :class:`QrImage`.

Only ActionButtons talk to the app; the keys of a keyboard only edit its local buffer,
so nothing typed reaches the journey until "Valider" is touched.
"""

from __future__ import annotations

import io
from functools import cache

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.core.text import LabelBase
from kivy.factory import Factory
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.resources import resource_find
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

from kiosk.ui.formatting import masked, spaced_mobile, valid_email, valid_mobile

# Roboto lacks ☐ ☑ ⌫: the check rows and the keys use the DejaVu Sans shipped with Kivy.
SYMBOL_FONT = "KioskSymbols"
LabelBase.register(SYMBOL_FONT, resource_find("data/fonts/DejaVuSans.ttf"))

BACKSPACE = "⌫"
DIGIT_ROWS = ("123", "456", "789", f"{BACKSPACE}0")
EMAIL_ROWS = (
    [*"1234567890", BACKSPACE],
    [*"azertyuiop", "@"],
    [*"qsdfghjklm", "."],
    [*"wxcvbn", "-", "_", ".fr", ".com"],
)
CODE_MIN, CODE_MAX = 4, 8
EMAIL_MAX = 80


class StaffLabel(Label):  # type: ignore[misc]
    """A line for the pharmacist (not read aloud to the patient)."""


class ActionButton(Button):  # type: ignore[misc]
    """A big button whose release is a ``Tap(action, value)`` for the journey."""

    action = StringProperty("")
    value = ObjectProperty(None, allownone=True)
    kind = OptionProperty("primary", options=["primary", "secondary", "header", "check"])
    wrap = BooleanProperty(True)
    min_height = NumericProperty(0)

    def on_release(self) -> None:
        app = App.get_running_app()
        if app is not None and self.action:
            app.tap(self.action, self.value)


def _take_the_name() -> None:
    """Kivy's action bar has an ActionButton too: its Factory entry and its style.kv rule
    (which sizes the button from its text) would apply to ours, matched by class name.
    The kiosk has no action bar, so ours takes the name; ActionToggleButton keeps its rule.
    """
    Factory.unregister("ActionButton")
    Factory.register("ActionButton", cls=ActionButton)
    Builder.rules = [
        (selector, rule)
        for selector, rule in Builder.rules
        if not (
            getattr(selector, "key", "") == "actionbutton"
            and str(rule.ctx.filename).endswith("style.kv")
        )
    ]
    Builder._clear_matchcache()


_take_the_name()


class CheckRow(ActionButton):
    """A consent line: ☐/☑ then the text; the flow holds the ticked state."""

    checked = BooleanProperty(False)
    label = StringProperty("")


class SubmitButton(ActionButton):
    """The "Valider" of a keyboard: taps like any ActionButton, then tells the keyboard."""

    __events__ = ("on_submitted",)

    def on_release(self) -> None:
        super().on_release()
        self.dispatch("on_submitted")

    def on_submitted(self) -> None:
        pass


class KeyButton(Button):  # type: ignore[misc]
    """One key of the on-screen keyboard: edits the keyboard's buffer, nothing else."""

    key = StringProperty("")
    keyboard = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        if self.keyboard is not None:
            self.keyboard.press(self.key)


class OnScreenKeyboard(BoxLayout):  # type: ignore[misc]
    """Keys, the typed text and a "Valider" button sending ``Tap(action, buffer)``.

    ``purpose`` is "mobile" (digits, at most 10, shown in pairs), "email" (letters, digits
    and @ . _ -) or "attest" (digits, shown as dots, emptied once sent).
    """

    purpose = OptionProperty("mobile", options=["mobile", "email", "attest"])
    buffer = StringProperty("")
    shown = StringProperty("")
    valid = BooleanProperty(True)
    busy = BooleanProperty(False)
    submit_text = StringProperty("Valider")
    hint = StringProperty("")
    columns = NumericProperty(3)

    __events__ = ("on_submitted",)

    def on_kv_post(self, _base_widget: object) -> None:
        self._build_keys()
        self._refresh()

    def on_purpose(self, _instance: object, _value: str) -> None:
        self.buffer = ""
        self._build_keys()
        self._refresh()

    def on_buffer(self, _instance: object, _value: str) -> None:
        self._refresh()

    def press(self, key: str) -> None:
        if key == BACKSPACE:
            self.buffer = self.buffer[:-1]
            return
        limit = {"mobile": 10, "email": EMAIL_MAX, "attest": CODE_MAX}[self.purpose]
        if len(self.buffer) + len(key) <= limit:
            self.buffer += key

    def clear(self) -> None:
        self.buffer = ""

    def submitted(self) -> None:
        """After the tap: a secret code does not stay in memory."""
        if self.purpose == "attest":
            self.buffer = ""
        self.dispatch("on_submitted")

    def on_submitted(self) -> None:
        pass

    def _rows(self) -> list[list[str]]:
        if self.purpose == "email":
            return [list(row) for row in EMAIL_ROWS]
        return [list(row) for row in DIGIT_ROWS]

    def _build_keys(self) -> None:
        grid = self.ids.get("keys")
        if grid is None:
            return
        grid.clear_widgets()
        rows = self._rows()
        self.columns = max(len(row) for row in rows)
        grid.cols = self.columns
        for row in rows:
            for key in row:
                grid.add_widget(KeyButton(text=key, key=key, keyboard=self))

    def _refresh(self) -> None:
        text = self.buffer
        if self.purpose == "mobile":
            self.shown = spaced_mobile(text)
            self.valid = not text or valid_mobile(text)
        elif self.purpose == "email":
            self.shown = text
            self.valid = not text or valid_email(text)
        else:
            self.shown = masked(text)
            self.valid = CODE_MIN <= len(text) <= CODE_MAX


class StillThereBanner(FloatLayout):  # type: ignore[misc]
    """Drawn over the whole screen after a minute without a touch; swallows other taps."""

    language = StringProperty("fr")

    def on_touch_down(self, touch: object) -> bool:
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch: object) -> bool:
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch: object) -> bool:
        super().on_touch_up(touch)
        return True


@cache
def qr_png(url: str) -> bytes:
    """A QR code of ``url`` as PNG bytes (black on white, with its quiet zone)."""
    import qrcode  # type: ignore[import-untyped]  # only the already-exists screen needs it

    image = qrcode.make(url, box_size=8, border=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def qr_texture(url: str) -> Texture:
    texture = CoreImage(io.BytesIO(qr_png(url)), ext="png").texture
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture


class QrImage(Image):  # type: ignore[misc]
    """A QR code of ``url``, scaled to fit without blurring its modules."""

    url = StringProperty("")

    def on_url(self, _instance: object, url: str) -> None:
        self.texture = qr_texture(url) if url else None
