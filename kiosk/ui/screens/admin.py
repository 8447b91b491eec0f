"""The pharmacist's admin screen (outside the patient journey): code, then figures.

It renders :class:`kiosk.core.admin_figures.AdminFigures` and forwards its buttons to the
app's :class:`kiosk.ui.admin_desk.AdminDesk` (``open``, ``close``, ``import``, ``export``,
``cps_pin``); it holds no patient data.
One keypad serves the pharmacist code (while locked) and the CPS PIN (once open); the
digits typed live in the screen only until OK, shown as dots.
"""

from __future__ import annotations

from kivy.app import App
from kivy.graphics import Color, Rectangle
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.core.admin_figures import AdminFigures
from kiosk.messages import Message
from kiosk.ui import theme
from kiosk.ui.formatting import money
from kiosk.ui.i18n import render, t
from kiosk.ui.screens.registry import ADMIN
from kiosk.ui.ui_text import UiText

__all__ = ["ADMIN", "AdminKey", "AdminScreen", "MonthChart"]


class MonthChart(Widget):  # type: ignore[misc]
    """Openings per month as bars, drawn on the canvas (12 months)."""

    data = ListProperty([])

    def on_data(self, *_args: object) -> None:
        self.redraw()

    def on_size(self, *_args: object) -> None:
        self.redraw()

    def on_pos(self, *_args: object) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.canvas.clear()
        values = [int(v) for _m, v in self.data] or [0]
        top = max(values) or 1
        gap = 6.0
        width = (self.width - gap * (len(values) + 1)) / max(len(values), 1)
        with self.canvas:
            Color(*theme.PRIMARY)
            for i, value in enumerate(values):
                height = (self.height - 4) * value / top
                Rectangle(pos=(self.x + gap + i * (width + gap), self.y), size=(width, height))


class AdminKey(Button):  # type: ignore[misc]
    """A key of the admin keypad (not an ActionButton: it edits the code locally)."""


class AdminScreen(Screen):  # type: ignore[misc]
    language = StringProperty("fr")  # the kiosk's language when the admin was opened
    unlocked = BooleanProperty(False)
    entering_pin = BooleanProperty(False)  # the keypad takes the CPS PIN
    code = StringProperty("")
    message = StringProperty("")
    cps = StringProperty("")
    today_text = StringProperty("")
    year_text = StringProperty("")
    money_text = StringProperty("")
    pending_text = StringProperty("")
    months = ListProperty([])
    message_is_error = BooleanProperty(True)

    def key(self, key: str) -> None:
        if key == "<":
            self.code = self.code[:-1]
        elif len(self.code) < 8:
            self.code += key

    def submit(self) -> None:
        code, self.code = self.code, ""
        if self.entering_pin:
            self.entering_pin = False
            App.get_running_app().admin("cps_pin", code)
        else:
            App.get_running_app().admin("open", code)

    def ask_pin(self) -> None:
        self.code, self.message, self.entering_pin = "", "", True

    def cancel_pin(self) -> None:
        self.code, self.entering_pin = "", False

    def command(self, name: str) -> None:
        App.get_running_app().admin(name, None)

    def say(self, message: Message, error: bool) -> None:
        self.message, self.message_is_error = render(message, self.language), error

    def say_text(self, text: UiText, error: bool) -> None:
        self.message, self.message_is_error = t(text, self.language), error

    def lock(self) -> None:
        self.unlocked, self.entering_pin, self.code, self.message = False, False, "", ""
        self.cps = self.today_text = self.year_text = self.money_text = self.pending_text = ""
        self.months = []

    def show(self, figures: AdminFigures) -> None:
        language = self.language
        self.unlocked = True
        self.cps = render(figures.cps, language)
        self.today_text = t(UiText.ADMIN_TODAY, language, count=figures.today)
        self.year_text = t(UiText.ADMIN_YEAR, language, count=figures.year)
        self.money_text = t(
            UiText.ADMIN_MONEY, language, due=money(figures.due_cents, language),
            paid=money(figures.paid_cents, language),
            outstanding=money(figures.outstanding_cents, language),
        )  # fmt: skip
        self.pending_text = t(UiText.ADMIN_PENDING, language, count=figures.pending)
        self.months = figures.by_month
        row = self.ids["month_labels"]
        row.clear_widgets()
        for month, _count in figures.by_month:  # one label under each bar
            row.add_widget(Label(text=month[5:], color=theme.TEXT, font_size="14sp"))
