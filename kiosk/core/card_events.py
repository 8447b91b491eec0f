"""From PC/SC card events to the journey's events: which reader is the patient's.

A CPS is the pharmacist's card and never starts a journey (its arrival and removal go
to ``on_cps``); any other card inserted is the patient's (a foreign card gets "carte
non reconnue"); pulling the patient's card ends the journey. While a patient's card is
in, another card in another reader starts nothing and ends nothing: only the first
card's removal ends the journey. A Carte Vitale in the reader a site pinned to the
pharmacist (``[readers] professional``) is not read: the patient is told to use the
other reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from kiosk.core import flow as f
from kiosk.hardware.pcsc import CardEvent
from kiosk.hardware.roles import CardKind, Role, classify_atr


class PatientCardEvents:
    def __init__(
        self,
        dispatch: Callable[[f.Event], None],
        on_cps: Callable[[bool], None] = lambda _inserted: None,
        overrides: Mapping[Role, str] | None = None,  # the readers a site pinned to a role
    ) -> None:
        self.dispatch = dispatch
        self.on_cps = on_cps
        self.staff_reader = (overrides or {}).get(Role.PROFESSIONAL)
        self.patient_reader: str | None = None
        self.cps_reader: str | None = None

    def __call__(self, event: CardEvent) -> None:
        if event.inserted:
            kind = classify_atr(event.atr)
            if kind is CardKind.CPS:
                self.cps_reader = event.reader
                self.on_cps(True)
                return
            if self.patient_reader is not None and self.patient_reader != event.reader:
                return  # a second card: the journey stays with the first one
            self.patient_reader = event.reader
            wrong = kind is CardKind.VITALE and event.reader == self.staff_reader
            self.dispatch(f.CardInserted(kind.value, wrong_reader=wrong))
        elif event.reader == self.patient_reader:
            self.patient_reader = None
            self.dispatch(f.CardRemoved())
        elif event.reader == self.cps_reader:
            self.cps_reader = None
            self.on_cps(False)
