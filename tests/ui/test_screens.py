"""Every screen, in French and in English, drawn by the real KioskApp at 800x480 (and
every state again at 1280x800) under Xvfb, at the normal and at the large text step: a
PNG per screen state, no text outside the window, cut, or on top of another, and at
least 2 mm (11 px on the 7-inch panel) between any two touch targets.

One driver subprocess per language draws all the states (Kivy allows one window per
process); the tests below read its JSON. Set KIOSK_SHOTS=1 to keep the PNGs in
out/ui-shots/ (or KIOSK_SHOTS=DIR), else they go to a pytest temporary directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk.core import flow as f
from tests.ui.driving import SIZE, png_size, run_driver, shots_dir

LANGUAGES = ("fr", "en")
SELFCHECK: dict[str, dict[str, list[str]]] = {}  # what the checks said of bad widgets
KEY_GUARD: dict[str, dict[str, Any]] = {}  # the keyboard's guard, pressed in the window
IDLE_REDRAWS: dict[str, dict[str, int]] = {}  # screen left alone -> redraws in a second
HELD: dict[str, dict[str, list[str]]] = {}  # screen left alone -> the screens still built
Shots = Callable[[str], dict[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Shots:
    """``shots(language)``: the states drawn in that language, by name (drawn once)."""
    out = shots_dir(tmp_path_factory.mktemp("ui-shots"))
    runs: dict[str, dict[str, dict[str, Any]]] = {}

    def get(language: str) -> dict[str, dict[str, Any]]:
        if language not in runs:
            run = run_driver("shots", language, str(out))
            runs[language] = {shot["name"]: shot for shot in run["shots"]}
            SELFCHECK[language] = run["selfcheck"]
            KEY_GUARD[language] = run["key_guard"]
            IDLE_REDRAWS[language] = run["idle_redraws"]
            HELD[language] = run["held_screens"]
        return runs[language]

    return get


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("screen", list(f.Screen), ids=lambda s: s.value)
def test_every_screen_is_drawn_without_clipped_or_overlapping_text(
    shots: Shots, screen: f.Screen, language: str
) -> None:
    shot = shots(language)[screen.value]
    assert shot["shown"] == screen.value
    assert shot["window"] == list(SIZE)
    assert png_size(Path(shot["png"])) == SIZE
    problems = "\n  ".join(shot["problems"])
    assert not shot["problems"], f"{screen.value} ({language}):\n  {problems}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_screen_left_alone_is_not_redrawn(shots: Shots, language: str) -> None:
    """Between 0.3 and 1.3 s after a screen is shown, nothing changes on it: the window is
    not redrawn. Kivy's scroll bar fade redrew it frame after frame for half a second (3
    to 8 times here, 49 on the creating screen of a bench journey), each a full software
    render, CPU that a Pi's DMP call needs."""
    shots(language)
    redraws = IDLE_REDRAWS[language]
    assert set(redraws) == {"welcome", "information", "consent", "creating"}, redraws
    assert all(count <= 2 for count in redraws.values()), redraws


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_screens_left_behind_are_dropped(shots: Shots, language: str) -> None:
    """A patient waiting on a screen: the app holds that screen, the welcome screen and
    those likely next (built ahead), and nothing of the screens shown before it (the
    drill shows them all: reading, choose, checking... before information)."""
    from kiosk.ui.app import BUSY, LIKELY_NEXT
    from kiosk.ui.screens.registry import ADMIN

    shots(language)
    waiting = {name: held for name, held in HELD[language].items() if f.Screen(name) not in BUSY}
    assert set(waiting) == {"welcome", "information", "consent"}, waiting
    for name, held in waiting.items():
        allowed = {ADMIN, "welcome", name, *(s.value for s in LIKELY_NEXT[f.Screen(name)])}
        assert set(held) <= allowed, (name, held)
        assert name in held


LARGE = (1280, 800)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_state_fits_a_1280x800_screen_too(
    tmp_path_factory: pytest.TempPathFactory, language: str
) -> None:
    out = shots_dir(tmp_path_factory.mktemp("ui-shots-large")) / "1280x800"
    run = run_driver("shots", language, str(out), "--size", "1280x800")
    drawn = {shot["name"]: shot for shot in run["shots"]}
    assert {screen.value for screen in f.Screen} <= set(drawn)
    problems = {name: shot["problems"] for name, shot in drawn.items() if shot["problems"]}
    assert problems == {}
    too_close = {name: shot["target_problems"] for name, shot in drawn.items()
                 if shot["target_problems"]}  # fmt: skip
    assert too_close == {}
    for shot in drawn.values():
        assert shot["window"] == list(LARGE)
        assert png_size(Path(shot["png"])) == LARGE
    assert {f"{screen.value}-large" for screen in f.Screen} <= set(drawn)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_state_of_the_screens_is_drawn_without_clipped_or_overlapping_text(
    shots: Shots, language: str
) -> None:
    """Consent ticked or not, contact warned, keyboards open, wrong code, banner, the
    longest error message, the longest names on a card…"""
    drawn = shots(language)
    assert len(drawn) > len(f.Screen)
    problems = {name: shot["problems"] for name, shot in drawn.items() if shot["problems"]}
    assert problems == {}
    for shot in drawn.values():
        assert png_size(Path(shot["png"])) == SIZE


def test_screens_speak_the_language_chosen(shots: Shots) -> None:
    fr, en = shots("fr"), shots("en")
    assert "Je refuse" in fr["consent"]["texts"]
    assert "I refuse" in en["consent"]["texts"]
    assert "English" in fr["welcome"]["texts"]  # the header offers the other language
    assert "Français" in en["welcome"]["texts"]
    for language, drawn in (("fr", fr), ("en", en)):
        for name, shot in drawn.items():
            keys = [text for text in shot["texts"] if re.fullmatch(r"[a-z_]+\.[a-z_]+", text)]
            assert not keys, f"{name} ({language}) shows untranslated keys: {keys}"
    assert not {"Je refuse", "Suivant", "Annuler"} & set(en["consent"]["texts"])
    assert not {"I refuse", "Next", "Cancel"} & set(fr["consent"]["texts"])


def test_the_layout_check_sees_problems_when_there_are_some(tmp_path: Path) -> None:
    """The same screens in a 480x320 window do not fit: the check must say so, or its
    silence above would mean nothing."""
    run = run_driver("shots", "en", str(tmp_path), "--size", "480x320")
    drawn = {shot["name"]: shot for shot in run["shots"]}
    assert drawn["welcome"]["window"] == [480, 320]
    # the texts now wrap and scroll: the header's buttons are what no longer fits
    insert_card = "\n".join(drawn["insert_card"]["problems"])
    assert "lies outside the 480x320 window" in insert_card
    assert any("overlaps" in p for shot in drawn.values() for p in shot["problems"])
    # a text too big for its widget, checked by the same code in the same window
    assert any("does not fit in its widget" in p for p in run["selfcheck"]["layout"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_is_drawn_at_the_large_text_step_too(shots: Shots, language: str) -> None:
    drawn = shots(language)
    for screen in f.Screen:
        large = drawn[f"{screen.value}-large"]
        assert large["shown"] == screen.value
        assert not large["problems"], f"{screen.value}-large ({language}): {large['problems']}"
    normal = [name for name in drawn if not name.endswith("-large")]
    assert {f"{name}-large" for name in normal} <= set(drawn)  # every state, both steps
    # the header's "Aa" button offers the other step
    assert ("Aa Grand" if language == "fr" else "Aa Large") in drawn["consent"]["texts"]
    assert ("Normal" if language == "fr" else "Regular") in drawn["consent-large"]["texts"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_touch_targets_are_at_least_2_mm_apart_on_every_state(shots: Shots, language: str) -> None:
    """Header buttons, keyboard keys (0.76 mm apart before), button rows, overlays:
    every pair of visible buttons of a state, at both text steps."""
    drawn = shots(language)
    too_close = {name: shot["target_problems"] for name, shot in drawn.items()
                 if shot["target_problems"]}  # fmt: skip
    assert too_close == {}
    gaps = [shot["smallest_gap"] for shot in drawn.values() if shot["smallest_gap"] is not None]
    assert min(gaps) >= 11
    assert drawn["contact-email-keyboard"]["smallest_gap"] >= 11  # the keys


def test_the_target_check_sees_buttons_too_close(shots: Shots) -> None:
    """Two buttons 4 px apart and a 30 px one, checked by the same code in the same
    window: the check must report them, or its silence above would mean nothing."""
    shots("fr")
    selfcheck = SELFCHECK["fr"]["targets"]
    assert any("is 4.0 px from" in problem for problem in selfcheck), selfcheck
    assert any("smaller than 48 px" in problem for problem in selfcheck), selfcheck


@pytest.mark.parametrize("language", LANGUAGES)
def test_cancel_and_refuse_are_asked_once_more(shots: Shots, language: str) -> None:
    drawn = shots(language)
    fr = language == "fr"
    refuse = drawn["consent-confirm-refuse"]["texts"]
    assert ("Vous refusez l'ouverture du DMP ?" if fr else "You refuse to open the DMP?") in refuse
    assert ("Oui, je refuse" if fr else "Yes, I refuse") in refuse
    assert ("Non, continuer" if fr else "No, go on") in refuse
    cancel = drawn["information-confirm-cancel"]["texts"]
    assert ("Voulez-vous vraiment arrêter ?" if fr else "Do you really want to stop?") in cancel
    assert ("Oui, arrêter" if fr else "Yes, stop") in cancel
    banner = drawn["information-banner"]["texts"]
    assert ("Plus de temps" if fr else "More time") in banner


def test_a_key_ignores_a_second_press_within_the_guard_and_counts_as_activity(
    shots: Shots,
) -> None:
    """[kiosk] key_guard_ms (300 by default): a shaking finger's bounce is not typed;
    a second press after the guard is, another key at once is; every press that counts
    is activity for the journey (typing slowly does not time out)."""
    shots("fr")
    guard = KEY_GUARD["fr"]
    assert guard["guard_s"] == 0.3
    assert guard["bounced"] == "12"
    assert guard["after_guard"] == "122"
    assert guard["unguarded"] == "33"  # key_guard_ms = 0
    assert guard["activity_taps"] == 3
