"""From PC/SC card events to the journey's events: which reader is the patient's.

A CPS is the pharmacist's card and never starts a journey (its arrival and removal go
to ``on_cps``); any other card inserted is the patient's (a foreign card gets "carte
non reconnue"); pulling the patient's card ends the journey.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.core import flow as f
from kiosk.hardware.pcsc import CardEvent
from kiosk.hardware.roles import CardKind, classify_atr


class PatientCardEvents:
    def __init__(
        self,
        dispatch: Callable[[f.Event], None],
        on_cps: Callable[[bool], None] = lambda _inserted: None,
    ) -> None:
        self.dispatch = dispatch
        self.on_cps = on_cps
        self.patient_reader: str | None = None
        self.cps_reader: str | None = None

    def __call__(self, event: CardEvent) -> None:
        if event.inserted:
            kind = classify_atr(event.atr)
            if kind is CardKind.CPS:
                self.cps_reader = event.reader
                self.on_cps(True)
                return
            self.patient_reader = event.reader
            self.dispatch(f.CardInserted(kind.value))
        elif event.reader == self.patient_reader:
            self.patient_reader = None
            self.dispatch(f.CardRemoved())
        elif event.reader == self.cps_reader:
            self.cps_reader = None
            self.on_cps(False)
