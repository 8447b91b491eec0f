"""Every screen, in French and in English, drawn by the real KioskApp at 800x480 (and
every state again at 1280x800) under Xvfb: a PNG per screen state and no text outside
the window, cut, or on top of another.

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
    for shot in drawn.values():
        assert shot["window"] == list(LARGE)
        assert png_size(Path(shot["png"])) == LARGE


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
    welcome = "\n".join(drawn["welcome"]["problems"])
    assert "lies outside the 480x320 window" in welcome
    assert "overlaps" in welcome
    assert any("does not fit in its widget" in p for p in drawn["insert_card"]["problems"])
