"""The kiosk's services built from its config: the patient's card reader, the ledger, the
DMP client and the receipt printer. Heavy libraries (SQLite and cryptography, TLS and XML
signing) load when a service is first built, not when this module is imported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.config import Config
from kiosk.hardware.card_errors import WrongCard
from kiosk.hardware.roles import Role

if TYPE_CHECKING:
    from kiosk.billing.keys import KioskKeys
    from kiosk.billing.ledger import Ledger
    from kiosk.billing.vihf_trace import VihfTraceLog
    from kiosk.dmp.client import DmpClient
    from kiosk.documents.printing import ReceiptPrinter
    from kiosk.hardware.cards import VitaleCard


def reader_overrides(config: Config) -> dict[Role, str]:
    """The reader names a site pinned to a role (``[readers]``); the others are decided
    by the card inserted."""
    readers = config.readers
    pinned = {Role.PATIENT: readers.patient, Role.PROFESSIONAL: readers.professional}
    return {role: name for role, name in pinned.items() if name}


def open_ledger(config: Config) -> Ledger:
    """The kiosk's ledger. Its first start (no ledger file yet) makes the ledger and the
    keys it lacks; afterwards the keys must be there and be the ledger's own (else
    :class:`~kiosk.billing.keys.MissingKeys` or ``KeysNotThisLedgers``, nothing written),
    and a file that is not a Borne DMP ledger is refused as it is (``NotALedger``)."""
    from kiosk.billing.ledger import Ledger

    return Ledger(Path(config.ledger.path), ledger_keys(config), create=True, check_keys=True)


def ledger_room(ledger: Callable[[], Ledger]) -> Callable[[], str | None]:
    """Asked before each journey: why the ledger cannot record one now (it does not open,
    its file system is read-only, unwritable or short of room), None when it can."""
    from kiosk.core.ledger_room import no_room

    def why() -> str | None:
        try:
            path = ledger().path
        except Exception as exc:  # noqa: BLE001 - by type: start-up logged it in full
            return f"it does not open ({type(exc).__name__})"
        return no_room(path)

    return why


def ledger_keys(config: Config) -> KioskKeys:
    """The ledger's keys: made at the kiosk's first start (no ledger file yet), loaded
    afterwards (:class:`~kiosk.billing.keys.MissingKeys` when they are not there)."""
    from kiosk.billing.keys import load_keys, load_or_create_keys
    from kiosk.billing.ledger import FileKind, identify

    path = Path(config.ledger.path)
    kiosk_id = config.ledger.kiosk_name()
    if identify(path).kind is FileKind.ABSENT:
        return load_or_create_keys(path.parent, kiosk_id)
    # an empty file too: a first start cut short after creating it, keys first
    return load_keys(path.parent, kiosk_id)


def vihf_trace(config: Config, make_keys: bool = True) -> VihfTraceLog:
    """Where every VIHF sent is kept [EX_AIR-070]: the trace beside the config's ledger,
    its patients under the ledger's own pseudonymous key (keys loaded at the first call
    about a patient). ``make_keys``: as the kiosk's first start, make the ledger's keys
    when there is no ledger yet; else (a diagnosis) a row without them has no patient key."""
    from kiosk.billing.keys import load_keys
    from kiosk.billing.vihf_trace import VihfTraceLog, trace_path
    from kiosk.core.lazy import Lazy

    state = Path(config.ledger.path).parent
    keys = Lazy(
        (lambda: ledger_keys(config))
        if make_keys
        else (lambda: load_keys(state, config.ledger.kiosk_name()))
    )
    return VihfTraceLog(trace_path(Path(config.ledger.path)), lambda ins: keys().patient_key(ins))


def dmp_client(config: Config) -> DmpClient:
    """The kiosk's DMP client, every VIHF it sends traced beside the ledger."""
    from kiosk.dmp.client_factory import client_from_config

    return client_from_config(config.dmp, on_vihf=vihf_trace(config))


def patient_reader(config: Config) -> Callable[[], VitaleCard]:
    overrides = reader_overrides(config)

    def read() -> VitaleCard:
        from kiosk.hardware.card_reading import INSERTION_GRACE, read_when_present
        from kiosk.hardware.cards import VitaleCard

        # a just-inserted card gets a short grace period instead of "no card"
        card = read_when_present(Role.PATIENT, None, overrides, timeout=INSERTION_GRACE)
        if not isinstance(card, VitaleCard):
            raise WrongCard("the patient reader does not hold a Carte Vitale")
        return card

    return read


def receipt_printer(config: Config) -> ReceiptPrinter:
    """The receipts: PDF into the spool and, when configured, the ESC/POS ticket, made
    by a child process (fpdf2 and escpos never load in the kiosk)."""
    from kiosk.documents.printing import ReceiptPrinter

    return ReceiptPrinter.from_config(config)
