"""The kiosk's screens: one module + one .kv per :class:`kiosk.flow.Screen`.

``SCREENS`` maps every flow screen to its class; ``load_kv()`` loads the .kv rules once
(widgets and frame first, then one per screen) and is safe to call again.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

from kiosk.flow import Screen
from kiosk.screens.already_exists import AlreadyExistsScreen
from kiosk.screens.attestation import AttestationScreen
from kiosk.screens.base import KioskScreen
from kiosk.screens.checking import CheckingScreen
from kiosk.screens.choose_beneficiary import ChooseBeneficiaryScreen
from kiosk.screens.closed import ClosedScreen
from kiosk.screens.consent import ConsentScreen
from kiosk.screens.contact import ContactScreen
from kiosk.screens.creating import CreatingScreen
from kiosk.screens.done import DoneScreen
from kiosk.screens.error import ErrorScreen
from kiosk.screens.guardian import GuardianScreen
from kiosk.screens.information import InformationScreen
from kiosk.screens.insert_card import InsertCardScreen
from kiosk.screens.reading import ReadingScreen
from kiosk.screens.welcome import WelcomeScreen

__all__ = ["SCREENS", "KioskScreen", "load_kv"]

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

_HERE = Path(__file__).parent
_loaded: list[str] = []


def kv_files() -> list[Path]:
    """The .kv files in load order: shared rules first."""
    return [
        _HERE / "widgets.kv",
        _HERE / "base.kv",
        *(_HERE / f"{screen.value}.kv" for screen in Screen),
        _HERE / "admin.kv",
    ]


def load_kv() -> None:
    """Load every .kv file once (calling it again loads nothing twice)."""
    for path in kv_files():
        if str(path) not in _loaded:
            Builder.load_file(str(path))
            _loaded.append(str(path))
