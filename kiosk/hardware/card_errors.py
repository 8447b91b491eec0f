"""Typed card errors: an English message for logs and the CLI, a :class:`CardProblem`
for the patient's screen (rendered by the UI), and a hint for the technician. None of
them carries patient data."""

from __future__ import annotations

from typing import ClassVar

from kiosk.messages import MessageEnum


class CardProblem(MessageEnum):
    """What the patient is told about a card or a reader."""

    UNREADABLE = "card.unreadable"
    READER_DOWN = "card.reader_down"
    READER_MISSING = "card.reader_missing"
    NO_CARD = "card.no_card"
    REMOVED = "card.removed"
    UNKNOWN = "card.unknown"
    WRONG_CARD = "card.wrong_card"
    MUTE = "card.mute"
    MALFORMED = "card.malformed"
    NO_BENEFICIARY = "card.no_beneficiary"
    PIN_REQUIRED = "card.pin_required"
    PIN_INVALID = "card.pin_invalid"
    PIN_WRONG = "card.pin_wrong"
    PIN_BLOCKED = "card.pin_blocked"


class CardError(Exception):
    """Base of every error the card layer raises."""

    problem: ClassVar[CardProblem] = CardProblem.UNREADABLE
    fix = "Re-insert the card; if it persists, run `kiosk doctor`."

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PcscUnavailable(CardError):
    problem = CardProblem.READER_DOWN
    fix = "Start the PC/SC daemon: `systemctl start pcscd` (or `pcscd`)."


class ReaderNotFound(CardError):
    problem = CardProblem.READER_MISSING
    fix = "Check the reader's USB cable; `pcsc_scan` lists the readers pcscd sees."


class NoCard(CardError):
    problem = CardProblem.NO_CARD
    fix = "Insert the card, chip first, face up."


class CardRemoved(CardError):
    problem = CardProblem.REMOVED
    fix = "Leave the card in the reader until the read is over."


class UnknownCard(CardError):
    problem = CardProblem.UNKNOWN
    fix = "Only a Carte Vitale (patient reader) or a CPS (pharmacist reader) is accepted."

    def __init__(self, message: str, atr: bytes = b"") -> None:
        super().__init__(message)
        self.atr = atr


class WrongCard(CardError):
    """A card of a known kind, but not the one expected in this reader."""

    problem = CardProblem.WRONG_CARD
    fix = "Put the Carte Vitale in the patient reader and the CPS in the pharmacist reader."


class MuteCard(CardError):
    problem = CardProblem.MUTE
    fix = "Clean the chip and re-insert the card; try another card to rule out the reader."


class MalformedCardData(CardError):
    problem = CardProblem.MALFORMED
    fix = "The card answered with data we cannot decode; update it at a pharmacy terminal."


class CardStatusError(CardError):
    """The card answered a command with an unexpected status word."""

    def __init__(self, message: str, sw: int) -> None:
        super().__init__(f"{message} (status {sw:04X})")
        self.sw = sw


class PinRequired(CardError):
    problem = CardProblem.PIN_REQUIRED
    fix = "Give the CPS PIN (`--pin`) or enter it on the admin screen."

    def __init__(self, message: str, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class InvalidPin(CardError):
    problem = CardProblem.PIN_INVALID
    fix = "Type the CPS PIN: 4 to 8 digits."


class PinWrong(CardError):
    problem = CardProblem.PIN_WRONG
    fix = "Check the PIN; the card blocks after 3 wrong codes in a row."

    def __init__(self, tries_left: int) -> None:
        plural = "try" if tries_left == 1 else "tries"
        super().__init__(f"wrong CPS PIN: {tries_left} {plural} left before the card blocks")
        self.tries_left = tries_left


class PinBlocked(CardError):
    problem = CardProblem.PIN_BLOCKED
    fix = "Unblock the CPS with its PUK (ANS tools) or order a new card from the ANS."

    def __init__(self) -> None:
        super().__init__("CPS PIN blocked: no tries left")
