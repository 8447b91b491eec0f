"""Read whatever card serves a role (or sits in a named reader), through PC/SC."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kiosk.hardware.apdu import ApduError, Channel
from kiosk.hardware.card_errors import (
    MalformedCardData,
    MuteCard,
    NoCard,
    ReaderNotFound,
    UnknownCard,
    WrongCard,
)
from kiosk.hardware.cards import CpsCard, VitaleCard, cps_to_profile, vitale_to_profile
from kiosk.hardware.cps import read_cps
from kiosk.hardware.pcsc import PcscContext
from kiosk.hardware.roles import (
    ROLE_CARD,
    CardKind,
    Role,
    classify_atr,
    match_reader_name,
    reader_for_role,
)
from kiosk.hardware.vitale import read_vitale


def resolve_reader(
    context: PcscContext, spec: str, overrides: Mapping[Role, str] | None = None
) -> tuple[str, Role | None]:
    """The reader named by ``spec`` (a role or a reader name) and the role asked for."""
    atrs = context.card_atrs()
    if not atrs:
        raise ReaderNotFound("no smart-card reader is connected")
    if spec in (Role.PATIENT, Role.PROFESSIONAL):
        role = Role(spec)
        inserted = {r: classify_atr(a) for r, a in atrs.items() if a is not None}
        reader = reader_for_role(role, inserted, overrides)
        if reader is None:
            wanted = "Carte Vitale" if role is Role.PATIENT else "CPS"
            if any(kind is CardKind.UNKNOWN for kind in inserted.values()):
                raise UnknownCard(f"no {wanted} inserted; a card not recognised is in a reader")
            raise NoCard(f"no {wanted} in any reader")
        if reader not in atrs:
            raise ReaderNotFound(f"configured {role} reader {reader!r} is not connected")
        return reader, role
    reader = match_reader_name(spec, sorted(atrs))
    if reader is None:
        raise ReaderNotFound(f"no reader named {spec!r} (readers: {', '.join(sorted(atrs))})")
    return reader, None


DEFAULT_DEADLINE = 10.0
INSERTION_GRACE = 1.5  # seconds a just-inserted card may answer "no card"
T = TypeVar("T")


def read_card(
    spec: str,
    pin: str | None = None,
    overrides: Mapping[Role, str] | None = None,
    deadline: float = DEFAULT_DEADLINE,
) -> dict[str, Any]:
    """The card's profile JSON (CPS: without the PIN, with the tries left)."""
    card = read_card_typed(spec, pin, overrides, deadline)
    if isinstance(card, VitaleCard):
        return vitale_to_profile(card)
    return cps_to_profile(card)


def read_card_typed(
    spec: str,
    pin: str | None = None,
    overrides: Mapping[Role, str] | None = None,
    deadline: float = DEFAULT_DEADLINE,
) -> VitaleCard | CpsCard:
    """Read the card serving ``spec`` (a role or a reader name).

    A card that stops answering would block ``SCardTransmit`` until it is pulled, so
    the read runs on a worker thread with its own PC/SC context and the caller gets
    :class:`MuteCard` after ``deadline`` seconds. The worker sends no APDU past the
    deadline: it ends with the APDU in flight (or when the card goes, for a card that
    never answers it)."""
    outcome: dict[str, Any] = {}
    ends = time.monotonic() + deadline

    def work() -> None:
        try:
            outcome["card"] = _read_card(spec, pin, overrides, ends)
        except Exception as exc:  # noqa: BLE001 - re-raised on the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="card-read", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        raise MuteCard(f"the card did not answer within {deadline:g} s")
    if "error" in outcome:
        raise outcome["error"]
    card: VitaleCard | CpsCard = outcome["card"]
    return card


def read_when_present(
    spec: str,
    pin: str | None = None,
    overrides: Mapping[Role, str] | None = None,
    timeout: float = 5.0,
) -> VitaleCard | CpsCard:
    """:func:`read_card_typed`, given the insertion grace of :func:`retry_no_card`."""
    return retry_no_card(lambda: read_card_typed(spec, pin, overrides), timeout)


def retry_no_card(attempt: Callable[[], T], timeout: float) -> T:
    """``attempt()``, retried while it raises :class:`NoCard`, for ``timeout`` seconds:
    pcscd reports an insertion a moment before a just-inserted card answers a connect."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return attempt()
        except NoCard:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _read_card(
    spec: str, pin: str | None, overrides: Mapping[Role, str] | None, deadline: float
) -> VitaleCard | CpsCard:
    context = PcscContext()
    try:
        reader, role = resolve_reader(context, spec, overrides)
        with context.connect(reader) as connection:
            connection.deadline = deadline
            kind = classify_atr(connection.atr)
            if kind is CardKind.UNKNOWN:
                raise UnknownCard(
                    f"card not recognised in {reader!r} (ATR {connection.atr.hex(' ').upper()})",
                    connection.atr,
                )
            if role is not None and kind is not ROLE_CARD[role]:
                raise WrongCard(f"a {kind} card is in the {role} reader {reader!r}")
            return read_channel(connection, kind, pin)
    finally:
        context.close()


def read_channel(channel: Channel, kind: CardKind, pin: str | None) -> VitaleCard | CpsCard:
    """Read a card of ``kind`` over any APDU channel: :class:`CardError` only, whatever
    the card answers (a broken APDU exchange is :class:`MalformedCardData`)."""
    try:
        if kind is CardKind.VITALE:
            return read_vitale(channel)
        if kind is CardKind.CPS:
            return read_cps(channel, pin)
    except ApduError as exc:
        raise MalformedCardData(f"the card broke the APDU protocol: {exc}") from None
    raise UnknownCard(f"no reader for a card of kind {kind}")
