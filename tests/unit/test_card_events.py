"""Which reader is the patient's: PC/SC card events turned into the journey's events."""

from __future__ import annotations

from kiosk.core import flow as f
from kiosk.core.card_events import PatientCardEvents
from kiosk.hardware.pcsc import CardEvent
from kiosk.hardware.roles import Role

VITALE_ATR = bytes.fromhex("3B751300004509EA9000")
CPS_ATR = bytes.fromhex("3BAC00402A001225006480000310009000")
PATIENT, STAFF = "Virtual PCD 00 00", "Virtual PCD 00 01"


def events(pinned: bool = False) -> tuple[PatientCardEvents, list[f.Event], list[bool]]:
    journey: list[f.Event] = []
    cps: list[bool] = []
    overrides = {Role.PATIENT: PATIENT, Role.PROFESSIONAL: STAFF} if pinned else None
    return PatientCardEvents(journey.append, cps.append, overrides), journey, cps


def card(reader: str, inserted: bool, atr: bytes = VITALE_ATR) -> CardEvent:
    return CardEvent(reader, inserted, atr if inserted else b"", 0.0)


def test_a_vitale_in_the_pinned_pharmacists_reader_is_not_read() -> None:
    on_event, journey, cps = events(pinned=True)
    on_event(card(STAFF, True))
    on_event(card(STAFF, False))
    assert journey == [f.CardInserted("vitale", wrong_reader=True), f.CardRemoved()]
    assert cps == []


def test_without_pinned_readers_any_reader_serves_the_patient() -> None:
    on_event, journey, _cps = events()
    on_event(card(STAFF, True))
    assert journey == [f.CardInserted("vitale")]


def test_a_second_card_neither_starts_nor_keeps_the_journey() -> None:
    """The journey is the first card's: a card put in the other reader meanwhile is
    ignored, and pulling the first card still ends the journey."""
    on_event, journey, _cps = events()
    on_event(card(PATIENT, True))
    on_event(card(STAFF, True))  # another Vitale in the other reader
    on_event(card(PATIENT, False))
    assert journey == [f.CardInserted("vitale"), f.CardRemoved()]


def test_the_cps_goes_to_the_pharmacist_side_only() -> None:
    on_event, journey, cps = events(pinned=True)
    on_event(card(STAFF, True, CPS_ATR))
    on_event(card(PATIENT, True))
    on_event(card(STAFF, False))
    assert cps == [True, False]
    assert journey == [f.CardInserted("vitale")]


def test_the_flow_tells_the_patient_to_use_the_other_reader() -> None:
    flow, commands = f.step(f.Flow(), f.CardInserted("vitale", wrong_reader=True))
    assert (flow.screen, flow.message, commands) == (
        f.Screen.ERROR, f.JourneyProblem.WRONG_READER, []
    )  # fmt: skip
    assert f.step(flow, f.CardRemoved())[0].screen is f.Screen.WELCOME
