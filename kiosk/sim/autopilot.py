"""Autopilot: taps through the real widgets following a JOURNEY plan (docs/architecture.md §3).

After each screen is rendered it saves a screenshot, then presses the ActionButton (or
the keyboard keys) a patient would press, found in the live widget tree by their
``action``/``value``. It never calls the journey directly: every step goes through a
real button's press, exactly as a finger would.

Plan: ``{"beneficiary": 0, "consent": true, "bris_de_glace": true, "centre15": true,
"mobile": null, "email": null, "pharmacist_code": "…", "guardian": "mere", "representative": 0,
"reactivate": true, "language": "fr", "cps_pin": "…"}``. ``cps_pin`` plays the
pharmacist typing the CPS PIN at the opening of the shop (``kiosk run`` without
``--demo``; the demo types its demo card's PIN itself).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from kiosk.appliance.observer import KioskObserver
from kiosk.core import flow as f
from kiosk.sim.plan import AutopilotError, Plan
from kiosk.ui.screens.base import KioskScreen

log = logging.getLogger(__name__)

STEP_DELAY = 0.15  # seconds between a render and the tap: lets the frame be drawn
END_SCREENS = (f.Screen.DONE, f.Screen.EXISTS, f.Screen.ERROR)


def walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from walk(child)


def action_button(
    root: Widget, action: str, value: object = None, *, any_value: bool = False
) -> Button:
    for widget in walk(root):
        matches = getattr(widget, "action", None) == action and (
            any_value or getattr(widget, "value", None) == value
        )
        if matches and isinstance(widget, Button):
            return widget
    raise AutopilotError(f"no button {action}={value!r} on this screen")


def press(button: Button) -> None:
    if button.disabled:
        raise AutopilotError(f"button {button.text!r} is disabled")
    button.trigger_action(duration=0)


def type_into(root: Widget, submit_action: str, text: str) -> None:
    """Press the keys of the keyboard that holds the ``submit_action`` button."""
    submit = action_button(root, submit_action, any_value=True)
    keyboard: Widget = submit
    while keyboard.parent is not None and not _has_keys(keyboard):
        keyboard = keyboard.parent
    for char in text:
        key = next(
            (w for w in walk(keyboard) if isinstance(w, Button) and not hasattr(w, "action")
             and w.text == char),
            None,
        )  # fmt: skip
        if key is None:
            raise AutopilotError(f"no key {char!r} on the {submit_action} keyboard")
        press(key)
    press(submit)


def _has_keys(widget: Widget) -> bool:
    return sum(1 for w in walk(widget) if isinstance(w, Button) and w.text.isdigit()) >= 10


@dataclass
class Autopilot(KioskObserver):
    plan: Plan
    shots: Path
    on_done: Callable[[dict[str, Any]], None]
    screens: list[str] = field(default_factory=list)
    outcome: f.Outcome | None = None
    _acted: set[tuple[object, ...]] = field(default_factory=set)
    _language_set: bool = False
    _latest: tuple[object, ...] = ()

    def __post_init__(self) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        for earlier in self.shots.glob("[0-9][0-9]-*.png"):  # an earlier run's screens
            earlier.unlink()

    def finished(self, outcome: f.Outcome) -> None:
        self.outcome = outcome

    def rendered(self, flow: f.Flow, screen: KioskScreen) -> None:
        """Called on the Kivy thread after each render."""
        if not self.screens or self.screens[-1] != flow.screen.value:
            self.screens.append(flow.screen.value)
            number = len(self.screens)
            Clock.schedule_once(lambda _dt: self._shoot(number, flow.screen), STEP_DELAY)
        key = (
            len(self.screens), flow.screen, flow.language, flow.choices, flow.message,
            flow.representative,
        )  # fmt: skip
        self._latest = key
        if key in self._acted:
            return  # already acted on this very state
        self._acted.add(key)
        Clock.schedule_once(lambda _dt: self._act(flow, screen, key), 2 * STEP_DELAY)

    def _shoot(self, number: int, screen: f.Screen) -> None:
        target = self.shots / f"{number:02d}-{screen.value}.png"
        saved = Window.screenshot(name=str(self.shots / "shot.png"))
        if saved:
            shutil.move(saved, target)

    def _act(self, flow: f.Flow, screen: KioskScreen, key: tuple[object, ...]) -> None:
        if key != self._latest:
            return  # another render came since (e.g. the language switched): it acts
        try:
            self._step(flow, screen)
        except AutopilotError as exc:
            log.error("autopilot stopped on %s: %s", flow.screen.value, exc)  # noqa: TRY400
            self.outcome = f.Outcome.ERROR
            self.on_done(self.summary())

    def _step(self, flow: f.Flow, screen: KioskScreen) -> None:
        plan, s = self.plan, f.Screen
        if flow.language != plan.language and not self._language_set:
            self._language_set = True
            log.info("autopilot: switching the language to %s", plan.language)
            press(action_button(screen, "language"))
            return
        if flow.screen is s.WELCOME:
            if self.outcome is not None:
                self.on_done(self.summary())
            return  # the inserted card starts the journey
        if flow.screen is s.CHOOSE:
            press(action_button(screen, "choose", plan.beneficiary))
        elif flow.screen is s.GUARDIAN:
            if flow.representative is None:  # who declares: the plan's, else the first adult
                adult = plan.representative if plan.representative is not None else flow.adults[0]
                press(action_button(screen, "representative", adult))
            else:
                press(action_button(screen, "guardian", plan.guardian))
        elif flow.screen is s.CLOSED:
            press(action_button(screen, "reactivate", plan.reactivate))
        elif flow.screen is s.INFORMATION:
            press(action_button(screen, "next"))
        elif flow.screen is s.CONSENT:
            self._consent(flow, screen)
        elif flow.screen is s.CONTACT:
            self._contact(flow, screen)
        elif flow.screen is s.ATTESTATION and not flow.message:
            type_into(screen, "attest", plan.pharmacist_code)
        elif flow.screen in END_SCREENS:
            if plan.freeze_ui:
                log.info("autopilot: freezing the UI loop for %g s", plan.freeze_ui)
                time.sleep(plan.freeze_ui)  # on the Kivy thread: nothing draws, nothing pings
                plan.freeze_ui = 0
            Clock.schedule_once(lambda _dt: press(action_button(screen, "done")), STEP_DELAY)

    def _consent(self, flow: f.Flow, screen: KioskScreen) -> None:
        plan, choices = self.plan, flow.choices
        if not plan.consent:
            press(action_button(screen, "refuse"))
            return
        for name, wanted in (("consent", True), ("bris_de_glace", plan.bris_de_glace),
                             ("centre15", plan.centre15)):  # fmt: skip
            if getattr(choices, name) != wanted:
                press(action_button(screen, "toggle", name))
                return  # the next render continues
        press(action_button(screen, "next"))

    def _contact(self, flow: f.Flow, screen: KioskScreen) -> None:
        plan, choices = self.plan, flow.choices
        if plan.mobile and choices.mobile is None:
            press(screen.ids["mobile_field"])  # opens the digits keyboard
            Clock.schedule_once(
                lambda _dt: type_into(screen, "mobile", str(plan.mobile)), STEP_DELAY
            )
        elif plan.email and choices.email is None:
            press(screen.ids["email_field"])
            Clock.schedule_once(lambda _dt: type_into(screen, "email", str(plan.email)), STEP_DELAY)
        elif plan.mobile or plan.email:
            press(action_button(screen, "next"))  # warning first, then confirmation
        else:
            press(action_button(screen, "skip"))

    def summary(self) -> dict[str, Any]:
        return {
            "outcome": (self.outcome or f.Outcome.ERROR).value,
            "screens": self.screens,
            "ledger_entry": None,
        }
