"""The card layer in-process against the real pcscd: property round trips, pulled cards,
PIN handling, and card events that survive a pcscd restart."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from kiosk.hardware.card_errors import CardRemoved, PinBlocked, PinWrong
from kiosk.hardware.card_reading import read_card
from kiosk.hardware.cards import cps_from_profile, vitale_from_profile, vitale_to_profile
from kiosk.hardware.cps import pin_state, read_cps
from kiosk.hardware.pcsc import CardEvent, CardMonitor, PcscContext
from kiosk.hardware.roles import CardKind, classify_atr
from kiosk.hardware.vitale import read_vitale
from kiosk.sim.emulators.cps_emulator import CpsEmulator
from kiosk.sim.emulators.vitale_emulator import VitaleEmulator
from tests.conftest import READERS, InsertCard, Pcscd, load_profile, wait_for
from tests.integration.strategies import vitale_profiles

pytestmark = pytest.mark.pcsc

MARTIN = "vitale-famille-martin.json"


@pytest.fixture
def vitale_slot(insert_card: InsertCard) -> Any:
    """One emulated Vitale left in slot 0; tests swap the card it serves."""
    return insert_card(load_profile(MARTIN), slot=0)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(profile=vitale_profiles())
def test_any_valid_vitale_round_trips_through_pcscd(
    vitale_slot: Any, profile: dict[str, Any]
) -> None:
    vitale_slot.card = VitaleEmulator(vitale_from_profile(profile))
    context = PcscContext()
    try:
        with context.connect(READERS[0]) as connection:
            assert vitale_to_profile(read_vitale(connection)) == profile
    finally:
        context.close()


@pytest.mark.parametrize("after", [1, 2, 3, 5, 7])
def test_card_pulled_mid_read_is_a_clean_error(insert_card: InsertCard, after: int) -> None:
    insert_card(load_profile(MARTIN), slot=0, pull_after=after)
    started = time.monotonic()
    with pytest.raises(CardRemoved):
        read_card("Virtual PCD 00 00", deadline=5)
    assert time.monotonic() - started < 2


def test_pin_right_wrong_blocked_and_tries_read_back(insert_card: InsertCard) -> None:
    profile = load_profile("cps-dupont-titulaire.json")
    card, pin = cps_from_profile(profile)
    emulator = CpsEmulator(card, pin)
    insert_card(emulator, slot=1)
    context = PcscContext()
    try:
        with context.connect(READERS[1]) as connection:
            assert read_cps(connection, pin).rpps == profile["rpps"]
            assert pin_state(connection) is None  # verified for this card session
        with context.connect(READERS[1]) as connection:
            with pytest.raises(PinWrong) as first:
                read_cps(connection, "9999")
            assert first.value.tries_left == 2
            assert pin_state(connection) == 2
            with pytest.raises(PinWrong) as second:
                read_cps(connection, "9999")
            assert second.value.tries_left == 1
            assert pin_state(connection) == 1
            assert read_cps(connection, pin).pin_tries_left == 3  # a right PIN resets
            for _ in range(2):
                with pytest.raises(PinWrong):
                    read_cps(connection, "9999")
            with pytest.raises(PinBlocked):
                read_cps(connection, "9999")
            with pytest.raises(PinBlocked):
                pin_state(connection)
            with pytest.raises(PinBlocked):
                read_cps(connection, pin)
    finally:
        context.close()
    assert emulator.tries_left == 0


class EventLog:
    def __init__(self) -> None:
        self.events: list[CardEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: CardEvent) -> None:
        with self.lock:
            self.events.append(event)

    def seen(self, reader: str, inserted: bool) -> bool:
        with self.lock:
            return any(e.reader == reader and e.inserted == inserted for e in self.events)

    def clear(self) -> None:
        with self.lock:
            self.events.clear()


def test_monitor_reports_insert_and_remove_with_the_card_kind(insert_card: InsertCard) -> None:
    log = EventLog()
    monitor = CardMonitor(log).start()
    try:
        wait_for(lambda: monitor.service_up, 5, "the monitor to see pcscd")
        session = insert_card(load_profile("cps-dupont-titulaire.json"), slot=1, wait=False)
        wait_for(lambda: log.seen(READERS[1], True), 3, "the insertion event")
        inserted = next(e for e in log.events if e.inserted)
        assert classify_atr(inserted.atr) is CardKind.CPS
        session.pull()
        wait_for(lambda: log.seen(READERS[1], False), 3, "the removal event")
    finally:
        monitor.stop()


def test_monitor_survives_pcscd_restart(insert_card: InsertCard, pcscd: Pcscd) -> None:
    log = EventLog()
    states: list[bool] = []
    monitor = CardMonitor(log, on_service=states.append).start()
    try:
        wait_for(lambda: monitor.service_up, 5, "the monitor to see pcscd")
        insert_card(load_profile(MARTIN), slot=0)
        wait_for(lambda: log.seen(READERS[0], True), 3, "the first insertion")
        log.clear()
        pcscd.kill()
        wait_for(lambda: log.seen(READERS[0], False), 5, "removal when pcscd goes")
        wait_for(lambda: not monitor.service_up, 5, "the monitor to notice pcscd is gone")
        log.clear()
        pcscd.start()
        # the emulator reconnects to the new vpcd by itself; the same monitor sees it
        wait_for(lambda: log.seen(READERS[0], True), 10, "insertion after the restart")
        session = insert_card(load_profile("cps-dupont-titulaire.json"), slot=1, wait=False)
        wait_for(lambda: log.seen(READERS[1], True), 5, "a new card after the restart")
        session.pull()
        wait_for(lambda: log.seen(READERS[1], False), 5, "its removal")
        assert states == [True, False, True]
        assert monitor.present().keys() == {READERS[0]}
    finally:
        monitor.stop()
