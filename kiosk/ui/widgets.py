"""The few widgets every screen is made of: the big :class:`ActionButton` that forwards a
tap to the app, the consent :class:`CheckRow`, the :class:`OnScreenKeyboard` (digits for
the mobile and the pharmacist's code, letters for the e-mail), the :class:`QrImage`, and
the two overlays: :class:`StillThereBanner` and :class:`ConfirmBanner`.

Only ActionButtons send the journey a choice; the keys of a keyboard edit its local
buffer, so nothing typed reaches the journey until "Valider" is touched. Each key press
is activity all the same (``Tap("activity")``): a patient slowly typing an e-mail is
not idle. A key ignores a second press of itself within the site's ``key_guard_ms``.

Every widget with a ``step`` property ("normal" | "large") is sized by the theme at
that text step; its screen sets it (:meth:`kiosk.ui.screens.base.KioskScreen.follow_step`).
"""

from __future__ import annotations

import io
import time
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
from kivy.uix.scrollview import ScrollView

from kiosk.ui.formatting import masked, spaced_mobile, valid_email, valid_mobile
from kiosk.ui.theme import NORMAL, TEXT_SIZES

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

_key_guard_s = 0.3  # [kiosk] key_guard_ms, set at start-up by set_key_guard_ms()


def set_key_guard_ms(ms: int) -> None:
    """How soon after a press a key ignores a second press of itself (a shaking hand)."""
    global _key_guard_s
    _key_guard_s = max(0, ms) / 1000


def key_guard_s() -> float:
    return _key_guard_s


def step_property() -> OptionProperty:
    """The text step a widget is drawn at ("normal" | "large")."""
    return OptionProperty(NORMAL, options=list(TEXT_SIZES))


class StaffLabel(Label):  # type: ignore[misc]
    """A line for the pharmacist (not read aloud to the patient)."""


class ActionButton(Button):  # type: ignore[misc]
    """A big button whose release is a ``Tap(action, value)`` for the journey."""

    action = StringProperty("")
    value = ObjectProperty(None, allownone=True)
    kind = OptionProperty("primary", options=["primary", "secondary", "header", "check"])
    wrap = BooleanProperty(True)
    min_height = NumericProperty(0)
    step = step_property()

    def on_release(self) -> None:
        self.released()

    def released(self) -> bool:
        """Tap the journey, unless speech mode only says this button (its first touch)
        or the touch was the long press that switched speech on. True when it tapped."""
        app = App.get_running_app()
        if app is None or not self.action or not _acts(self, app):
            return False
        app.tap(self.action, self.value)
        return True


LONG_PRESS = "kiosk_speech_long_press"  # touch.ud key set by kiosk.ui.speech_mode


def acts(button: Button) -> bool:
    """For a control that is not an ActionButton (the contact screen's fields): whether
    this release should act, under speech mode's rule (:func:`_acts`)."""
    app = App.get_running_app()
    return app is None or _acts(button, app)


def _acts(button: Button, app: App) -> bool:
    """Speech mode's rule, the same for every control: the first touch says it, the
    second one acts (``app.explore``); a long press's release does nothing."""
    touch = button.last_touch
    if touch is not None and touch.ud.pop(LONG_PRESS, False):
        return False  # spent: a later trigger_action, with this last_touch still, acts
    explore = getattr(app, "explore", None)
    return explore is None or bool(explore(button))


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
        if self.released():
            self.dispatch("on_submitted")

    def on_submitted(self) -> None:
        pass


class KeyButton(Button):  # type: ignore[misc]
    """One key of the on-screen keyboard: edits the keyboard's buffer, nothing else."""

    key = StringProperty("")
    keyboard = ObjectProperty(None, allownone=True)
    step = step_property()

    def on_release(self) -> None:
        app = App.get_running_app()
        if self.keyboard is None or (app is not None and not _acts(self, app)):
            return
        self.keyboard.press(self.key)
        typed = getattr(app, "typed", None)
        if typed is not None:
            typed(self)  # speech mode says it ("chiffre saisi" for a secret)


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
    step = step_property()
    room = NumericProperty(0)  # the height it may fill (its keys grow up to 80dp in it)

    __events__ = ("on_submitted",)

    _last_press: tuple[str, float] = ("", -1e9)

    def on_kv_post(self, _base_widget: object) -> None:
        self._build_keys()
        self._refresh()

    def on_purpose(self, _instance: object, _value: str) -> None:
        self.buffer = ""
        self._build_keys()
        self._refresh()

    def on_buffer(self, _instance: object, _value: str) -> None:
        self._refresh()

    def on_step(self, _instance: object, _value: str) -> None:
        self._build_keys()

    def press(self, key: str) -> None:
        """A key was touched: activity for the journey, then the buffer edited, unless
        the same key was pressed less than ``key_guard_ms`` ago."""
        now = time.monotonic()
        last_key, last_at = self._last_press
        if key == last_key and now - last_at < _key_guard_s:
            return  # a bounce, not a second press
        self._last_press = (key, now)
        app = App.get_running_app()
        if app is not None:
            app.tap("activity")
        if key == BACKSPACE:
            self.buffer = self.buffer[:-1]
            return
        limit = {"mobile": 10, "email": EMAIL_MAX, "attest": CODE_MAX}[self.purpose]
        if len(self.buffer) + len(key) <= limit:
            self.buffer += key

    def clear(self) -> None:
        self.buffer = ""
        self._last_press = ("", -1e9)

    def submitted(self) -> None:
        """After the tap: a secret code does not stay in memory."""
        if self.purpose == "attest":
            self.buffer = ""
        self.dispatch("on_submitted")

    def on_submitted(self) -> None:
        pass

    def _rows(self) -> list[list[str]]:
        if self.purpose == "email":
            if self.step != NORMAL:  # large keys: no room for ".fr" and ".com"
                return [[key for key in row if len(key) == 1] for row in EMAIL_ROWS]
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
                grid.add_widget(KeyButton(text=key, key=key, keyboard=self, step=self.step))

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


class TextScroll(ScrollView):  # type: ignore[misc]
    """What no longer fits scrolls (widgets.kv), under a bar that keeps its colour.

    Kivy fades the bar to ``bar_inactive_color`` with a half-second Animation after
    every scroll update, and each screen shown is one: every frame of it redraws the
    whole window, even where no bar is drawn (content that fits), since the animated
    colour changes by a rounding error each frame. Measured, one journey: 49 redraws on
    the creating screen, about half a second of software rendering here; under the
    Pi-class budget they took the CPU a DMP call's worker needed. A bar that stays as it
    is also keeps telling the patient there is more below. Kivy starts the fade from
    ``_bind_inactive_bar_color`` (2.3; tests/ui/test_screens.py's
    ``test_a_screen_left_alone_is_not_redrawn`` fails if a newer Kivy fades another way)."""

    def _bind_inactive_bar_color(self, *_args: object) -> None:
        """No fade: the bar keeps ``bar_color``."""


class Overlay(FloatLayout):  # type: ignore[misc]
    """A question drawn over the body of a screen, below its header: it swallows the
    taps on the body, never those on the header ("Écouter", "Aa" stay usable)."""

    language = StringProperty("fr")
    step = step_property()
    header_height = NumericProperty(0)

    def _mine(self, touch: object) -> bool:
        x, y = getattr(touch, "pos", (0, 0))
        return bool(self.collide_point(x, y))

    def on_touch_down(self, touch: object) -> bool:
        if not self._mine(touch):
            return False  # the header, above
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch: object) -> bool:
        if not self._mine(touch):
            return False
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch: object) -> bool:
        if not self._mine(touch):
            return False
        super().on_touch_up(touch)
        return True


class StillThereBanner(Overlay):
    """After a while without a touch: "Êtes-vous toujours là ?", "Plus de temps"
    (``Tap("more_time")``: twice the time for the rest of the journey) and "Oui, je suis
    là" (any tap is activity for the journey)."""


class ConfirmBanner(Overlay):
    """The question asked once more after "Annuler" or "Je refuse" (``Flow.confirming``):
    "Oui, arrêter" / "Oui, je refuse" send ``Tap("confirm")``, "Non, continuer"
    ``Tap("keep")``."""

    question = StringProperty("cancel")  # "cancel" | "refuse"


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


class SpeechButton(Button):  # type: ignore[misc]
    """A button of the speech bar: repeat, stop, slower, faster, quieter, louder. It acts
    at its first touch (it says its own label) and changes nothing in the journey."""

    command = StringProperty("")

    def on_release(self) -> None:
        app = App.get_running_app()
        command = getattr(app, "speech_command", None)
        if command is not None:
            command(self.command)


class SpeechBar(BoxLayout):  # type: ignore[misc]
    """The speech controls, at the bottom of every screen in speech mode (base.kv)."""

    language = StringProperty("fr")
