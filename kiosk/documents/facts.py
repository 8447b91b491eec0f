"""What the journey tells the printer about an opening: the facts the accusé carries.

The journey builds one ``ReceiptFacts`` when a DMP was created or reactivated and hands it
to ``Services.print_receipt``; the printer adds the pharmacy (from the config) and the
time. It holds patient data (names, birth date, the web-access secrets): it lives in
memory for the print only, is never logged (``repr`` hides the patient) and goes to the
renderer child on its stdin, never on a command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.dmp.models import Guardian, WebAccess


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    outcome: str  # "created" | "reactivated"
    language: str  # the language on screen when the patient consented: "fr" | "en"
    first_name: str = field(repr=False)  # the beneficiary, as on the card
    last_name: str = field(repr=False)
    birth_date: str = field(repr=False)  # raw YYYYMMDD from the card (lunar dates: 00)
    guardian: Guardian | None = field(default=None, repr=False)  # a minor's representative
    pharmacist: str = ""  # the CPS holder's name, as on the card ("Claire DURAND")
    bris_de_glace: bool = True  # emergency access allowed
    centre15: bool = True  # SAMU-Centre 15 regulating doctor allowed
    web_access_requested: bool = False  # a mobile or e-mail was given
    web_access: WebAccess | None = field(default=None, repr=False)  # the secrets, if created
    patient_left: bool = False  # the card was pulled during the creation: the pharmacist
    # hands the accusé over
