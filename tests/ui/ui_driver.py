"""Runs ONE real Kivy window (Kivy allows one App per process) and prints one JSON line.

    python tests/ui/ui_driver.py shots LANGUAGE OUTDIR [--size 800x480]
        every screen (and its states) rendered by a KioskApp at 800x480 from a
        representative Flow: a PNG per state and the layout problems found in its widgets.
    python tests/ui/ui_driver.py pull OUTDIR
        a real Journey (Vitale through pcscd/vpcd, sandbox over TLS, ledger) reaches each
        of the 15 screens by real taps, then the card is pulled: time to WELCOME and
        whatever patient data is left in any widget or in the journey.
    python tests/ui/ui_driver.py speech LANGUAGE
        every state of the shots scenario in speech mode: what is said on the
        loudspeaker and on a headset, against the widget tree; explore by touch; the
        card pulled while speaking.
    python tests/ui/ui_driver.py autopilot PLAN OUTDIR [--seed-closed N]
        the autopilot follows PLAN on the real services, optionally with beneficiary N's
        DMP seeded as closed in the sandbox.

Without $DISPLAY the driver runs its own Xvfb. Nothing here is a mock: the app, the
journey, the cards, the DMP service and the ledger are the real ones.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import operator
import os
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import Any, TypeVar, cast

from kiosk.core import flow as f
from kiosk.hardware.cards import cps_from_profile, vitale_from_profile
from kiosk.sim.data import CARDS_DIR

WIDTH, HEIGHT = 800, 480
ROOT = Path(__file__).resolve().parents[2]
CARDS = CARDS_DIR
TODAY = dt.date(2026, 11, 23)
CODE = "2468"  # the demo pharmacist code
MOBILE = "0612345678"
EMAIL = "jeanne.martin@exemple.fr"
TOLERANCE = 1.0  # px

T = TypeVar("T")
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in window coordinates


def profile(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CARDS / name).read_text(encoding="utf-8"))
    return data


MARTIN = profile("vitale-famille-martin.json")


def start_kivy() -> Any:
    """A display (ours when there is none), then Kivy configured for the kiosk."""
    from kiosk.sim.xvfb import ensure_display

    xvfb = ensure_display()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(WIDTH))
    Config.set("graphics", "height", str(HEIGHT))
    Config.set("graphics", "resizable", "0")
    Config.set("kivy", "exit_on_escape", "0")
    return xvfb


# --- widget tree inspection (Kivy thread only) -------------------------------------------


def walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in widget.children:
        yield from walk(child)


def window_rect(widget: Any) -> Rect:
    x, y = widget.to_window(widget.x, widget.y)
    return (x, y, x + widget.width, y + widget.height)


def _ancestors(widget: Any) -> Iterator[Any]:
    from kivy.uix.widget import Widget

    parent = widget.parent
    while isinstance(parent, Widget):
        yield parent
        parent = parent.parent


def visible_rect(widget: Any) -> Rect | None:
    """The part of ``widget`` not hidden by a ScrollView (a StencilView) around it."""
    from kivy.uix.stencilview import StencilView

    x0, y0, x1, y1 = window_rect(widget)
    for parent in _ancestors(widget):
        if isinstance(parent, StencilView):
            px0, py0, px1, py1 = window_rect(parent)
            x0, y0, x1, y1 = max(x0, px0), max(y0, py0), min(x1, px1), min(y1, py1)
    if x1 - x0 <= TOLERANCE or y1 - y0 <= TOLERANCE:
        return None
    return (x0, y0, x1, y1)


def _shown(widget: Any) -> bool:
    return widget.opacity > 0 and all(p.opacity > 0 for p in _ancestors(widget))


def _layer(widget: Any) -> int:
    """Widgets drawn over the others on purpose (the "still there?" banner, the "do you
    really want to stop?" question) form a layer."""
    from kiosk.ui.widgets import Overlay

    for parent in _ancestors(widget):
        if isinstance(parent, Overlay):
            return id(parent)
    return 0


def _describe(widget: Any) -> str:
    text = " ".join(str(widget.text).split())
    return f"{type(widget).__name__} {text[:60]!r}"


def layout_problems(root: Any, width: int, height: int) -> list[str]:
    """Text outside the window, text that does not fit its widget, texts on top of each
    other: every visible Label/Button under ``root``."""
    from kivy.uix.label import Label  # Button is a Label
    from kivy.uix.scrollview import ScrollView

    problems: list[str] = []
    shown: list[tuple[Any, Rect, int]] = []
    for widget in walk(root):
        if not isinstance(widget, Label) or not _shown(widget):
            continue
        rect = visible_rect(widget)
        if rect is None:
            continue  # scrolled out of view (or empty)
        name = _describe(widget)
        x0, y0, x1, y1 = rect
        if x0 < -TOLERANCE or y0 < -TOLERANCE or x1 > width + TOLERANCE or y1 > height + TOLERANCE:
            problems.append(f"{name} lies outside the {width}x{height} window: {_fmt(rect)}")
        full = window_rect(widget)
        for parent in _ancestors(widget):
            if isinstance(parent, ScrollView) and not parent.do_scroll_x:
                px0, _py0, px1, _py1 = window_rect(parent)
                if full[0] < px0 - TOLERANCE or full[2] > px1 + TOLERANCE:
                    problems.append(f"{name} is cut by its ScrollView: {_fmt(full)}")
        has_text = bool(str(widget.text).strip())
        if has_text:
            tw, th = widget.texture_size
            if tw > widget.width + TOLERANCE or th > widget.height + TOLERANCE:
                problems.append(
                    f"{name}: its text ({tw:.0f}x{th:.0f}) does not fit in its widget "
                    f"({widget.width:.0f}x{widget.height:.0f})"
                )
        from kivy.uix.button import Button

        if has_text or isinstance(widget, Button):
            shown.append((widget, rect, _layer(widget)))
    for (a, ra, la), (b, rb, lb) in combinations(shown, 2):
        if la != lb or a.children or b.children:  # another layer, or a background container
            continue
        if a in _ancestors(b) or b in _ancestors(a):
            continue
        dx = min(ra[2], rb[2]) - max(ra[0], rb[0])
        dy = min(ra[3], rb[3]) - max(ra[1], rb[1])
        if dx > TOLERANCE and dy > TOLERANCE:
            problems.append(
                f"{_describe(a)} {_fmt(ra)} overlaps {_describe(b)} {_fmt(rb)} by {dx:.0f}x{dy:.0f}"
            )
    return problems


MIN_GAP_PX = 11.0  # 2 mm between two touch targets at 0.1905 mm/px (EN 301 549, issue 13)
MIN_TARGET_PX = 48.0  # 9 mm


def _gap(a: Rect, b: Rect) -> float:
    """The shortest distance between two rectangles (0 when they touch or overlap)."""
    gx = max(a[0] - b[2], b[0] - a[2], 0.0)
    gy = max(a[1] - b[3], b[1] - a[3], 0.0)
    return float((gx * gx + gy * gy) ** 0.5)


def touch_targets(root: Any) -> list[tuple[Any, Rect, int]]:
    """Every visible button under ``root`` (what a finger can touch), its visible part
    and its layer."""
    from kivy.uix.button import Button

    out = []
    for widget in walk(root):
        if isinstance(widget, Button) and _shown(widget):
            rect = visible_rect(widget)
            if rect is not None:
                out.append((widget, rect, _layer(widget)))
    return out


def target_problems(root: Any) -> tuple[list[str], float | None]:
    """Touch targets closer than 2 mm to each other or smaller than 9 mm, and the
    smallest gap seen between two targets of the same layer."""
    problems: list[str] = []
    smallest: float | None = None
    targets = touch_targets(root)
    for widget, _rect, _layer_id in targets:
        full = window_rect(widget)
        if min(full[2] - full[0], full[3] - full[1]) < MIN_TARGET_PX - TOLERANCE:
            problems.append(f"{_describe(widget)} is smaller than {MIN_TARGET_PX:.0f} px")
    for (a, ra, la), (b, rb, lb) in combinations(targets, 2):
        if la != lb:
            continue  # an overlay over the page: one hides the other
        gap = _gap(ra, rb)
        smallest = gap if smallest is None else min(smallest, gap)
        if gap < MIN_GAP_PX:
            problems.append(
                f"{_describe(a)} {_fmt(ra)} is {gap:.1f} px from {_describe(b)} {_fmt(rb)}"
            )
    return problems, smallest


def _fmt(rect: Rect) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in rect) + ")"


def geometry(root: Any) -> list[tuple[float, ...]]:
    out: list[tuple[float, ...]] = []
    for widget in walk(root):
        size = tuple(getattr(widget, "texture_size", (0, 0)))
        out.append((*window_rect(widget), *size))
    return out


def strings_of(widget: Any) -> Iterator[str]:
    """Every string a widget holds in a Kivy property (text, label, buffer, shown…)."""
    for name in widget.properties():
        with contextlib.suppress(Exception):
            value = getattr(widget, name)
            if isinstance(value, str) and value:
                yield value


def all_screens_widgets(manager: Any) -> Iterator[Any]:
    """Every widget of every screen, current or not, attached or kept aside (the
    contact screen keeps its editor and summary out of the tree in turn)."""
    from kivy.uix.widget import Widget

    seen: set[int] = set()
    roots = [manager, *manager.screens]
    for screen in manager.screens:
        roots += [v for v in vars(screen).values() if isinstance(v, Widget)]
    for root in roots:
        for widget in walk(root):
            if id(widget) not in seen:
                seen.add(id(widget))
                yield widget


def leaks(manager: Any, secrets: list[str]) -> list[str]:
    found = []
    for widget in all_screens_widgets(manager):
        for value in strings_of(widget):
            for secret in secrets:
                if secret in value:
                    found.append(f"{type(widget).__name__} holds {secret!r}: {value[:80]!r}")
    return found


def patient_secrets(card: dict[str, Any]) -> list[str]:
    from kiosk.ui.formatting import display_birth_date, spaced_mobile

    secrets = [MOBILE, spaced_mobile(MOBILE), EMAIL, EMAIL[:8]]
    for person in card["beneficiaries"]:
        secrets += [person["first_name"], person["last_name"], person["birth_name"],
                    person["birth_date"], display_birth_date(person["birth_date"], "fr"),
                    display_birth_date(person["birth_date"], "en")]  # fmt: skip
        if person["nir"]:
            secrets.append(person["nir"])
    return sorted(set(secrets))


# --- the bridge between a scenario thread and the Kivy thread ------------------------------


class Stage:
    """Records each render (on the Kivy thread) for a scenario running on its own thread,
    which waits for renders and runs its taps on the Kivy thread through :meth:`on_ui`."""

    def __init__(self) -> None:
        self.app: Any = None
        self.cond = threading.Condition()
        self.renders: list[tuple[float, f.Flow]] = []
        self.texts_seen: set[str] = set()
        # what the consent covers, as the screens last showed it: screen -> texts
        self.consent_seen: dict[str, list[str]] = {}
        self.then: Callable[[f.Flow, Any], None] | None = None

    def rendered(self, flow: f.Flow, screen: Any) -> None:
        now = time.monotonic()
        for widget in walk(screen):
            self.texts_seen.update(strings_of(widget))
        self.texts_seen.add(repr(flow))
        self._consent_texts(flow, screen.ids)
        with self.cond:
            self.renders.append((now, flow))
            self.cond.notify_all()
        if self.then is not None:
            self.then(flow, screen)

    def _consent_texts(self, flow: f.Flow, ids: Any) -> None:
        """The texts the consent covers, read off the widgets the patient saw: the
        information, the consent screen when its box was ticked, the confirmed warning."""
        s = f.Screen
        if flow.screen is s.INFORMATION:
            self.consent_seen["information"] = [ids.information.text]
        elif flow.screen is s.CONSENT and flow.choices.consent and not flow.warning:
            declaration = [ids.declaration.text] if ids.declaration.text else []
            boxes = [ids[name].label for name in ("consent", "bris_de_glace", "centre15")]
            self.consent_seen.setdefault("consent", declaration + boxes)
        elif flow.screen is s.CONSENT and not flow.choices.consent:
            self.consent_seen.pop("consent", None)  # unticked: ticked again later
        elif flow.screen is s.CONTACT and flow.choices.web_access_warned:
            self.consent_seen["contact"] = [ids.message.text]

    def mark(self) -> int:
        with self.cond:
            return len(self.renders)

    def wait_render(
        self, since: int, until: Callable[[f.Flow], bool] = lambda _flow: True, timeout: float = 8
    ) -> tuple[float, f.Flow]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, flow in self.renders[since:]:
                    if until(flow):
                        return at, flow
                left = deadline - time.monotonic()
                if left <= 0:
                    last = self.renders[-1][1] if self.renders else None
                    seen = last and (last.screen.value, last.message)
                    raise AssertionError(f"no such render within {timeout} s (last: {seen})")
                self.cond.wait(left)

    def wait_screen(self, screen: f.Screen, since: int, timeout: float = 8) -> f.Flow:
        return self.wait_render(since, lambda flow: flow.screen is screen, timeout)[1]

    def on_ui(self, work: Callable[[], T], timeout: float = 5) -> T:
        from kivy.clock import Clock

        done = threading.Event()
        box: dict[str, Any] = {}

        def run(_dt: float) -> None:
            try:
                box["value"] = work()
            except BaseException as exc:  # noqa: BLE001 - handed back to the scenario thread
                box["error"] = exc
            finally:
                done.set()

        Clock.schedule_once(run, 0)
        if not done.wait(timeout):
            raise AssertionError("the Kivy thread did not run the step in time")
        if "error" in box:
            raise box["error"]
        return cast(T, box["value"])

    def current(self) -> Any:
        return self.app.manager.current_screen

    def settle(self) -> None:
        """Wait until the layout stops moving (texture sizes and heights take frames)."""
        last: list[tuple[float, ...]] | None = None
        for _ in range(60):
            time.sleep(0.03)
            now = self.on_ui(lambda: geometry(self.current()))
            if now == last:
                return
            last = now

    def stop(self) -> None:
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: self.app.stop(), 0)


def run_app(app: Any, stage: Stage, scenario: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run the Kivy app on this (main) thread and ``scenario`` beside it."""
    result: dict[str, Any] = {"error": None}

    def run() -> None:
        try:
            stage.wait_render(0, timeout=20)  # the app is up
            result.update(scenario())
        except BaseException:  # noqa: BLE001 - reported in the JSON line
            result["error"] = traceback.format_exc()
        finally:
            stage.stop()

    threading.Thread(target=run, name="scenario", daemon=True).start()
    app.run()
    return result


# --- scenario: screenshots ----------------------------------------------------------------


class FlowFeed:
    """Stands where the Journey stands for KioskApp: holds the Flow to render. Taps are
    kept, not acted on: this scenario shows states, it does not walk the journey."""

    def __init__(self, flow: f.Flow) -> None:
        self.flow = flow
        self.on_change: Callable[[f.Flow], None] = lambda _flow: None
        self.taps: list[f.Event] = []

    def show(self, flow: f.Flow) -> None:
        self.flow = flow
        self.on_change(flow)

    def dispatch(self, event: f.Event, generation: int | None = None) -> None:
        self.taps.append(event)

    def tick(self) -> None:
        pass


Prepare = Callable[[Any], None]  # run on the Kivy thread on the rendered screen


def _press_text(text: str) -> Prepare:
    def prepare(screen: Any) -> None:
        from kivy.uix.button import Button

        from kiosk.sim.autopilot import press

        button = next(w for w in walk(screen) if isinstance(w, Button) and w.text == text)
        press(button)

    return prepare


def _open_keyboard(field: str, typed: str, back: str | None = None) -> Prepare:
    def prepare(screen: Any) -> None:
        from kiosk.sim.autopilot import press

        if back is not None and screen.editing:
            _press_text(back)(screen)
        press(screen.ids[f"{field}_field"])
        _type_keys(screen.ids.keyboard, typed)

    return prepare


def _type_keys(keyboard: Any, typed: str) -> None:
    from kiosk.sim.autopilot import press
    from kiosk.ui.widgets import KeyButton, key_guard_s

    keys = {w.key: w for w in walk(keyboard) if isinstance(w, KeyButton)}
    for previous, char in zip(" " + typed, typed, strict=False):
        if char == previous:  # a key ignores a second press of itself too soon
            time.sleep(key_guard_s() + 0.02)
        press(keys[char])


def _on_current(stage: Stage, prepare: Prepare) -> None:
    prepare(stage.current())


def _type_code(typed: str) -> Prepare:
    def prepare(screen: Any) -> None:
        _type_keys(screen.ids.keyboard, typed)

    return prepare


def _checks_selfcheck() -> dict[str, list[str]]:
    """A row of two buttons 4 px apart and a 30 px one (as the keys and the header once
    were), and a label too small for its text: what the checks must report, or their
    silence on the screens would mean nothing."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    row = BoxLayout(spacing=4, size=(300, 60), pos=(10, 10))
    row.add_widget(Button(text="1"))
    row.add_widget(Button(text="2"))
    row.add_widget(Button(text="3", size_hint_x=None, width=30))
    row.do_layout()
    cramped = BoxLayout(size=(60, 20), pos=(10, 100))
    cramped.add_widget(Label(text="Texte plus grand que sa place", font_size=24))
    cramped.do_layout()
    for label in cramped.children:
        label.texture_update()
    return {"targets": target_problems(row)[0], "layout": layout_problems(cramped, 800, 480)}


def _key_guard_check(feed: FlowFeed) -> dict[str, Any]:
    """A real keyboard's keys pressed as a finger does (Button.trigger_action): a second
    press of a key within key_guard_ms is ignored, one after counts; a guard of 0 lets
    both through; each press that counts is a Tap("activity") for the journey."""
    from kiosk.sim.autopilot import press
    from kiosk.ui.widgets import KeyButton, OnScreenKeyboard, key_guard_s, set_key_guard_ms

    def keys(purpose: str) -> tuple[Any, dict[str, Any]]:
        keyboard = OnScreenKeyboard(purpose=purpose)
        return keyboard, {w.key: w for w in walk(keyboard) if isinstance(w, KeyButton)}

    before = sum(1 for tap in feed.taps if getattr(tap, "action", "") == "activity")
    keyboard, key = keys("mobile")
    press(key["1"])
    press(key["1"])  # a bounce
    press(key["2"])  # another key: at once
    bounced = keyboard.buffer
    time.sleep(key_guard_s() + 0.05)
    press(key["2"])
    after_guard = keyboard.buffer
    activity = sum(1 for tap in feed.taps if getattr(tap, "action", "") == "activity") - before
    guard = key_guard_s()
    set_key_guard_ms(0)
    try:
        unguarded, key = keys("mobile")
        press(key["3"])
        press(key["3"])
    finally:
        set_key_guard_ms(round(guard * 1000))
    return {
        "guard_s": guard,
        "bounced": bounced,
        "after_guard": after_guard,
        "unguarded": unguarded.buffer,
        "activity_taps": activity,
    }


def _close_editor(screen: Any) -> None:
    """The contact screen keeps its keyboard open across renders (a local tap opened
    it): a state without one closes it, as "Retour" would."""
    if getattr(screen, "editing", ""):
        screen.close_editor()


def _staff_notice(screen: Any) -> None:
    from kivy.app import App

    from kiosk.core.cps_session import CpsState, CpsStatus

    App.get_running_app().show_cps_notice(CpsStatus(CpsState.NEEDS_PIN, 2))


def variants(language: str) -> list[tuple[str, f.Flow, Prepare | None]]:
    """(name, flow, what to do on the screen before the shot) for each state shown, at
    the normal text step, then every one again at the large step (``NAME-large``)."""
    from kiosk.core.code_gate import CodeLocked, WrongCode
    from kiosk.dmp.service_errors import DmpProblem
    from kiosk.hardware.card_errors import CardProblem
    from kiosk.ui.i18n import render, t
    from kiosk.ui.ui_text import UiText

    s = f.Screen
    card = vitale_from_profile(MARTIN)
    long_names = vitale_from_profile(profile("vitale-famille-casanova.json"))
    base = f.Flow(today=TODAY, language=language)
    r = dataclasses.replace
    held = r(base, card=card, beneficiary=0)
    child = r(
        base, card=card, beneficiary=4, representative=0, guardian_role="mere",
        dmp_state="not_found",
    )  # fmt: skip
    contact = f.Choices(consent=True, mobile=MOBILE, email=EMAIL)
    patient_messages = [*CardProblem, *DmpProblem, *f.JourneyProblem]
    longest = max(patient_messages, key=lambda message: len(render(message, language)))
    back = t(UiText.COMMON_BACK, language)
    normal: list[tuple[str, f.Flow, Prepare | None]] = [
        ("welcome", base, None),
        ("welcome-notice", r(base, notice=f.WelcomeNotice.RECEIPT_AT_COUNTER), _staff_notice),
        ("welcome-staff-notice", base, _staff_notice),
        ("insert_card", r(base, screen=s.INSERT_CARD), None),
        ("reading", r(base, screen=s.READING), None),
        ("choose_beneficiary", r(base, screen=s.CHOOSE, card=card), None),
        ("choose_beneficiary-casanova", r(base, screen=s.CHOOSE, card=long_names), None),
        ("guardian", r(base, screen=s.GUARDIAN, card=card, beneficiary=4), None),
        (
            "guardian-chosen",
            r(base, screen=s.GUARDIAN, card=card, beneficiary=4, representative=1),
            None,
        ),
        ("checking", r(held, screen=s.CHECKING), None),
        ("already_exists", r(held, screen=s.EXISTS, dmp_state="exists"), None),
        ("closed", r(held, screen=s.CLOSED, dmp_state="closed"), None),
        ("information", r(child, screen=s.INFORMATION), None),
        ("information-banner", r(child, screen=s.INFORMATION, warning=True), None),
        ("consent", r(child, screen=s.CONSENT), None),
        (
            "consent-ticked",
            r(child, screen=s.CONSENT, choices=f.Choices(consent=True, centre15=False)),
            None,
        ),
        ("consent-banner", r(child, screen=s.CONSENT, warning=True), None),
        ("consent-confirm-refuse", r(child, screen=s.CONSENT, confirming="refuse"), None),
        ("information-confirm-cancel", r(child, screen=s.INFORMATION, confirming="cancel"), None),
        (
            "contact-email-keyboard-banner",
            r(child, screen=s.CONTACT, choices=f.Choices(consent=True), warning=True),
            _open_keyboard("email", EMAIL, back=back),
        ),
        ("contact", r(child, screen=s.CONTACT, choices=f.Choices(consent=True)), None),
        (
            "contact-warned",
            r(child, screen=s.CONTACT, choices=r(contact, web_access_warned=True)),
            None,
        ),
        (
            "contact-mobile-keyboard",
            r(child, screen=s.CONTACT, choices=f.Choices(consent=True)),
            _open_keyboard("mobile", "061234"),
        ),
        (
            "contact-email-keyboard",
            r(child, screen=s.CONTACT, choices=f.Choices(consent=True)),
            _open_keyboard("email", EMAIL, back=back),
        ),
        ("attestation", r(child, screen=s.ATTESTATION, choices=contact), None),
        (
            "attestation-wrong-code",
            r(child, screen=s.ATTESTATION, choices=contact, message=WrongCode(2)),
            _type_code("12"),
        ),
        (
            "attestation-locked",
            r(
                child,
                screen=s.ATTESTATION,
                choices=contact,
                message=CodeLocked(0.0, just_now=True),
            ),
            None,
        ),
        ("creating", r(child, screen=s.CREATING, choices=contact), None),
        (
            "done",
            r(child, screen=s.DONE, outcome=f.Outcome.CREATED, choices=f.Choices(consent=True)),
            None,
        ),
        (
            "done-web-access",
            r(child, screen=s.DONE, outcome=f.Outcome.CREATED, choices=contact, web_access=True),
            None,
        ),
        (
            "done-web-access-failed",
            r(child, screen=s.DONE, outcome=f.Outcome.CREATED, choices=contact),
            None,
        ),
        (
            "done-reactivated",
            r(held, screen=s.DONE, outcome=f.Outcome.REACTIVATED, dmp_state="closed"),
            None,
        ),
        (
            "error",
            r(
                held,
                screen=s.ERROR,
                message=DmpProblem.UNAVAILABLE,
            ),
            None,
        ),
        ("error-unknown", r(base, screen=s.ERROR), None),
        ("error-longest-message", r(held, screen=s.ERROR, message=longest), None),
    ]
    large = [
        (f"{name}-large", r(flow, text_size="large"), then or _close_editor)
        for name, flow, then in normal
    ]
    return normal + large


# Screens whose redraws are counted once shown (scenario_shots): the consent and the
# information scroll, the others' text fits (their TextScroll draws no bar)
IDLE_PROBES = (f.Screen.WELCOME, f.Screen.INFORMATION, f.Screen.CONSENT, f.Screen.CREATING)
IDLE_FROM_S, IDLE_UNTIL_S = 0.3, 1.3  # after the render: where Kivy's bar fade would be


def _held_screens(app: Any) -> list[str]:  # a KioskApp
    return sorted(screen.name for screen in app.manager.screens)


def scenario_shots(language: str, out: Path) -> dict[str, Any]:
    from kivy.core.window import Window

    from kiosk.core.journey import Journey
    from kiosk.ui.app import KioskApp

    out.mkdir(parents=True, exist_ok=True)
    plan = variants(language)
    feed = FlowFeed(plan[0][1])
    stage = Stage()
    app = KioskApp(cast(Journey, feed), on_rendered=stage.rendered, size=(WIDTH, HEIGHT))
    stage.app = app

    def shoot(name: str) -> dict[str, Any]:
        screen = stage.current()
        target = out / f"{name}-{language}.png"
        saved = Window.screenshot(name=str(out / f".{name}-{language}.png"))
        targets = target_problems(screen)
        Path(saved).replace(target)
        return {
            "name": name,
            "language": language,
            "shown": screen.name,
            "png": str(target),
            "window": list(Window.size),
            "problems": layout_problems(screen, *Window.size),
            "target_problems": targets[0],
            "smallest_gap": targets[1],
            "texts": sorted({str(w.text) for w in walk(screen) if getattr(w, "text", "")}),
        }

    flips: list[float] = []
    Window.bind(on_flip=lambda *_args: flips.append(time.monotonic()))

    def scenario() -> dict[str, Any]:
        shots = []
        idle_redraws: dict[str, int] = {}  # a screen left alone: how often it was redrawn
        held: dict[str, list[str]] = {}  # and the screens the app still holds by then
        for name, flow, prepare in plan:
            since = stage.mark()
            feed.show(flow)
            at, _flow = stage.wait_render(since, partial(operator.is_, flow))
            if prepare is not None:
                stage.on_ui(partial(_on_current, stage, prepare))
            elif flow.screen in IDLE_PROBES and flow.screen.value not in idle_redraws:
                time.sleep(max(0.0, at + IDLE_UNTIL_S - time.monotonic()))
                redraws = [t for t in flips if at + IDLE_FROM_S <= t <= at + IDLE_UNTIL_S]
                idle_redraws[flow.screen.value] = len(redraws)
                held[flow.screen.value] = stage.on_ui(partial(_held_screens, app))
            stage.settle()
            shots.append(stage.on_ui(partial(shoot, name)))
        selfcheck = stage.on_ui(_checks_selfcheck)
        key_guard = stage.on_ui(partial(_key_guard_check, feed))
        return {
            "shots": shots,
            "idle_redraws": idle_redraws,
            "held_screens": held,
            "taps": [repr(tap) for tap in feed.taps],
            "selfcheck": selfcheck,
            "key_guard": key_guard,
        }

    return run_app(app, stage, scenario)


# --- the real services ----------------------------------------------------------------------


@dataclasses.dataclass
class Kiosk:
    """The real parts, wired as the Harness of tests/integration/test_journey.py."""

    server: Any
    client: Any
    ledger: Any
    journey: Any
    practitioner: Any
    outcomes: list[str]
    receipts: Path
    printer: Any

    def close(self) -> None:
        self.journey.close()
        self.printer.close()  # receipts print in the background: wait for them
        self.ledger.close()
        self.server.shutdown()
        self.server.server_close()

    def ins_of(self, beneficiary: int) -> str:
        from kiosk.dmp.traits import traits_from_vitale

        traits = traits_from_vitale(vitale_from_profile(MARTIN), beneficiary)
        ins: str = self.client.session(self.practitioner).certified_identity(traits).ins
        return ins

    def last_act(self) -> dict[str, Any] | None:
        row = self.ledger.read(
            lambda conn: conn.execute(
                "SELECT act_code, status, amount_cents FROM entries"
                " WHERE kind = 'act' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        )
        if row is None:
            return None
        return dict(zip(("act_code", "status", "amount_cents"), row, strict=True))

    def last_consent(self) -> dict[str, Any] | None:
        row = self.ledger.read(
            lambda conn: conn.execute(
                "SELECT consent FROM entries WHERE kind = 'act' AND consent > ''"
                " ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))

    def drain(self, timeout: float = 15) -> None:
        """Wait until the journey's worker has nothing left to do."""
        self.journey.wait_idle(timeout)


def build_kiosk(tmp: Path, receipts: Path) -> Kiosk:
    from kiosk.appliance.wiring import patient_reader, receipt_printer
    from kiosk.billing.keys import load_or_create_keys
    from kiosk.billing.ledger import Ledger
    from kiosk.config import Config, KioskConfig
    from kiosk.core.code_gate import CodeGate
    from kiosk.core.journey import Journey, Services
    from kiosk.core.lazy import Lazy
    from kiosk.core.pharmacist_code import hash_code, hashed_code_checker
    from kiosk.dmp.traits import practitioner_from_cps
    from kiosk.sim.sandbox.client_config import sandbox_client
    from kiosk.sim.sandbox.pki import load_pharmacy
    from kiosk.sim.sandbox.server import SandboxServer

    server = SandboxServer(tmp / "sandbox", port=0, fault_delay=1.0).start()
    client = sandbox_client(server, deadline=2.0)
    ledger = Ledger(tmp / "state" / "ledger.db", load_or_create_keys(tmp / "state", "ui-test"))
    cps = cps_from_profile(profile("cps-dupont-titulaire.json"))[0]
    practitioner = practitioner_from_cps(cps)

    outcomes: list[str] = []
    site = KioskConfig(pharmacy_name=load_pharmacy(server.pki.root).name, spool=str(receipts))
    printer = receipt_printer(Config(kiosk=site))
    services = Services(
        read_vitale=patient_reader(Config()),
        client=Lazy.of(client),
        ledger=Lazy.of(ledger),
        practitioner=lambda: practitioner,
        rpps=lambda: cps.rpps,
        check_code=CodeGate(hashed_code_checker(hash_code(CODE))).try_code,
        print_receipt=printer.journey_callback(),
    )
    journey = Journey(
        services, on_finished=lambda outcome: outcomes.append(outcome.value), today=lambda: TODAY
    )
    return Kiosk(server, client, ledger, journey, practitioner, outcomes, receipts, printer)


def wait_slot(present: bool, timeout: float = 5) -> None:
    """Until pcscd sees the patient reader (vpcd slot 0) full, or empty."""
    from kiosk.hardware.pcsc import PcscContext

    deadline = time.monotonic() + timeout
    while True:
        context = PcscContext()
        try:
            if bool(context.card_atrs().get("Virtual PCD 00 00")) is present:
                return
        finally:
            context.close()
        if time.monotonic() > deadline:
            wanted = "full" if present else "empty"
            raise AssertionError(f"pcscd still does not see slot 0 {wanted}")
        time.sleep(0.02)


@contextlib.contextmanager
def patient_card(**options: Any) -> Iterator[Any]:
    """The Martin family's Vitale in the patient reader (vpcd slot 0) until pulled."""
    from kiosk.sim.emulators.profiles import emulator_for
    from kiosk.sim.emulators.vpcd import VpcdCard, slot_port

    card = VpcdCard(emulator_for(MARTIN), slot_port(0), **options).insert()
    try:
        wait_slot(present=True)  # pcscd notices the card on its next poll
        yield card
    finally:
        card.pull()


# --- scenario: the card pulled on every screen ------------------------------------------------


def journey_ends_behind_the_admin(
    stage: Stage, app: Any, insert: Callable[[], None], secrets: list[str]
) -> dict[str, Any]:
    """The pharmacist opens the admin while a patient is on "choose who"; the patient
    leaves (card pulled) behind it: nothing of them may stay in any screen, shown or not."""
    from kivy.uix.screenmanager import Screen

    from kiosk.ui.screens.registry import ADMIN

    def back_to_welcome() -> None:
        deadline = time.monotonic() + 5
        while app.journey.flow.screen is not f.Screen.WELCOME and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the render trigger runs on the next frame

    app.journey.dispatch(f.CardRemoved())  # the last journey's error screen ends
    back_to_welcome()
    with patient_card():
        insert()
        shown = stage.on_ui(lambda: leaks(app.manager, secrets))

        def open_admin() -> None:
            if not app.manager.has_screen(ADMIN):
                app.manager.add_widget(Screen(name=ADMIN))  # stands for the admin on top
            app.manager.current = ADMIN

        stage.on_ui(open_admin)
        app.journey.dispatch(f.CardRemoved())
        back_to_welcome()
        behind = stage.on_ui(lambda: leaks(app.manager, secrets))
        stage.on_ui(app._leave_admin)
        time.sleep(0.3)
        after = stage.on_ui(lambda: leaks(app.manager, secrets))
    return {"leaks_while_shown": len(shown), "leaks_behind": behind, "leaks_after": after}


def scenario_pull(out: Path) -> dict[str, Any]:
    from kiosk.sim.autopilot import action_button, press, type_into
    from kiosk.sim.pcscd import ensure_pcscd
    from kiosk.ui.app import KioskApp

    daemon = ensure_pcscd()
    s = f.Screen
    secrets = patient_secrets(MARTIN)
    stage = Stage()
    with tempfile.TemporaryDirectory(prefix="ui-pull-") as tmp:
        kiosk = build_kiosk(Path(tmp), out / "receipts")
        journey = kiosk.journey
        kiosk.server.store.seed([
            {"ins": kiosk.ins_of(0), "status": "active"},
            {"ins": kiosk.ins_of(1), "status": "closed"},
        ])  # fmt: skip
        app = KioskApp(journey, on_rendered=stage.rendered, size=(WIDTH, HEIGHT))
        stage.app = app
        pulls: list[dict[str, Any]] = []

        def tap(action: str, value: object = None, expect: f.Screen | None = None) -> f.Flow:
            since = stage.mark()
            stage.on_ui(lambda: press(action_button(stage.current(), action, value)))
            if expect is not None:
                return stage.wait_screen(expect, since)
            return stage.wait_render(since)[1]

        def keys(submit: str, text: str) -> f.Flow:
            since = stage.mark()
            stage.on_ui(lambda: type_into(stage.current(), submit, text))
            return stage.wait_render(since)[1]

        def field(name: str) -> None:
            stage.on_ui(lambda: press(stage.current().ids[f"{name}_field"]))

        def insert(expect: f.Screen = s.CHOOSE) -> None:
            since = stage.mark()
            journey.dispatch(f.CardInserted("vitale"))  # what the card monitor sends
            stage.wait_screen(expect, since, timeout=20)

        def pull(label: f.Screen) -> None:
            assert journey.flow.screen is label, (journey.flow.screen, label)
            stage.settle()
            before = stage.on_ui(lambda: leaks(app.manager, secrets))  # the check sees data
            since = stage.mark()
            pulled = time.monotonic()
            journey.dispatch(f.CardRemoved())  # what the card monitor sends
            at, _flow = stage.wait_render(since, lambda flow: flow.screen is s.WELCOME)
            remote = journey._remote
            pulls.append({
                "screen": label.value,
                "seconds": at - pulled,
                "leaks": stage.on_ui(lambda: leaks(app.manager, secrets)),
                "patient_data_before": len(before),
                "flow_holds_patient_data": journey.flow.holds_patient_data(),
                "flow_screen": journey.flow.screen.value,
                "remote": [k for k in ("session", "identity", "receipt")
                           if getattr(remote, k) is not None],
            })  # fmt: skip

        def to_information(beneficiary: int, guardian: str = "mere") -> None:
            insert()
            tap("choose", beneficiary, expect=s.GUARDIAN)
            tap("representative", 0)  # the holder, Jeanne MARTIN, declares
            since = stage.mark()
            tap("guardian", guardian)
            stage.wait_screen(s.INFORMATION, since)

        def to_contact(beneficiary: int, guardian: str = "mere") -> None:
            to_information(beneficiary, guardian)
            tap("next", expect=s.CONSENT)
            tap("toggle", "consent")
            tap("next", expect=s.CONTACT)

        def give_contact() -> None:
            field("mobile")
            keys("mobile", MOBILE)
            field("email")
            keys("email", EMAIL)
            tap("next")  # the web-access warning
            tap("next", expect=s.ATTESTATION)  # confirmed

        def scenario() -> dict[str, Any]:
            pull(s.WELCOME)
            tap("start", expect=s.INSERT_CARD)
            pull(s.INSERT_CARD)
            insert()
            pull(s.CHOOSE)
            insert()
            tap("choose", 2, expect=s.GUARDIAN)
            pull(s.GUARDIAN)
            insert()
            since = stage.mark()
            tap("choose", 0)
            stage.wait_screen(s.EXISTS, since)
            pull(s.EXISTS)
            insert()
            since = stage.mark()
            tap("choose", 1)
            stage.wait_screen(s.CLOSED, since)
            pull(s.CLOSED)
            insert()
            since = stage.mark()
            tap("choose", 1)
            stage.wait_screen(s.CLOSED, since)
            tap("reactivate", True, expect=s.INFORMATION)
            pull(s.INFORMATION)
            to_information(2)
            tap("next", expect=s.CONSENT)
            tap("toggle", "consent")
            tap("toggle", "centre15")
            pull(s.CONSENT)
            to_contact(2, "pere")
            field("mobile")
            keys("mobile", MOBILE)
            field("email")  # typing, not validated yet: only in the keyboard
            stage.on_ui(lambda: _type_keys(stage.current().ids.keyboard, EMAIL))
            pull(s.CONTACT)
            to_contact(2, "tuteur")
            give_contact()
            stage.on_ui(lambda: _type_keys(stage.current().ids.keyboard, "24"))
            pull(s.ATTESTATION)
            # the DMP service is slow: the patient leaves while it is being asked
            kiosk.server.faults["status"] = "timeout"
            insert()
            tap("choose", 4, expect=s.GUARDIAN)
            tap("representative", 1)
            tap("guardian", "pere", expect=s.CHECKING)
            pull(s.CHECKING)
            kiosk.drain()
            kiosk.server.faults.clear()
            # ... or while the DMP is being created (the creation runs on)
            kiosk.server.faults["create"] = "timeout"
            to_contact(3)
            tap("skip", expect=s.ATTESTATION)
            since = stage.mark()
            stage.on_ui(lambda: type_into(stage.current(), "attest", CODE))
            stage.wait_screen(s.CREATING, since)
            pull(s.CREATING)
            kiosk.drain()
            kiosk.server.faults.clear()
            to_contact(4)
            give_contact()
            since = stage.mark()
            stage.on_ui(lambda: type_into(stage.current(), "attest", CODE))
            stage.wait_screen(s.DONE, since)
            pull(s.DONE)
            kiosk.server.faults["status"] = "malformed"  # an answer the kiosk cannot read
            insert()
            since = stage.mark()
            tap("choose", 0)
            stage.wait_screen(s.ERROR, since)
            pull(s.ERROR)
            kiosk.server.faults.clear()
            # a chip that does not answer keeps the kiosk on "reading"
            martin.pull()
            wait_slot(present=False)
            with patient_card(mute=True):
                insert(expect=s.READING)
                pull(s.READING)
            kiosk.drain()
            behind_admin = journey_ends_behind_the_admin(stage, app, insert, secrets)
            return {
                "behind_admin": behind_admin,
                "pulls": pulls,
                "outcomes": kiosk.outcomes,
                "dmps": kiosk.server.store.list(),
                "texts_seen": sorted(stage.texts_seen),
            }

        try:
            with patient_card() as martin:
                result = run_app(app, stage, scenario)
        finally:
            kiosk.close()
            daemon.stop()
    return result


# --- scenario: the autopilot on the real services ----------------------------------------------


def scenario_autopilot(
    plan_path: Path, out: Path, seed: str | None, faults: list[str]
) -> dict[str, Any]:
    """``seed``: ``INDEX=closed|active``, that beneficiary's DMP already in the sandbox."""
    from kivy.clock import Clock

    from kiosk.core.card_events import PatientCardEvents
    from kiosk.hardware.pcsc import CardMonitor
    from kiosk.sim.autopilot import Autopilot
    from kiosk.sim.pcscd import ensure_pcscd
    from kiosk.sim.plan import Plan
    from kiosk.ui.app import KioskApp

    daemon = ensure_pcscd()
    stage = Stage()
    result: dict[str, Any] = {"error": None}
    with tempfile.TemporaryDirectory(prefix="ui-autopilot-") as tmp:
        kiosk = build_kiosk(Path(tmp), out / "receipts")
        seeded = None
        for fault in faults:  # OP=KIND, as `kiosk dmp sandbox --fault`
            operation, kind = fault.split("=")
            kiosk.server.faults[operation] = kind
        if seed is not None:
            index, state = seed.split("=")
            seeded = kiosk.ins_of(int(index))
            kiosk.server.store.seed([{"ins": seeded, "status": state}])
        app = KioskApp(kiosk.journey, on_rendered=stage.rendered, size=(WIDTH, HEIGHT))
        stage.app = app

        def done(summary: dict[str, Any]) -> None:
            result.update(summary)
            app.stop()

        autopilot = Autopilot(Plan.load(plan_path), out / "shots", done)
        kiosk.journey.on_finished = autopilot.finished
        stage.then = autopilot.rendered

        def too_long(_dt: float) -> None:
            result["error"] = f"the autopilot did not finish (screens: {autopilot.screens})"
            app.stop()

        Clock.schedule_once(too_long, 45)
        monitor = CardMonitor(PatientCardEvents(kiosk.journey.dispatch)).start()
        try:
            with patient_card():
                app.run()
        except BaseException:  # noqa: BLE001 - reported in the JSON line
            result["error"] = traceback.format_exc()
        finally:
            monitor.stop()
            kiosk.drain()
            result["ledger_last_act"] = kiosk.last_act()
            result["ledger_ok"] = kiosk.ledger.verify().ok
            status = None if seeded is None else kiosk.server.store.status(seeded)[0]
            result["seeded_status"] = status
            result["dmps"] = kiosk.server.store.list()
            result["remote_web_access"] = kiosk.journey._remote.receipt is not None
            result["ledger_last_consent"] = kiosk.last_consent()
            result["flow_holds_patient_data"] = kiosk.journey.flow.holds_patient_data()
            kiosk.close()
            daemon.stop()
    result["texts_seen"] = sorted(stage.texts_seen)
    result["consent_seen"] = stage.consent_seen
    return result


# --- scenario: speech mode (issue 13 items 1, 2, 7) -------------------------------------------


def expected_speech(screen: Any, language: str) -> list[str]:
    """What the transcript of ``screen`` must hold on the headset, read off the widget
    tree here, independently of kiosk.ui.speech_walk: every visible text, and every
    control with its role and state."""
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    from kiosk.ui.i18n import t
    from kiosk.ui.ui_text import UiText as U
    from kiosk.ui.widgets import (
        CheckRow,
        KeyButton,
        OnScreenKeyboard,
        Overlay,
        SpeechBar,
        StaffLabel,
    )

    frame = screen.frame
    overlays = [c for c in frame.children if isinstance(c, Overlay)]
    root = overlays[0] if overlays else frame
    wanted = []
    for widget in walk(root):
        if not isinstance(widget, Label) or isinstance(widget, StaffLabel):
            continue
        if not _shown(widget) or widget.width <= 0 or widget.height <= 0:
            continue
        ancestors = list(_ancestors(widget))
        if any(isinstance(a, (SpeechBar, Button)) for a in ancestors):
            continue
        keyboard = next((a for a in ancestors if isinstance(a, OnScreenKeyboard)), None)
        text = " ".join(str(widget.text).split())
        if isinstance(widget, CheckRow):
            key = U.SPEECH_CHECKED if widget.checked else U.SPEECH_UNCHECKED
            wanted.append(t(key, language, label=" ".join(widget.label.split())))
        elif not text:
            continue
        elif isinstance(widget, KeyButton):
            hidden = widget.keyboard is not None and widget.keyboard.purpose == "attest"
            wanted.append(t(U.SPEECH_KEY_HIDDEN, language) if hidden
                          else t(U.SPEECH_KEY, language, label=text))  # fmt: skip
        elif isinstance(widget, Button):
            key = U.SPEECH_BUTTON_DISABLED if widget.disabled else U.SPEECH_BUTTON
            wanted.append(t(key, language, label=text))
        elif keyboard is not None and keyboard.purpose == "attest" and keyboard.buffer:
            wanted.append(t(U.SPEECH_FIELD_MASKED, language))
        else:
            wanted.append(text)
    return wanted


def scenario_speech(language: str) -> dict[str, Any]:
    """Every screen state of the shots scenario in speech mode: what is said on the
    loudspeaker and on a headset, against the widget tree; then explore by touch on the
    consent screen, and the card pulled while speaking."""
    from kivy.app import App

    from kiosk.core.journey import Journey
    from kiosk.ui.app import KioskApp
    from kiosk.ui.speech import Outputs
    from kiosk.ui.widgets import SpeechBar

    plan = variants(language)
    feed = FlowFeed(plan[0][1])
    stage = Stage()
    app = KioskApp(cast(Journey, feed), on_rendered=stage.rendered, size=(WIDTH, HEIGHT))
    stage.app = app
    spoken: list[dict[str, str]] = []
    app.on_spoken = lambda screen, text, channel: spoken.append(
        {"screen": screen, "text": text, "channel": channel}
    )
    speaker_only, with_headset = Outputs(), Outputs(headset_device="plughw:CARD=Headset")
    stops: list[float] = []
    real_stop = app.speaker.stop

    def counting_stop() -> None:
        stops.append(time.monotonic())
        real_stop()

    app.speaker.stop = counting_stop  # type: ignore[method-assign]

    def show(flow: f.Flow) -> None:
        since = stage.mark()
        feed.show(flow)
        stage.wait_render(since, partial(operator.is_, flow))

    def read_both() -> dict[str, Any]:
        screen = stage.current()
        said = {}
        for name, outputs in (("speaker", speaker_only), ("headset", with_headset)):
            app.speaker.outputs = outputs
            del spoken[:]
            app.speech_mode.read_aloud()
            said[name] = spoken[-1]
        app.speaker.outputs = speaker_only
        bar = [w for w in walk(screen) if isinstance(w, SpeechBar)]
        return {"said": said, "expected": expected_speech(screen, language),
                "bar_shown": bool(bar) and bar[0].parent is not None,
                "problems": layout_problems(screen, WIDTH, HEIGHT)}  # fmt: skip

    def scenario() -> dict[str, Any]:
        states = []
        for name, flow, prepare in plan:
            show(flow)
            if prepare is not None:
                stage.on_ui(partial(_on_current, stage, prepare))
            stage.settle()
            del spoken[:]
            show(dataclasses.replace(flow, speech=True))
            stage.settle()
            time.sleep(0.1)  # the screen is said a frame or two after it is drawn
            on_arrival = [dict(entry) for entry in spoken]
            state = stage.on_ui(read_both)
            states.append({"name": name, "on_arrival": on_arrival, **state})
        return {"states": states, **explore_and_pull()}

    def explore_and_pull() -> dict[str, Any]:
        consent = next(flow for name, flow, _p in plan if name == "consent")
        flow = dataclasses.replace(consent, speech=True)
        show(flow)
        stage.settle()
        del feed.taps[:]
        row = stage.on_ui(lambda: stage.current().ids.consent)
        stage.on_ui(lambda: row.trigger_action(duration=0))
        first = [repr(tap) for tap in feed.taps]
        explored = [entry["text"] for entry in spoken[-1:]]
        stage.on_ui(lambda: row.trigger_action(duration=0))
        second = [repr(tap) for tap in feed.taps]
        stops_before = len(stops)
        pulled, _commands = f.step(flow, f.CardRemoved())
        del spoken[:]
        show(pulled)
        stage.settle()
        said_after_pull = [dict(entry) for entry in spoken]
        # without speech mode, the "are you still there?" warning is said all the same
        quiet = dataclasses.replace(consent, speech=False, warning=False)
        show(quiet)
        stage.settle()
        del spoken[:]
        show(dataclasses.replace(quiet, warning=True))
        stage.settle()
        return {
            "warning_said": [dict(entry) for entry in spoken],
            "explore_first_taps": first,
            "explore_said": explored,
            "explore_second_taps": second,
            "pulled_speech": pulled.speech,
            "stopped_on_pull": len(stops) > stops_before,
            "said_after_pull": said_after_pull,
            "app_is_kiosk": App.get_running_app() is app,
        }

    return run_app(app, stage, scenario)


def main(argv: list[str]) -> int:
    global WIDTH, HEIGHT  # the window size, set before Kivy starts
    parser = argparse.ArgumentParser(prog="ui_driver")
    sub = parser.add_subparsers(dest="scenario", required=True)
    shots = sub.add_parser("shots")
    shots.add_argument("language", choices=["fr", "en"])
    shots.add_argument("out", type=Path)
    shots.add_argument("--size", default=f"{WIDTH}x{HEIGHT}", help="WIDTHxHEIGHT")
    pull = sub.add_parser("pull")
    pull.add_argument("out", type=Path)
    speech = sub.add_parser("speech")
    speech.add_argument("language", choices=["fr", "en"])
    auto = sub.add_parser("autopilot")
    auto.add_argument("plan", type=Path)
    auto.add_argument("out", type=Path)
    auto.add_argument("--seed", default=None, help="INDEX=closed|active")
    auto.add_argument("--fault", action="append", default=[])
    args = parser.parse_args(argv)
    if args.scenario == "shots":
        WIDTH, HEIGHT = (int(v) for v in args.size.split("x"))
    logging.basicConfig(format="%(asctime)s %(threadName)s %(name)s: %(message)s")
    logging.getLogger("kiosk").setLevel(logging.DEBUG)  # never patient data (§1)
    xvfb = start_kivy()
    started = time.monotonic()
    try:
        if args.scenario == "shots":
            result = scenario_shots(args.language, args.out)
        elif args.scenario == "pull":
            result = scenario_pull(args.out)
        elif args.scenario == "speech":
            result = scenario_speech(args.language)
        else:
            result = scenario_autopilot(args.plan, args.out, args.seed, args.fault)
    except BaseException:  # noqa: BLE001 - reported in the JSON line
        result = {"error": traceback.format_exc()}
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    result["seconds"] = round(time.monotonic() - started, 3)
    sys.stdout.write(json.dumps(result, default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
