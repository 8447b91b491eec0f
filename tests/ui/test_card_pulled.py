"""The Carte Vitale pulled on each of the 15 screens, with the real app and services:
back to WELCOME within 1 s and nothing of the patient left, in any widget of any screen
or in the journey (docs/architecture.md §1).

One driver subprocess walks all the screens: a real Journey (the Martin family's Vitale
emulated through pcscd/vpcd, the DMP sandbox over TLS, a ledger), screens reached by
pressing the real buttons and keys, card events dispatched as the card monitor does.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kiosk.core import flow as f
from tests.conftest import READERS, Pcscd, wait_for
from tests.ui.driving import access_codes, pdf_text, run_driver

pytestmark = pytest.mark.pcsc


@pytest.fixture(scope="module")
def pulled(pcscd: Pcscd, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("ui-pull")
    run = run_driver("pull", str(out), timeout=90)
    wait_for(partial(pcscd.absent, READERS[0]), 5, "the driver to pull its card")
    run["out"] = str(out)
    return run


def _pull(run: dict[str, Any], screen: f.Screen) -> dict[str, Any]:
    pulls = {pull["screen"]: pull for pull in run["pulls"]}
    assert screen.value in pulls, f"the card was never pulled on {screen.value}"
    found: dict[str, Any] = pulls[screen.value]
    return found


@pytest.mark.parametrize("screen", list(f.Screen), ids=lambda s: s.value)
def test_card_pulled_returns_to_welcome_within_a_second(
    pulled: dict[str, Any], screen: f.Screen
) -> None:
    pull = _pull(pulled, screen)
    assert pull["flow_screen"] == "welcome"
    assert pull["seconds"] < 1.0, f"{screen.value}: welcome drawn after {pull['seconds']:.3f} s"


@pytest.mark.parametrize("screen", list(f.Screen), ids=lambda s: s.value)
def test_card_pulled_leaves_no_patient_data_anywhere(
    pulled: dict[str, Any], screen: f.Screen
) -> None:
    pull = _pull(pulled, screen)
    assert pull["leaks"] == [], f"{screen.value}: " + "; ".join(pull["leaks"])
    assert pull["flow_holds_patient_data"] is False
    assert pull["remote"] == [], f"{screen.value}: the journey still holds {pull['remote']}"


@pytest.mark.parametrize("screen", [f.Screen.CHOOSE, f.Screen.GUARDIAN, f.Screen.CONTACT])
def test_the_leak_check_sees_patient_data_while_it_is_shown(
    pulled: dict[str, Any], screen: f.Screen
) -> None:
    """Names, birth dates, the mobile and the e-mail typed: found before the pull, so
    finding nothing after it means something."""
    assert _pull(pulled, screen)["patient_data_before"] > 0


def test_the_journeys_pulled_before_the_creation_created_nothing(pulled: dict[str, Any]) -> None:
    """Seeded: Jeanne's DMP (active) and Moussa's (closed). Only the journey that reached
    "done" created one; the card pulled while "creating" timed out left nothing."""
    statuses = sorted((dmp["status"], dmp["web_access"]) for dmp in pulled["dmps"])
    assert statuses == [("active", False), ("active", True), ("closed", False)]
    assert "created" in pulled["outcomes"]


def test_the_access_codes_are_on_paper_only(pulled: dict[str, Any]) -> None:
    (receipt,) = (Path(pulled["out"]) / "receipts").glob("*.pdf")
    identifier, password = access_codes(pdf_text(receipt))
    for text in pulled["texts_seen"]:
        assert password not in text
        assert identifier not in text


def test_a_journey_ended_behind_the_admin_leaves_nothing(pulled: dict[str, Any]) -> None:
    """The wipe applies whatever screen is on top: with the admin open, the patient's
    "choose who" screen behind it is emptied when the journey ends."""
    behind = pulled["behind_admin"]
    assert behind["leaks_while_shown"] > 0  # the check sees the names while they are shown
    assert behind["leaks_behind"] == []
    assert behind["leaks_after"] == []
