"""The structure a CPS is attached to: the card's "situations d'exercice" name the
structures its holder works in; a card naming only other structures than the kiosk's
(``[dmp] structure_id``, the VIHF's Identifiant_Structure) is refused before any call,
with its own message; a card naming none is accepted."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from kiosk.core.cps_session import CpsSession, CpsState, CpsStatus, PinEntry, refusal
from kiosk.hardware.cards import ProfileError, cps_from_profile, cps_to_profile
from kiosk.hardware.cps_layout import decode_card, encode_identity, encode_public
from kiosk.ui.i18n import render
from tests.conftest import load_profile

TODAY = dt.date(2026, 6, 1)
HERE, ELSEWHERE = "3750012345", "3130099999"
TITULAIRE = cps_from_profile(load_profile("cps-dupont-titulaire.json"))[0]
ADJOINT = cps_from_profile(load_profile("cps-lefevre-adjoint.json"))[0]


def test_the_demo_cards_name_the_demo_pharmacy() -> None:
    assert TITULAIRE.structures == (HERE,)
    assert HERE in ADJOINT.structures
    assert len(ADJOINT.structures) == 2  # an adjoint in two pharmacies


@pytest.mark.parametrize(
    ("structures", "kiosk", "expected"),
    [
        ((HERE,), HERE, None),
        ((ELSEWHERE, HERE), HERE, None),  # an adjoint in two pharmacies, one of them here
        ((ELSEWHERE,), HERE, CpsState.OTHER_STRUCTURE),
        ((), HERE, None),  # the card names no structure: accepted
        ((ELSEWHERE,), "", None),  # no kiosk structure given: nothing to compare
    ],
)
def test_refusal_by_structure(
    structures: tuple[str, ...], kiosk: str, expected: CpsState | None
) -> None:
    assert refusal(replace(TITULAIRE, structures=structures), TODAY, kiosk) is expected


def test_profession_and_validity_come_first() -> None:
    physician = replace(TITULAIRE, profession="10", structures=(ELSEWHERE,))
    assert refusal(physician, TODAY, HERE) is CpsState.NOT_PHARMACIST
    expired = replace(TITULAIRE, valid_until="20251231", structures=(ELSEWHERE,))
    assert refusal(expired, TODAY, HERE) is CpsState.EXPIRED


def test_the_session_refuses_another_pharmacys_card_once_its_pin_is_right() -> None:
    card = replace(TITULAIRE, structures=(ELSEWHERE,), pin_tries_left=3)
    seen: list[CpsStatus] = []
    session = CpsSession(lambda _pin: card, seen.append, today=lambda: TODAY, structure_id=HERE)
    status, answer = session.enter_pin("1234")
    assert status.state is CpsState.OTHER_STRUCTURE
    assert answer is PinEntry.CARD_REFUSED
    assert session.practitioner() is None  # no DMP call can be made with it
    assert "autre pharmacie" in render(status, "fr")
    assert "another pharmacy" in render(status, "en")
    assert "Claire DUPONT" in render(status, "fr")


def test_the_identity_file_carries_the_structures() -> None:
    for card in (TITULAIRE, ADJOINT, replace(TITULAIRE, structures=())):
        read = decode_card(encode_public(card), encode_identity(card), card.pin_tries_left)
        assert read == card


def test_the_profile_round_trips_with_or_without_structures() -> None:
    profile = load_profile("cps-lefevre-adjoint.json")
    card, _pin = cps_from_profile(profile)
    assert cps_to_profile(card) == {k: v for k, v in profile.items() if k != "pin"}
    bare = {k: v for k, v in profile.items() if k != "structures"}
    assert "structures" not in cps_to_profile(cps_from_profile(bare)[0])


@pytest.mark.parametrize("bad", ["3750012345", ["1", "2", "3", "4"], [""], [12]])
def test_bad_structures_are_refused(bad: object) -> None:
    with pytest.raises(ProfileError, match="structures"):
        cps_from_profile({**load_profile("cps-dupont-titulaire.json"), "structures": bad})
