"""Autopilot: taps through the real widgets following a JOURNEY plan (docs/architecture.md §3).

After each screen is rendered it saves a screenshot, then presses the ActionButton (or
the keyboard keys) a patient would press, found in the live widget tree by their
``action``/``value``. It never calls the journey directly: every step goes through a
real button's press, exactly as a finger would.

Plan: ``{"beneficiary": 0, "consent": true, "bris_de_glace": true, "centre15": true,
"mobile": null, "email": null, "pharmacist_code": "…", "guardian": "mere", "representative": 0,
"reactivate": true, "language": "fr", "cps_pin": "…", "speech": false, "text_size": "normal"}``.
``cps_pin`` plays the pharmacist typing the CPS PIN at the opening of the shop (``kiosk
run`` without ``--demo``; the demo types its demo card's PIN itself).

``"speech": true``: speech mode is switched on as a patient would, by a long press (a
real touch held :data:`kiosk.ui.speech_mode.LONG_PRESS_S`), then every control is
touched twice (the first touch only says it); everything said is appended to
``<shots>/speech.jsonl``, one ``{"screen", "text", "channel"}`` object a line, through
the app's ``on_spoken`` hook. ``"text_size": "large"`` touches the header's text-size
button once.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from kiosk.appliance.observer import KioskObserver
from kiosk.core import flow as f
from kiosk.sim.plan import AutopilotError, Plan
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.speech_mode import LONG_PRESS_S
from kiosk.ui.widgets import key_guard_s

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


def press(button: Button, times: int = 1) -> None:
    """``times`` = 2 in speech mode: the first touch says the control, the second acts."""
    if button.disabled:
        raise AutopilotError(f"button {button.text!r} is disabled")
    for _ in range(times):
        button.trigger_action(duration=0)


class Finger(MotionEvent):  # type: ignore[misc]
    """A touch on the window, as the touchscreen's driver would send it."""

    def __init__(self, x: float, y: float) -> None:
        super().__init__("autopilot", 1, {"x": x, "y": y}, is_touch=True, type_id="touch")
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)


def long_press(x: float = 0.5, y: float = 0.5) -> None:
    """Hold a finger at (x, y) (window fractions) a little longer than a long press."""
    finger = Finger(x, y)
    EventLoop.post_dispatch_input("begin", finger)
    Clock.schedule_once(lambda _dt: EventLoop.post_dispatch_input("end", finger),
                        LONG_PRESS_S + 0.3)  # fmt: skip


def type_into(root: Widget, submit_action: str, text: str, times: int = 1) -> None:
    """Press the keys of the keyboard that holds the ``submit_action`` button."""
    submit = action_button(root, submit_action, any_value=True)
    keyboard: Widget = submit
    while keyboard.parent is not None and not _has_keys(keyboard):
        keyboard = keyboard.parent
    previous = ""
    for char in text:
        if char == previous:  # a key ignores a second press of itself too soon
            time.sleep(key_guard_s() + 0.02)
        previous = char
        key = next(
            (w for w in walk(keyboard) if isinstance(w, Button) and not hasattr(w, "action")
             and w.text == char),
            None,
        )  # fmt: skip
        if key is None:
            raise AutopilotError(f"no key {char!r} on the {submit_action} keyboard")
        press(key, times)
    press(submit, times)


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
    _times: int = 1  # touches per control: 2 in speech mode
    _speech_asked: bool = False
    _size_asked: bool = False
    _listening: bool = False

    def __post_init__(self) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        for earlier in self.shots.glob("[0-9][0-9]-*.png"):  # an earlier run's screens
            earlier.unlink()
        self.transcript = self.shots / "speech.jsonl"
        if self.plan.speech:
            self.transcript.write_text("", encoding="utf-8")

    def _spoken(self, screen: str, text: str, channel: str) -> None:
        line = json.dumps({"screen": screen, "text": text, "channel": channel}, ensure_ascii=False)
        with self.transcript.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    def _press(self, button: Button) -> None:
        press(button, self._times)

    def finished(self, outcome: f.Outcome) -> None:
        self.outcome = outcome

    def rendered(self, flow: f.Flow, screen: KioskScreen) -> None:
        """Called on the Kivy thread after each render."""
        if self.plan.speech and not self._listening:
            app = App.get_running_app()
            if app is not None:
                app.on_spoken = self._spoken
                self._listening = True
        if not self.screens or self.screens[-1] != flow.screen.value:
            self.screens.append(flow.screen.value)
            number = len(self.screens)
            Clock.schedule_once(lambda _dt: self._shoot(number, flow.screen), STEP_DELAY)
        key = (
            len(self.screens), flow.screen, flow.language, flow.choices, flow.message,
            flow.representative, flow.confirming, flow.speech, flow.text_size,
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
        self._times = 2 if flow.speech else 1
        waiting = flow.screen in (s.READING, s.CHECKING, s.CREATING)
        asked = self._speech_asked or self.outcome is not None
        if plan.speech and not flow.speech and not asked and not waiting:
            self._speech_asked = True
            log.info("autopilot: a long press to switch speech on")
            long_press()
            return
        if flow.text_size != plan.text_size and not self._size_asked and not waiting:
            self._size_asked = True
            try:
                button = action_button(screen, "text_size", plan.text_size)
            except AutopilotError:
                log.warning("autopilot: no text-size button on %s: kept", flow.screen.value)
            else:
                self._press(button)
                return
        if flow.language != plan.language and not self._language_set:
            self._language_set = True
            log.info("autopilot: switching the language to %s", plan.language)
            self._press(action_button(screen, "language"))
            return
        if flow.screen is s.WELCOME:
            if self.outcome is not None:
                self.on_done(self.summary())
            return  # the inserted card starts the journey
        if flow.screen is s.CHOOSE:
            self._press(action_button(screen, "choose", plan.beneficiary))
        elif flow.screen is s.GUARDIAN:
            if flow.representative is None:  # who declares: the plan's, else the first adult
                adult = plan.representative if plan.representative is not None else flow.adults[0]
                self._press(action_button(screen, "representative", adult))
            else:
                self._press(action_button(screen, "guardian", plan.guardian))
        elif flow.screen is s.CLOSED:
            self._press(action_button(screen, "reactivate", plan.reactivate))
        elif flow.screen is s.INFORMATION:
            self._press(action_button(screen, "next"))
        elif flow.screen is s.CONSENT:
            self._consent(flow, screen)
        elif flow.screen is s.CONTACT:
            self._contact(flow, screen)
        elif flow.screen is s.ATTESTATION and not flow.message:
            type_into(screen, "attest", plan.pharmacist_code, self._times)
        elif flow.screen in END_SCREENS:
            if plan.freeze_ui:
                log.info("autopilot: freezing the UI loop for %g s", plan.freeze_ui)
                time.sleep(plan.freeze_ui)  # on the Kivy thread: nothing draws, nothing pings
                plan.freeze_ui = 0
            Clock.schedule_once(lambda _dt: self._press(action_button(screen, "done")), STEP_DELAY)

    def _consent(self, flow: f.Flow, screen: KioskScreen) -> None:
        plan, choices = self.plan, flow.choices
        if not plan.consent:  # "Je refuse", then "Oui, je refuse" when asked once more
            self._press(action_button(screen, "refuse" if flow.confirming is None else "confirm"))
            return
        for name, wanted in (("consent", True), ("bris_de_glace", plan.bris_de_glace),
                             ("centre15", plan.centre15)):  # fmt: skip
            if getattr(choices, name) != wanted:
                self._press(action_button(screen, "toggle", name))
                return  # the next render continues
        self._press(action_button(screen, "next"))

    def _contact(self, flow: f.Flow, screen: KioskScreen) -> None:
        plan, choices = self.plan, flow.choices
        if plan.mobile and choices.mobile is None:
            press(screen.ids["mobile_field"], self._times)  # opens the digits keyboard
            Clock.schedule_once(
                lambda _dt: type_into(screen, "mobile", str(plan.mobile), self._times), STEP_DELAY
            )
        elif plan.email and choices.email is None:
            press(screen.ids["email_field"], self._times)
            Clock.schedule_once(
                lambda _dt: type_into(screen, "email", str(plan.email), self._times), STEP_DELAY
            )
        elif plan.mobile or plan.email:
            self._press(action_button(screen, "next"))  # warning first, then confirmation
        else:
            self._press(action_button(screen, "skip"))

    def summary(self) -> dict[str, Any]:
        return {
            "outcome": (self.outcome or f.Outcome.ERROR).value,
            "screens": self.screens,
            "ledger_entry": None,
        }
