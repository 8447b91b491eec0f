"""Hostile cards: a Vitale and a CPS whose answers to the kiosk's APDUs are drawn by
hypothesis (status words, truncated or overlong data, wrong records, 61xx/6Cxx loops,
huge answers, no answer, slow answers). Whatever they answer, the card readers give a
card or a typed :class:`CardError`, never another exception; over pcscd they end
within their deadline, and a read abandoned at its deadline stops talking to the card.

Many examples feed the readers directly (:func:`read_channel` over the emulator's own
``process``, no daemon); fewer go through the real pcscd and vpcd, with the product's
readers: ``read_card_typed`` for the Vitale, :class:`CpsLink` for the CPS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.hardware.card_errors import CardError, MuteCard
from kiosk.hardware.card_reading import read_card_typed, read_channel
from kiosk.hardware.cards import CpsCard, VitaleCard
from kiosk.hardware.cps_link import CpsLink
from kiosk.hardware.roles import CardKind, Role, classify_atr
from kiosk.sim.emulators.emulated_card import EmulatedCard
from kiosk.sim.emulators.hostile_card import Answer, HostileCard, Move
from kiosk.sim.emulators.profiles import emulator_for
from kiosk.sim.emulators.vpcd import VpcdCard
from tests.conftest import READERS, InsertCard, Pcscd, load_profile, wait_for
from tests.integration.hostile_report import Tally, sweep
from tests.integration.strategies import hostile_cards
from tests.unit.doubles import EmulatorChannel

PROFILES = {
    CardKind.VITALE: "vitale-famille-martin.json",
    CardKind.CPS: "cps-dupont-titulaire.json",
}
PIN = "1234"  # the CPS profile's
PINS = st.sampled_from([PIN, PIN, "9876", None])
DEADLINE = 0.5  # the readers' deadline over pcscd, in seconds
MARGIN = 0.5
READER_THREADS = ("card-read", "cps-read")


def honest(kind: CardKind) -> Callable[[], EmulatedCard]:
    profile = load_profile(PROFILES[kind])
    return lambda: emulator_for(profile)


def behaviours(card: HostileCard) -> list[str]:
    drawn = [a.move.value for a in card.script if a.move is not Move.HONEST]
    if card.then.move is not Move.HONEST:
        drawn.append(f"then {card.then.move.value}")
    drawn += [f"file {ef:04X} rewritten" for ef in card.rewritten]
    return drawn or ["honest"]


def outcome_of(read: Callable[[], VitaleCard | CpsCard]) -> tuple[str, float]:
    """The read's outcome (``read`` or the CardError's class) and how long it took; any
    other exception fails the test."""
    started = time.monotonic()
    try:
        read()
        outcome = "read"
    except CardError as exc:
        outcome = type(exc).__name__
    return outcome, time.monotonic() - started


@pytest.mark.parametrize("kind", [CardKind.VITALE, CardKind.CPS])
def test_readers_fed_directly_give_a_card_or_a_card_error(kind: CardKind) -> None:
    tally = Tally(f"{kind} fed directly (no pcscd)", None)

    @sweep(250)
    @given(card=hostile_cards(honest(kind), real_time=False), pin=PINS)
    def run(card: HostileCard, pin: str | None) -> None:
        outcome, elapsed = outcome_of(lambda: read_channel(EmulatorChannel(card), kind, pin))
        tally.saw(behaviours(card), outcome, elapsed)

    run()
    tally.report()
    assert tally.outcomes["read"] > 0  # some examples got through to a whole card
    assert len(tally.outcomes) >= 3  # a card and at least two kinds of CardError


def _wait_for_readers(card: HostileCard) -> None:
    """Release a card that holds its answer, and wait for the readers' worker threads."""
    card.released.set()
    for thread in threading.enumerate():
        if thread.name in READER_THREADS:
            thread.join(10)
            assert not thread.is_alive(), "a card read outlived its card's answer"


def _reinserted_if_wedged(
    card: HostileCard, session: VpcdCard, insert_card: InsertCard, pcscd: Pcscd
) -> VpcdCard:
    """The slot's session, re-inserted if ``card`` answered no bytes (over vpcd, a card
    that never answers: pcscd waits for it until it is pulled)."""
    if not card.answered_nothing:
        return session
    session.pull()
    reader = READERS[0 if _is_vitale(card) else 1]
    wait_for(lambda: pcscd.absent(reader), 5, f"the card in {reader} to be pulled")
    return insert_card(HostileCard(card.honest), slot=READERS.index(reader))


def _is_vitale(card: HostileCard) -> bool:
    return classify_atr(card.atr) is CardKind.VITALE


def _read_over_pcscd(
    kind: CardKind, pin: str | None, deadline: float = DEADLINE
) -> VitaleCard | CpsCard:
    if kind is CardKind.VITALE:
        return read_card_typed(Role.PATIENT, deadline=deadline)
    link = CpsLink(deadline=deadline)
    try:
        return link.read(pin)
    finally:
        link.release()


@pytest.mark.pcsc
@pytest.mark.parametrize("kind", [CardKind.VITALE, CardKind.CPS])
def test_hostile_cards_over_pcscd_end_in_a_card_error_within_the_deadline(
    insert_card: InsertCard, pcscd: Pcscd, kind: CardKind
) -> None:
    slot = 0 if kind is CardKind.VITALE else 1
    sessions = [insert_card(HostileCard(honest(kind)()), slot=slot)]
    tally = Tally(f"{kind} over pcscd and vpcd", DEADLINE)

    @sweep(25)
    @given(card=hostile_cards(honest(kind)), pin=PINS)
    def run(card: HostileCard, pin: str | None) -> None:
        sessions[-1].card = card
        try:
            outcome, elapsed = outcome_of(lambda: _read_over_pcscd(kind, pin))
            sent = card.apdu_count
        finally:
            sessions.append(_reinserted_if_wedged(card, sessions[-1], insert_card, pcscd))
            _wait_for_readers(card)
        tally.saw(behaviours(card), outcome, elapsed)
        assert elapsed < DEADLINE + MARGIN
        assert card.apdu_count <= sent + 1, "the abandoned read kept talking to the card"

    run()
    tally.report()
    assert tally.outcomes["read"] > 0


@pytest.mark.pcsc
@pytest.mark.parametrize("kind", [CardKind.VITALE, CardKind.CPS])
def test_a_read_abandoned_at_its_deadline_sends_no_more_apdus(
    insert_card: InsertCard, kind: CardKind
) -> None:
    """Every answer takes 0.15 s: the read gives up at 0.4 s with MuteCard, and its
    worker sends nothing after the APDU in flight (it used to read the whole card)."""
    card = HostileCard(honest(kind)(), then=Answer(Move.SLOW, delay=0.15))
    insert_card(card, slot=0 if kind is CardKind.VITALE else 1)
    started = time.monotonic()
    with pytest.raises(MuteCard):
        _read_over_pcscd(kind, PIN, deadline=0.4)
    assert time.monotonic() - started < 0.4 + MARGIN
    sent = card.apdu_count
    _wait_for_readers(card)
    time.sleep(0.5)
    assert card.apdu_count <= sent + 1


# Each move as the answer to every APDU from the third on, through pcscd: the answers
# only pcscd and vpcd see (no bytes, 65,000 bytes, 300 bytes of data) included.
EVERY_MOVE = [
    Answer(move, sw=0x6A82, data=b"\x65" * 300, size=size, delay=0.05 if move is Move.SLOW else 30)
    for move in Move
    for size in ((1, 65_000) if move in (Move.TRUNCATE, Move.HUGE) else (0,))
]


@pytest.mark.pcsc
@pytest.mark.parametrize("kind", [CardKind.VITALE, CardKind.CPS])
def test_every_hostile_move_over_pcscd_is_a_card_error(
    insert_card: InsertCard, pcscd: Pcscd, kind: CardKind
) -> None:
    session = insert_card(HostileCard(honest(kind)()), slot=0 if kind is CardKind.VITALE else 1)
    tally = Tally(f"{kind} over pcscd, each move from the 3rd APDU on", DEADLINE)
    for then in EVERY_MOVE:
        card = HostileCard(honest(kind)(), [Answer()] * 2, then)
        session.card = card
        try:
            outcome, elapsed = outcome_of(lambda: _read_over_pcscd(kind, PIN))
        finally:
            session = _reinserted_if_wedged(card, session, insert_card, pcscd)
            _wait_for_readers(card)
        tally.saw([f"then {then.move.value}"], outcome, elapsed)
        assert elapsed < DEADLINE + MARGIN
    tally.report()
    # the card still reads once it answers honestly again
    session.card = HostileCard(honest(kind)())
    assert isinstance(_read_over_pcscd(kind, PIN), VitaleCard | CpsCard)
