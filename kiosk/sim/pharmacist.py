"""The pharmacist at the opening of the shop, played for the demo and the autopilot: types
the CPS PIN once, when the CPS in the reader asks for it, exactly as on the admin keypad
(:meth:`kiosk.appliance.device.DeviceKiosk.enter_cps_pin`)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kiosk.appliance.observer import KioskObserver
from kiosk.core.cps_session import CpsState, CpsStatus

if TYPE_CHECKING:
    from kiosk.appliance.device import DeviceKiosk


class PharmacistTypesPin(KioskObserver):
    def __init__(self, kiosk: DeviceKiosk, pin: str) -> None:
        self.kiosk = kiosk
        self._pin: str | None = pin
        self._lock = threading.Lock()

    def cps_changed(self, status: CpsStatus) -> None:
        if status.state is not CpsState.NEEDS_PIN:
            return
        with self._lock:
            pin, self._pin = self._pin, None  # typed once, as a person would
        if pin is not None:
            self.kiosk.enter_cps_pin(pin)
