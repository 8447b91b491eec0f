"""The CPS session's rules, on a scripted card reader (the real card through pcscd is
in tests/integration/test_device.py): one VERIFY per PIN typed, tries shown, state
forgotten when the card goes."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from kiosk.core.cps_session import CpsSession, CpsState, CpsStatus, PinEntry
from kiosk.core.lazy import Lazy
from kiosk.hardware.card_errors import MuteCard, NoCard, PinBlocked, PinRequired, PinWrong
from kiosk.hardware.cards import CpsCard, cps_from_profile
from kiosk.ui.i18n import render
from tests.conftest import load_profile

CARD = cps_from_profile(load_profile("cps-dupont-titulaire.json"))[0]


class ScriptedCps:
    """Answers like a CPS3: PIN "1234", 3 tries, verified until reset."""

    def __init__(self) -> None:
        self.tries, self.verified, self.present, self.verifies = 3, False, True, 0
        self.mute = False

    def __call__(self, pin: str | None) -> CpsCard:
        if self.mute:
            raise MuteCard("the CPS does not answer")
        if not self.present:
            raise NoCard("no CPS in any reader")
        if pin is None:
            if self.tries == 0:
                raise PinBlocked()
            if not self.verified:
                raise PinRequired("PIN needed", self.tries)
            return replace(CARD, pin_tries_left=3)
        self.verifies += 1
        if self.tries == 0:
            raise PinBlocked()
        if pin != "1234":
            self.tries -= 1
            if self.tries == 0:
                raise PinBlocked()
            raise PinWrong(self.tries)
        self.tries, self.verified = 3, True
        return replace(CARD, pin_tries_left=3)


def test_insert_wrong_pin_then_right_pin() -> None:
    card, seen = ScriptedCps(), list[CpsStatus]()
    session = CpsSession(card, seen.append)
    assert session.inserted() == CpsStatus(CpsState.NEEDS_PIN, 3)
    assert session.practitioner() is None
    status, message = session.enter_pin("0000")
    assert status == CpsStatus(CpsState.NEEDS_PIN, 2)
    assert render(message, "fr") == "Code CPS incorrect : 2 essai(s) restant(s)."
    assert card.verifies == 1  # never retried
    status, message = session.enter_pin("1234")
    assert status.state is CpsState.READY
    assert message is PinEntry.ACCEPTED
    assert render(message, "fr") == "Code CPS accepté."
    assert "Claire DUPONT" in render(status, "fr")
    practitioner = session.practitioner()
    assert practitioner is not None
    assert practitioner.national_id == CARD.national_id
    assert session.rpps() == CARD.rpps
    changes = [b for a, b in zip([None, *seen], seen, strict=False) if a != b]
    assert [(c.state, c.tries_left) for c in changes] == [
        (CpsState.NEEDS_PIN, 3), (CpsState.NEEDS_PIN, 2), (CpsState.READY, 3),
    ]  # fmt: skip


def test_three_wrong_pins_block_and_say_so() -> None:
    card = ScriptedCps()
    session = CpsSession(card)
    session.inserted()
    session.enter_pin("1111")
    session.enter_pin("2222")
    status, message = session.enter_pin("3333")
    assert status.state is CpsState.BLOCKED
    assert "bloquée" in render(message, "fr")
    assert card.verifies == 3
    assert "PUK" in render(session.status, "fr")


def test_a_malformed_pin_sends_nothing() -> None:
    card = ScriptedCps()
    session = CpsSession(card)
    session.inserted()
    status, message = session.enter_pin("12")
    assert status == CpsStatus(CpsState.NEEDS_PIN, 3)
    assert "4 à 8 chiffres" in render(message, "fr")
    assert card.verifies == 0


def test_a_card_reset_since_the_pin_forgets_the_pharmacist() -> None:
    card = ScriptedCps()
    session = CpsSession(card)
    session.inserted()
    session.enter_pin("1234")
    card.verified = False  # pcscd restarted: the card was powered off
    assert session.practitioner() is None
    assert session.status == CpsStatus(CpsState.NEEDS_PIN, 3)


def test_removal_forgets_the_pharmacist() -> None:
    card = ScriptedCps()
    session = CpsSession(card)
    session.inserted()
    session.enter_pin("1234")
    assert session.removed().state is CpsState.ABSENT
    assert session.practitioner() is None
    assert session.rpps() == ""
    card.present = False
    assert session.refresh().state is CpsState.ABSENT
    assert "aucune carte" in render(session.status, "fr")


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("state", list(CpsState))
def test_every_state_has_a_line_without_the_pin(state: CpsState, language: str) -> None:
    text = render(CpsStatus(state, 2, "Claire DUPONT", CARD.rpps), language)
    assert text.startswith("CPS")
    assert "1234" not in text


def test_lazy_builds_once_and_only_when_asked() -> None:
    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        return len(calls)

    lazy = Lazy(build)
    assert not lazy.built
    assert calls == []
    assert lazy() == 1
    assert lazy() == 1
    assert lazy.built
    assert calls == [1]
    assert Lazy.of("x")() == "x"


def test_lazy_retries_a_failed_build() -> None:
    attempts: list[int] = []

    def build() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("disk not mounted yet")
        return 7

    lazy = Lazy(build)
    with pytest.raises(OSError, match="disk"):
        lazy()
    assert lazy() == 7


def test_a_mute_card_is_asked_again_at_the_next_journey() -> None:
    """UNREADABLE is not final: the next journey's check asks the card again."""
    card = ScriptedCps()
    session = CpsSession(card)
    session.inserted()
    session.enter_pin("1234")
    card.mute = True
    assert session.practitioner() is None
    assert session.status.state is CpsState.UNREADABLE
    card.mute = False
    assert session.practitioner() is not None


class OtherCard(ScriptedCps):
    """The same scripted CPS, holding another card (profession, validity)."""

    def __init__(self, **changes: str) -> None:
        super().__init__()
        self.changes: dict[str, Any] = dict(changes)

    def __call__(self, pin: str | None) -> CpsCard:
        return replace(super().__call__(pin), **self.changes)


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({"profession": "10", "cnop_section": ""}, CpsState.NOT_PHARMACIST),  # a physician
        ({"valid_until": "20261130"}, CpsState.EXPIRED),  # the day before "today"
        ({"valid_until": "2026-12"}, CpsState.EXPIRED),  # unreadable: not trusted
        ({"cnop_section": "DA"}, CpsState.READY),  # a pharmacist adjoint
        ({"valid_until": "20261201"}, CpsState.READY),  # valid through its last day
    ],
)
def test_only_a_pharmacists_valid_card_opens_dmps(changes: dict[str, str], state: CpsState) -> None:
    session = CpsSession(OtherCard(**changes), today=lambda: dt.date(2026, 12, 1))
    session.inserted()
    status, answer = session.enter_pin("1234")
    assert status.state is state
    assert (answer is PinEntry.ACCEPTED) is (state is CpsState.READY)
    assert (session.practitioner() is not None) is (state is CpsState.READY)
    if state is not CpsState.READY:
        assert answer is PinEntry.CARD_REFUSED
        line = render(status, "fr")
        assert "Claire DUPONT" in line
        assert "refusée" in line or "expirée" in line
