"""Every flow screen and the class that draws it (one module + one .kv each)."""

from __future__ import annotations

from kiosk.core.flow import Screen
from kiosk.ui.screens.already_exists import AlreadyExistsScreen
from kiosk.ui.screens.attestation import AttestationScreen
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.checking import CheckingScreen
from kiosk.ui.screens.choose_beneficiary import ChooseBeneficiaryScreen
from kiosk.ui.screens.closed import ClosedScreen
from kiosk.ui.screens.consent import ConsentScreen
from kiosk.ui.screens.contact import ContactScreen
from kiosk.ui.screens.creating import CreatingScreen
from kiosk.ui.screens.done import DoneScreen
from kiosk.ui.screens.error import ErrorScreen
from kiosk.ui.screens.guardian import GuardianScreen
from kiosk.ui.screens.information import InformationScreen
from kiosk.ui.screens.insert_card import InsertCardScreen
from kiosk.ui.screens.reading import ReadingScreen
from kiosk.ui.screens.welcome import WelcomeScreen

__all__ = ["ADMIN", "SCREENS", "KioskScreen"]

ADMIN = "admin"  # the pharmacist's screen, outside the journey (kiosk.ui.screens.admin)

SCREENS: dict[Screen, type[KioskScreen]] = {
    cls.flow_screen: cls
    for cls in (
        WelcomeScreen,
        InsertCardScreen,
        ReadingScreen,
        ChooseBeneficiaryScreen,
        GuardianScreen,
        CheckingScreen,
        AlreadyExistsScreen,
        ClosedScreen,
        InformationScreen,
        ConsentScreen,
        ContactScreen,
        AttestationScreen,
        CreatingScreen,
        DoneScreen,
        ErrorScreen,
    )
}
