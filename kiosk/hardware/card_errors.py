"""Typed card errors: an English message for logs and the CLI, a French one for the
patient's screen, and a hint for the technician. None of them carries patient data."""

from __future__ import annotations


class CardError(Exception):
    """Base of every error the card layer raises."""

    patient_message = "La carte n'a pas pu être lue. Retirez-la puis réinsérez-la."
    fix = "Re-insert the card; if it persists, run `kiosk doctor`."

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PcscUnavailable(CardError):
    patient_message = "Le lecteur de carte ne répond pas. Adressez-vous au pharmacien."
    fix = "Start the PC/SC daemon: `systemctl start pcscd` (or `pcscd`)."


class ReaderNotFound(CardError):
    patient_message = "Le lecteur de carte est introuvable. Adressez-vous au pharmacien."
    fix = "Check the reader's USB cable; `pcsc_scan` lists the readers pcscd sees."


class NoCard(CardError):
    patient_message = "Aucune carte n'est insérée."
    fix = "Insert the card, chip first, face up."


class CardRemoved(CardError):
    patient_message = "La carte a été retirée pendant la lecture."
    fix = "Leave the card in the reader until the read is over."


class UnknownCard(CardError):
    patient_message = "Carte non reconnue. Insérez votre carte Vitale."
    fix = "Only a Carte Vitale (patient reader) or a CPS (pharmacist reader) is accepted."

    def __init__(self, message: str, atr: bytes = b"") -> None:
        super().__init__(message)
        self.atr = atr


class WrongCard(CardError):
    """A card of a known kind, but not the one expected in this reader."""

    patient_message = "Ce n'est pas la bonne carte pour ce lecteur."
    fix = "Put the Carte Vitale in the patient reader and the CPS in the pharmacist reader."


class MuteCard(CardError):
    patient_message = "La carte ne répond pas. Elle est peut-être abîmée ou mal insérée."
    fix = "Clean the chip and re-insert the card; try another card to rule out the reader."


class MalformedCardData(CardError):
    patient_message = "Les données de la carte sont illisibles. Faites mettre à jour votre carte."
    fix = "The card answered with data we cannot decode; update it at a pharmacy terminal."


class CardStatusError(CardError):
    """The card answered a command with an unexpected status word."""

    def __init__(self, message: str, sw: int) -> None:
        super().__init__(f"{message} (status {sw:04X})")
        self.sw = sw


class PinRequired(CardError):
    patient_message = "Le pharmacien doit saisir le code de sa carte CPS."
    fix = "Give the CPS PIN (`--pin`) or enter it on the admin screen."

    def __init__(self, message: str, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class InvalidPin(CardError):
    patient_message = "Le code doit comporter 4 à 8 chiffres."
    fix = "Type the CPS PIN: 4 to 8 digits."


class PinWrong(CardError):
    patient_message = "Code de la carte CPS incorrect."
    fix = "Check the PIN; the card blocks after 3 wrong codes in a row."

    def __init__(self, tries_left: int) -> None:
        plural = "try" if tries_left == 1 else "tries"
        super().__init__(f"wrong CPS PIN: {tries_left} {plural} left before the card blocks")
        self.tries_left = tries_left


class PinBlocked(CardError):
    patient_message = "La carte CPS est bloquée."
    fix = "Unblock the CPS with its PUK (ANS tools) or order a new card from the ANS."

    def __init__(self) -> None:
        super().__init__("CPS PIN blocked: no tries left")
