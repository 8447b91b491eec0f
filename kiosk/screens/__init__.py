"""The kiosk's screens: one module + one .kv per :class:`kiosk.flow.Screen`.

``SCREENS`` maps every flow screen to its class; ``load_kv()`` loads .kv rules once
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

__all__ = ["ADMIN", "SCREENS", "KioskScreen", "load_kv"]

ADMIN = "admin"  # the pharmacist's screen, outside the journey (kiosk.screens.admin)

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


SHARED_KV = ("widgets", "base")


def kv_files(*names: str) -> list[Path]:
    """The .kv files in load order: shared rules first, then ``names`` (default: all)."""
    every = [screen.value for screen in Screen] + [ADMIN]
    return [_HERE / f"{name}.kv" for name in (*SHARED_KV, *(names or every))]


def load_kv(*names: str) -> None:
    """Load the shared rules and those of the screens ``names`` (default: every screen),
    each file once. A screen loads its own rules when first built, so start-up parses
    only the welcome screen's."""
    for path in kv_files(*names):
        if str(path) not in _loaded:
            Builder.load_file(str(path))
            _loaded.append(str(path))
