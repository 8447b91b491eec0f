"""Typed DMP errors: English message for logs, French for the patient, a fix hint.
None of them carries an INS, a name or a contact."""

from __future__ import annotations


class DmpError(Exception):
    patient_message = "Le service DMP n'a pas pu traiter la demande. Réessayez plus tard."
    fix = "Run `kiosk doctor`; check the network and the DMP endpoint in the config."

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        # True once a creation's lost answer was resolved by TD0.2 as "not created"
        self.outcome_known = False


class DmpInputError(DmpError):
    """A rule checked before anything is sent (consent, contact syntax, INS origin)."""

    patient_message = "Une information saisie n'est pas valable."
    fix = "Correct the input; nothing was sent to the DMP service."


class DmpUnavailable(DmpError):
    patient_message = "Le service DMP est momentanément indisponible. Réessayez plus tard."
    fix = "Check the network and the endpoint; the service may be down (try `kiosk dmp status`)."


class DmpAuthenticationError(DmpUnavailable):
    patient_message = "La borne n'a pas pu s'identifier auprès du service DMP."
    fix = "Check the pharmacy certificates (auth/sign) in the config and their expiry dates."


class DmpTimeout(DmpError):
    patient_message = "Le service DMP met trop de temps à répondre."
    fix = (
        "The call exceeded its deadline; for a creation the outcome is checked with a status call."
    )


class DmpProtocolError(DmpError):
    patient_message = "Le service DMP a renvoyé une réponse illisible."
    fix = "The response could not be parsed; check the endpoint is the DMP service."


class DmpRejected(DmpError):
    """The service answered with a SOAP fault."""

    patient_message = "Le service DMP a refusé la demande."
    fix = "Read the fault code in the journal."

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"DMP service refused the request: {code}: {message}")
        self.code = code
        self.reason = message


class PharmacistNotReady(DmpError):
    """No CPS with its PIN entered: the kiosk cannot authenticate the pharmacist."""

    patient_message = (
        "La carte du pharmacien n'est pas prête. Adressez-vous au comptoir : "
        "le pharmacien doit insérer sa carte CPS et saisir son code."
    )
    fix = "Insert the CPS in the pharmacist reader, then enter its PIN on the admin screen."
