"""How the patient's card comes to the soak's kiosk, three ways:

- ``profile``: no PC/SC; the journey is told "card inserted" and ``read_vitale`` gives the
  profile's :class:`VitaleCard` (the core, the ledger and the DMP client only);
- ``pcsc``: an emulated card sits in vpcd slot 0 (another process,
  :mod:`tests.resilience.soak_card`); each journey the card takes the next patient's
  profile, the journey is told "card inserted" and the kiosk reads it as it does on a
  device (``kiosk.appliance.wiring.patient_reader``: context, reader by ATR, connect, the
  APDUs, on its deadline thread), through pcscd;
- ``insert``: the same card inserted and pulled for every journey, and the journey
  told so by the kiosk's own card monitor (``CardMonitor`` + ``PatientCardEvents``), as on
  a device; pcscd's polling of vpcd (about 0.4 s) is paid twice per journey.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kiosk.appliance.wiring import patient_reader
from kiosk.config import Config
from kiosk.core import flow as f
from kiosk.core.card_events import PatientCardEvents
from kiosk.core.journey import Journey
from kiosk.hardware.cards import VitaleCard, vitale_from_profile
from kiosk.hardware.pcsc import CardMonitor, PcscContext
from kiosk.sim.pcscd import ensure_pcscd
from tests.resilience.soak_child import JsonChild

MODES = ("profile", "pcsc", "insert")
PATIENT_SLOT = "Virtual PCD 00 00"


class Cards:
    """``profile``: the base the others extend."""

    mode = "profile"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.inserted = False
        self.card: VitaleCard | None = None

    def start(self, journey: Journey) -> None:
        """Before the first journey (the journey's dispatch is known now)."""

    def read_vitale(self) -> VitaleCard:
        assert self.card is not None
        return self.card

    def insert(self, journey: Journey, profile: dict[str, Any]) -> None:
        self.card = vitale_from_profile(profile)
        self.inserted = True
        journey.dispatch(f.CardInserted("vitale"))

    def pull(self, journey: Journey) -> None:
        self.inserted = False
        journey.dispatch(f.CardRemoved())

    def close(self) -> None:
        pass


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def _present() -> bool:
    context = PcscContext()
    try:
        return context.card_atrs().get(PATIENT_SLOT) is not None
    finally:
        context.close()


class PcscCards(Cards):
    mode = "pcsc"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.pcscd = ensure_pcscd()  # the one running, or ours (stopped at close)
        self.child = JsonChild("tests.resilience.soak_card")
        self._read = patient_reader(config)

    def start(self, journey: Journey) -> None:
        from tests.resilience.soak_plan import patient_profile

        self.child.ask("insert", profile=patient_profile(0, 0, False))
        _wait(_present, 10, "pcscd to see the card")

    def read_vitale(self) -> VitaleCard:
        return self._read()

    def insert(self, journey: Journey, profile: dict[str, Any]) -> None:
        self.child.ask("swap", profile=profile)
        self.inserted = True
        journey.dispatch(f.CardInserted("vitale"))

    def close(self) -> None:
        self.child.close()
        try:
            _wait(lambda: not _present(), 10, "the card to leave the reader")
        finally:
            self.pcscd.stop()  # only if started here


class InsertCards(PcscCards):
    mode = "insert"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.monitor: CardMonitor | None = None
        self.events: PatientCardEvents | None = None

    def start(self, journey: Journey) -> None:
        self.events = PatientCardEvents(journey.dispatch)
        self.monitor = CardMonitor(self.events).start()
        _wait(lambda: self.monitor is not None and self.monitor.service_up, 10, "the monitor")

    def insert(self, journey: Journey, profile: dict[str, Any]) -> None:
        self.child.ask("insert", profile=profile)  # the monitor tells the journey
        self.inserted = True

    def pull(self, journey: Journey) -> None:
        self.child.ask("pull")
        self.inserted = False
        events = self.events
        _wait(lambda: events is not None and events.patient_reader is None, 10, "the removal")

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        super().close()


def cards_for(mode: str, config: Config) -> Cards:
    return {"profile": Cards, "pcsc": PcscCards, "insert": InsertCards}[mode](config)
