"""Read a CPS3 and verify its PIN. A wrong PIN is never retried: each call to
:func:`verify_pin` sends exactly one VERIFY, so a typo costs one try, never three."""

from __future__ import annotations

from kiosk.hardware.apdu import (
    INS_VERIFY,
    SW_OK,
    SW_PIN_BLOCKED,
    Apdu,
    Channel,
    sw_tries_left,
    transmit,
)
from kiosk.hardware.card_errors import (
    CardStatusError,
    InvalidPin,
    PinBlocked,
    PinRequired,
    PinWrong,
)
from kiosk.hardware.cards import CPS_PIN_MAX_TRIES, CpsCard
from kiosk.hardware.cps_layout import (
    AID_IAS,
    EF_IDENTITY,
    EF_PUBLIC,
    PIN_REFERENCE,
    CpsPublic,
    decode_card,
    decode_public_holder,
)
from kiosk.hardware.vitale import read_ef, select_aid, select_ef


def _verify(channel: Channel, pin: bytes, what: str) -> int | None:
    """Send one VERIFY; None when it answers 9000, else the tries left (never 0)."""
    response = transmit(channel, Apdu(0x00, INS_VERIFY, 0x00, PIN_REFERENCE, pin))
    if response.sw == SW_OK:
        return None
    tries = sw_tries_left(response.sw)
    if response.sw == SW_PIN_BLOCKED or tries == 0:
        raise PinBlocked
    if tries is None:
        raise CardStatusError(f"unexpected answer to {what}", response.sw)
    return tries


def pin_state(channel: Channel) -> int | None:
    """None when the PIN is already verified in this card session, else the tries left.
    Costs no try (VERIFY without data). Raises :class:`PinBlocked`."""
    return _verify(channel, b"", "the PIN status query")


def check_pin_format(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise InvalidPin("a CPS PIN is 4 to 8 digits; nothing was sent to the card")


def verify_pin(channel: Channel, pin: str) -> None:
    """One VERIFY. Raises :class:`PinWrong` (with tries left) or :class:`PinBlocked`."""
    check_pin_format(pin)
    tries = _verify(channel, pin.encode(), "VERIFY")
    if tries is not None:
        raise PinWrong(tries)


def read_cps_public(channel: Channel) -> CpsPublic:
    """What the card tells without its PIN: serial, validity, profession, CNOP section.
    Sends no VERIFY (use :func:`pin_state` for the tries left, also free)."""
    select_aid(channel, AID_IAS)
    select_ef(channel, EF_PUBLIC)
    return decode_public_holder(read_ef(channel))


def read_cps(channel: Channel, pin: str | None = None) -> CpsCard:
    """Read the CPS identity, verifying ``pin`` first when given (without it, the card
    session must already be verified).

    ``pin_tries_left`` is what the card reports: the tries left before a VERIFY, and the
    full count after a successful one (a right PIN resets the counter)."""
    if pin is not None:
        check_pin_format(pin)  # refuse a typo before talking to the card at all
    select_aid(channel, AID_IAS)
    select_ef(channel, EF_PUBLIC)
    public = read_ef(channel)
    if pin is not None:
        verify_pin(channel, pin)  # always checked when given, even if already verified
    else:
        tries = pin_state(channel)
        if tries is not None:
            raise PinRequired(
                f"the CPS identity needs the PIN ({tries} tries left): pass --pin", tries
            )
    select_ef(channel, EF_IDENTITY)
    identity = read_ef(channel)
    return decode_card(public, identity, CPS_PIN_MAX_TRIES)
