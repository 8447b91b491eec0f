"""Card profiles (docs/architecture.md §3): validation names the bad field, round trips."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from kiosk.hardware.cards import (
    MAX_BENEFICIARIES,
    ProfileError,
    cps_from_profile,
    cps_to_profile,
    profile_kind,
    vitale_from_profile,
    vitale_to_profile,
)
from kiosk.sim.data import CARDS_DIR
from tests.integration.strategies import vitale_profiles

CARDS = CARDS_DIR
VITALE_FILES = sorted(CARDS.glob("vitale-*.json"))
CPS_FILES = sorted(CARDS.glob("cps-*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_shipped_profiles_are_found() -> None:
    assert len(VITALE_FILES) >= 3
    assert len(CPS_FILES) >= 2
    assert len(VITALE_FILES) + len(CPS_FILES) == len(list(CARDS.glob("*.json")))


@pytest.mark.parametrize("path", VITALE_FILES, ids=lambda p: p.name)
def test_shipped_vitale_profiles_round_trip(path: Path) -> None:
    profile = load(path)
    assert profile_kind(profile) == "vitale"
    assert vitale_to_profile(vitale_from_profile(profile)) == profile


@pytest.mark.parametrize("path", CPS_FILES, ids=lambda p: p.name)
def test_shipped_cps_profiles_round_trip_without_the_pin(path: Path) -> None:
    profile = load(path)
    assert profile_kind(profile) == "cps"
    card, pin = cps_from_profile(profile)
    assert pin == profile["pin"]
    expected = {k: v for k, v in profile.items() if k != "pin"}
    assert cps_to_profile(card) == expected
    assert "pin" not in cps_to_profile(card)
    assert cps_to_profile(card)["pin_tries_left"] == profile["pin_tries_left"]


@settings(max_examples=50)
@given(vitale_profiles())
def test_generated_vitale_profiles_round_trip(profile: dict[str, Any]) -> None:
    assert vitale_to_profile(vitale_from_profile(profile)) == profile


@pytest.mark.parametrize("tries", [0, 1, 2, 3])
def test_cps_tries_left_kept(tries: int) -> None:
    profile = load(CPS_FILES[0]) | {"pin_tries_left": tries}
    card, _pin = cps_from_profile(profile)
    assert cps_to_profile(card)["pin_tries_left"] == tries


# --- invalid profiles ---------------------------------------------------------------

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """Set a dotted path (``beneficiaries.0.nir``) in the profile."""

    def edit(profile: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = profile
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return edit


def _delete(path: str) -> Edit:
    def edit(profile: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = profile
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return edit


def _bad_key(nir: str) -> str:
    return nir[:13] + f"{(int(nir[13:]) % 97) + 1:02d}"


VITALE = load(CARDS / "vitale-famille-martin.json")
HOLDER_NIR = VITALE["holder_nir"]
SPOUSE_NIR = VITALE["beneficiaries"][1]["nir"]
BENEFICIARY = VITALE["beneficiaries"][0]

VITALE_CASES: list[tuple[str, Edit, str]] = [
    ("unknown key", _set("colour", "green"), "'colour'"),
    ("missing key", _delete("centre"), "'centre'"),
    ("card kind", _set("card", "cps"), "card"),
    ("card kind missing", _set("card", None), "card"),
    ("serial letters", _set("serial", "01234X6789"), "serial"),
    ("serial too long", _set("serial", "1" * 21), "serial"),
    ("valid_from short", _set("valid_from", "2018011"), "valid_from"),
    ("regime length", _set("regime", "001"), "regime"),
    ("caisse int", _set("caisse", 751), "caisse"),
    ("centre letters", _set("centre", "00O1"), "centre"),
    ("holder NIR key", _set("holder_nir", _bad_key(HOLDER_NIR)), "holder_nir"),
    ("holder NIR newline", _set("holder_nir", HOLDER_NIR + "\n"), "holder_nir"),
    ("holder NIR null", _set("holder_nir", None), "holder_nir"),
    ("holder NIR int", _set("holder_nir", int(HOLDER_NIR)), "holder_nir"),
    ("beneficiaries not a list", _set("beneficiaries", {}), "beneficiaries"),
    (
        "too many beneficiaries",
        _set("beneficiaries", [BENEFICIARY] * (MAX_BENEFICIARIES + 1)),
        "beneficiaries",
    ),
    ("beneficiary not an object", _set("beneficiaries.1", "x"), "beneficiaries[1]"),
    (
        "beneficiary unknown key",
        _set("beneficiaries.2.age", 9),
        "beneficiaries[2]: unknown key 'age'",
    ),
    (
        "beneficiary missing key",
        _delete("beneficiaries.2.first_name"),
        "beneficiaries[2]: missing key 'first_name'",
    ),
    (
        "beneficiary NIR key",
        _set("beneficiaries.1.nir", _bad_key(SPOUSE_NIR)),
        "beneficiaries[1].nir",
    ),
    ("beneficiary NIR short", _set("beneficiaries.1.nir", SPOUSE_NIR[:14]), "beneficiaries[1].nir"),
    (
        "birth_date letter",
        _set("beneficiaries.0.birth_date", "1980O512"),
        "beneficiaries[0].birth_date",
    ),
    ("birth_date dashes", _set("beneficiaries.0.birth_date", "1980-05-12"), "birth_date"),
    ("birth_date int", _set("beneficiaries.0.birth_date", 19800512), "birth_date"),
    ("birth_date full-width", _set("beneficiaries.0.birth_date", "１９８００５１２"), "birth_date"),
    ("birth_rank 0", _set("beneficiaries.3.birth_rank", 0), "beneficiaries[3].birth_rank"),
    ("birth_rank True", _set("beneficiaries.0.birth_rank", True), "beneficiaries[0].birth_rank"),
    ("birth_rank 10", _set("beneficiaries.0.birth_rank", 10), "birth_rank"),
    ("birth_rank text", _set("beneficiaries.0.birth_rank", "1"), "birth_rank"),
    ("birth_rank float", _set("beneficiaries.0.birth_rank", 1.0), "birth_rank"),
    ("quality two digits", _set("beneficiaries.0.quality", "00"), "beneficiaries[0].quality"),
    ("quality letter", _set("beneficiaries.0.quality", "A"), "quality"),
    ("empty last_name", _set("beneficiaries.0.last_name", ""), "beneficiaries[0].last_name"),
    ("long first_name", _set("beneficiaries.0.first_name", "x" * 65), "first_name"),
    ("surrogate", _set("beneficiaries.0.birth_name", "A\ud800"), "beneficiaries[0].birth_name"),
]


@pytest.mark.parametrize(
    ("edit", "field"), [c[1:] for c in VITALE_CASES], ids=[c[0] for c in VITALE_CASES]
)
def test_invalid_vitale_field_is_named(edit: Edit, field: str) -> None:
    profile = copy.deepcopy(VITALE)
    edit(profile)
    with pytest.raises(ProfileError) as caught:
        vitale_from_profile(profile)
    message = str(caught.value)
    assert field in message
    # privacy: no NIR (nor its 13-character body) in the message
    for nir in (HOLDER_NIR, SPOUSE_NIR, _bad_key(HOLDER_NIR), _bad_key(SPOUSE_NIR)):
        assert nir[:13] not in message


@pytest.mark.parametrize("profile", [None, [], "vitale", 42])
def test_vitale_profile_not_an_object(profile: Any) -> None:
    with pytest.raises(ProfileError, match="profile"):
        vitale_from_profile(profile)


def test_vitale_beneficiaries_may_be_empty() -> None:
    profile = copy.deepcopy(VITALE) | {"beneficiaries": []}
    assert vitale_from_profile(profile).beneficiaries == ()


def test_lunar_birth_dates_are_kept_verbatim() -> None:
    profile = copy.deepcopy(VITALE)
    profile["beneficiaries"][0]["birth_date"] = "19800000"
    profile["beneficiaries"][1]["birth_date"] = "19780231"
    card = vitale_from_profile(profile)
    assert [b.birth_date for b in card.beneficiaries[:2]] == ["19800000", "19780231"]


CPS = load(CARDS / "cps-dupont-titulaire.json")

CPS_CASES: list[tuple[str, Edit, str]] = [
    ("unknown key", _set("puk", "12345678"), "'puk'"),
    ("missing pin", _delete("pin"), "'pin'"),
    ("missing tries", _delete("pin_tries_left"), "'pin_tries_left'"),
    ("card kind", _set("card", "vitale"), "card"),
    ("cnop_section Z", _set("cnop_section", "Z"), "cnop_section"),
    ("cnop_section DZ", _set("cnop_section", "DZ"), "cnop_section"),
    ("cnop_section lower", _set("cnop_section", "a"), "cnop_section"),
    ("cnop_section int", _set("cnop_section", 1), "cnop_section"),
    ("pin letters", _set("pin", "12a4"), "pin"),
    ("pin short", _set("pin", "123"), "pin"),
    ("pin long", _set("pin", "123456789"), "pin"),
    ("pin int", _set("pin", 1234), "pin"),
    ("tries 4", _set("pin_tries_left", 4), "pin_tries_left"),
    ("tries -1", _set("pin_tries_left", -1), "pin_tries_left"),
    ("tries True", _set("pin_tries_left", True), "pin_tries_left"),
    ("rpps short", _set("rpps", "1000123456"), "rpps"),
    ("national_id short", _set("national_id", "8100012"), "national_id"),
    ("profession letters", _set("profession", "2I"), "profession"),
    ("valid_until short", _set("valid_until", "2029123"), "valid_until"),
    ("empty last_name", _set("last_name", ""), "last_name"),
    ("first_name null", _set("first_name", None), "first_name"),
]


@pytest.mark.parametrize(
    ("edit", "field"), [c[1:] for c in CPS_CASES], ids=[c[0] for c in CPS_CASES]
)
def test_invalid_cps_field_is_named(edit: Edit, field: str) -> None:
    profile = copy.deepcopy(CPS)
    edit(profile)
    with pytest.raises(ProfileError) as caught:
        cps_from_profile(profile)
    assert field in str(caught.value)
    assert CPS["pin"] not in str(caught.value)


@pytest.mark.parametrize("section", ["A", "B", "H", "DA", "DH"])
def test_cnop_sections_accepted(section: str) -> None:
    card, _pin = cps_from_profile(CPS | {"cnop_section": section})
    assert card.cnop_section == section


@pytest.mark.parametrize("profile", [{}, {"card": "dmp"}, [], None, {"card": None}])
def test_profile_kind_rejects_unknown_kinds(profile: Any) -> None:
    with pytest.raises(ProfileError, match="card"):
        profile_kind(profile)
