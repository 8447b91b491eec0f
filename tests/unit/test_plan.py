"""The autopilot's JSON plan: every key checked against the Plan dataclass, all at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiosk.sim.errors import SimulationError
from kiosk.sim.plan import AutopilotError, Plan

JOURNEYS = Path(__file__).resolve().parents[2] / "kiosk" / "sim" / "data" / "journeys"


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def problems(tmp_path: Path, data: dict[str, Any]) -> str:
    path = write(tmp_path, data)
    with pytest.raises(AutopilotError) as caught:
        Plan.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert len(message.splitlines()) == 1
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize("journey", sorted(JOURNEYS.glob("*.json")), ids=lambda p: p.stem)
def test_the_shipped_journeys_load(journey: Path) -> None:
    assert isinstance(Plan.load(journey), Plan)


def test_a_plan_is_read_with_its_types(tmp_path: Path) -> None:
    data = {"beneficiary": 2, "consent": False, "mobile": "0612345678", "email": None,
            "guardian": "tuteur", "language": "en", "cps_pin": "1234"}  # fmt: skip
    plan = Plan.load(write(tmp_path, data))
    assert plan == Plan(beneficiary=2, consent=False, mobile="0612345678", guardian="tuteur",
                        language="en", cps_pin="1234")  # fmt: skip
    assert Plan.load(write(tmp_path, {})) == Plan()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"benificiary": 0}, "unknown key 'benificiary' (did you mean 'beneficiary'?)"),
        ({"tempo": 2}, "unknown key 'tempo' (known keys: beneficiary, bris_de_glace,"),
        ({"beneficiary": "0"}, "beneficiary: expected an int, got str"),
        ({"beneficiary": True}, "beneficiary: expected an int, got bool"),
        ({"beneficiary": 1.0}, "beneficiary: expected an int, got float"),
        ({"beneficiary": -1}, "beneficiary: expected an index, 0 or above"),
        ({"consent": 1}, "consent: expected a bool, got int"),
        ({"consent": None}, "consent: expected a bool, got null"),
        ({"pharmacist_code": None}, "pharmacist_code: expected a str, got null"),
        ({"mobile": 612345678}, "mobile: expected a str or null, got int"),
        ({"guardian": "mother"}, "guardian: expected one of mere, pere, tuteur"),
        ({"guardian": None}, "guardian: expected a str, got null"),
        ({"language": "de"}, "language: expected one of fr, en"),
    ],
)
def test_a_wrong_key_is_named(tmp_path: Path, data: dict[str, Any], problem: str) -> None:
    assert problems(tmp_path, data).startswith(problem)


@pytest.mark.parametrize("key", ["mobile", "email", "cps_pin"])
def test_null_is_taken_for_an_optional_key(tmp_path: Path, key: str) -> None:
    assert getattr(Plan.load(write(tmp_path, {key: None})), key) is None


def test_every_problem_at_once(tmp_path: Path) -> None:
    data = {"beneficiary": "0", "consent": 1, "guardian": "mother", "langage": "fr"}
    assert problems(tmp_path, data) == (
        "beneficiary: expected an int, got str; consent: expected a bool, got int; "
        "guardian: expected one of mere, pere, tuteur; "
        "unknown key 'langage' (did you mean 'language'?)"
    )


@pytest.mark.parametrize(("text", "words"), [("{", "not a journey plan"), ("[]", "JSON object")])
def test_not_a_plan(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AutopilotError, match=words):
        Plan.load(path)


def test_a_missing_plan(tmp_path: Path) -> None:
    with pytest.raises(AutopilotError, match="not a journey plan"):
        Plan.load(tmp_path / "absent.json")


def test_the_error_is_a_simulation_error() -> None:
    assert issubclass(AutopilotError, SimulationError)


def test_speech_and_text_size_keys(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"speech": true, "text_size": "large"}', encoding="utf-8")
    plan = Plan.load(path)
    assert (plan.speech, plan.text_size) == (True, "large")
    assert problems(tmp_path, {"text_size": "huge"}).startswith(
        "text_size: expected one of normal, large"
    )
