"""Speech mode in a real Kivy window (issue 13 items 1, 2, 7): every screen state said
with every visible text and control with its state, no personal data on the
loudspeaker, explore by touch, silence when the card is pulled; and a whole journey by
the autopilot in speech mode, its transcript (speech.jsonl) checked."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kiosk.ui.i18n import t
from kiosk.ui.ui_text import UiText
from tests.conftest import READERS, Pcscd, wait_for
from tests.ui.driving import run_driver
from tests.ui.ui_driver import EMAIL, MARTIN, MOBILE, patient_secrets, profile

pytestmark = pytest.mark.pcsc

SECRETS = sorted(
    {
        s
        for s in patient_secrets(MARTIN) + patient_secrets(profile("vitale-famille-casanova.json"))
        if len(s) >= 3
    }
)


@pytest.fixture(scope="module", params=["fr", "en"])
def speech(request: pytest.FixtureRequest) -> dict[str, Any]:
    return run_driver("speech", request.param, timeout=240)


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_every_state_is_said_whole_with_roles_and_states(speech: dict[str, Any]) -> None:
    missing = {}
    for state in speech["states"]:
        said = " ".join(state["said"]["headset"]["text"].split())
        lost = [part for part in state["expected"] if part not in said]
        if lost:
            missing[state["name"]] = {"missing": lost, "said": said}
        assert state["bar_shown"], state["name"]
        assert state["problems"] == [], state["name"]  # the speech bar fits: nothing clipped
        assert state["on_arrival"], f"{state['name']}: nothing said when it appeared"
    assert missing == {}


def test_no_personal_data_on_the_loudspeaker(speech: dict[str, Any]) -> None:
    found = {}
    for state in speech["states"]:
        loud = [entry for entry in state["on_arrival"] if entry["channel"] == "speaker"]
        loud.append(state["said"]["speaker"])
        assert state["said"]["speaker"]["channel"] == "speaker"
        for entry in loud:
            if leaked(entry["text"]):
                found[state["name"]] = (leaked(entry["text"]), entry["text"])
    assert found == {}
    headset = " ".join(state["said"]["headset"]["text"] for state in speech["states"])
    assert "MARTIN" in headset  # the headset hears the names


def test_explore_by_touch_then_act(speech: dict[str, Any]) -> None:
    assert speech["explore_first_taps"] == ["Tap(action='activity', value=None)"]
    assert speech["explore_said"], "the first touch said nothing"
    assert speech["explore_second_taps"][-1] == "Tap(action='toggle', value='consent')"


def test_speech_stops_when_the_card_is_pulled(speech: dict[str, Any]) -> None:
    assert speech["pulled_speech"] is False
    assert speech["stopped_on_pull"] is True
    assert speech["said_after_pull"] == []


def test_the_inactivity_warning_is_said_even_without_speech_mode(speech: dict[str, Any]) -> None:
    """An alert by more than one sense: shown, and said on the loudspeaker."""
    (said,) = speech["warning_said"]
    assert said["channel"] == "speaker"
    questions = [t(UiText.STILL_HERE_QUESTION, language) for language in ("fr", "en")]
    assert any(question in said["text"] for question in questions), said


def test_an_autopilot_journey_in_speech_mode(pcscd: Pcscd, tmp_path: Path) -> None:
    """A child's DMP with a mobile, in speech mode switched on by a long press: the
    transcript names every screen, and the loudspeaker never hears a name or the mobile."""
    plan = tmp_path / "speech.json"
    plan.write_text(json.dumps({
        "beneficiary": 2, "guardian": "mere", "consent": True, "centre15": False,
        "mobile": MOBILE, "email": None, "pharmacist_code": "2468", "speech": True,
    }), encoding="utf-8")  # fmt: skip
    out = tmp_path / "out"
    run = run_driver("autopilot", str(plan), str(out), timeout=90)
    wait_for(partial(pcscd.absent, READERS[0]), 5, "the driver to pull its card")
    assert run["outcome"] == "created", run["log"]
    lines = (out / "shots" / "speech.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries, "nothing was said"
    assert {frozenset(entry) for entry in entries} == {frozenset({"screen", "text", "channel"})}
    assert {entry["channel"] for entry in entries} == {"speaker"}  # the demo: no headset
    said_on = {entry["screen"] for entry in entries}
    for screen in ("choose_beneficiary", "guardian", "information", "consent", "contact",
                   "attestation", "done"):  # fmt: skip
        assert screen in said_on, (screen, said_on)
    assert set(said_on) <= set(run["screens"])
    text = " ".join(entry["text"] for entry in entries)
    for secret in [*SECRETS, MOBILE, "06 12 34 56 78", EMAIL, "2468"]:
        assert secret not in text, secret
    assert "votre numéro est affiché à l'écran" in text
    assert "chiffre saisi" in text  # the attestation code's keys, never the digits
