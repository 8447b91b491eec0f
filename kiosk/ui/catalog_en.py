"""Every text the kiosk shows or says, in English, by key (see :mod:`kiosk.ui.catalog_fr`)."""

from __future__ import annotations

from kiosk.ui.plural import Entry, Plural

EN: dict[str, Entry] = {
    # header
    "header.language": "Français",
    "header.read_aloud": "Listen",
    "header.cancel": "Cancel",
    # still_here
    "still_here.question": "Are you still there?",
    "still_here.hint": "Without an answer, the kiosk erases everything and returns to the start.",
    "still_here.button": "Yes, I am here",
    # common
    "common.next": "Next",
    "common.back": "Back",
    "common.done": "Finish",
    "common.ok": "OK",
    "common.wait": "Please wait. Do not remove your card.",
    # welcome
    "welcome.title": "Welcome",
    "welcome.intro": "Open your Shared Medical Record in a few minutes, with your Carte Vitale.",
    "welcome.start": "Open my DMP",
    "welcome.privacy": "Your information does not stay on this kiosk: it is erased as soon as you leave.",
    # insert_card
    "insert_card.title": "Insert your Carte Vitale",
    "insert_card.body": "Slide your Carte Vitale into the reader, chip facing up and going in first.",
    "insert_card.keep": "Leave it in the reader until the end.",
    # reading
    "reading.title": "Reading the card…",
    # choose_beneficiary
    "choose_beneficiary.title": "Whose DMP is it for?",
    "choose_beneficiary.hint": "Touch the person's name.",
    # guardian
    "guardian.title": "Opening for a minor",
    "guardian.body": "{name} is under 18: the DMP is opened by a legal representative. Who are you?",
    "guardian.body_anonymous": "A minor's DMP is opened by a legal representative. Who are you?",
    "guardian.mere": "The mother",
    "guardian.pere": "The father",
    "guardian.tuteur": "The legal guardian",
    # checking
    "checking.title": "Checking the record…",
    "checking.body": "We are asking the DMP service. It takes a few seconds.",
    # already_exists
    "already_exists.title": "This DMP already exists",
    "already_exists.body": "A DMP is already open for this person: nothing was created.",
    "already_exists.qr": "To read it, scan this code or go to monespacesante.fr.",
    # closed
    "closed.title": "This DMP is closed",
    "closed.body": "This person's DMP was closed. Do you want to reactivate it? Its documents will again be available to the professionals who treat you.",
    "closed.yes": "Yes, reactivate it",
    "closed.no": "No thank you",
    # information
    "information.title": "What is the DMP?",
    # consent
    "consent.title": "Your agreement",
    "consent.refuse": "I refuse",
    "consent.required": "Tick the first box to continue.",
    # contact
    "contact.title": "Online access (optional)",
    "contact.body": "To read your DMP online, give a mobile number or an e-mail. Otherwise, touch “Skip”.",
    "contact.mobile": "Mobile",
    "contact.email": "E-mail",
    "contact.empty": "touch to type",
    "contact.mobile_hint": "10 digits, starting 06 or 07",
    "contact.email_hint": "example: name@domain.fr",
    "contact.confirm": "I confirm",
    "contact.skip": "Skip",
    # attestation
    "attestation.title": "Pharmacist's attestation",
    "attestation.body": "The pharmacist attests having collected the consent. Pharmacist: enter your code.",
    "attestation.pending": "Checking the code…",
    # creating
    "creating.title": "Creating your DMP…",
    # done
    "done.title": "All done",
    "done.created": "Your DMP is open.",
    "done.reactivated": "Your DMP is reactivated.",
    "done.receipt": "Your receipt is being printed: remember to take it.",
    "done.web_access": "Your identifier and password for online access are printed on paper. Keep them somewhere safe.",
    "done.web_access_failed": "Online access could not be created for now. Your DMP is open all the same: you can activate access on monespacesante.fr.",
    "done.remove_card": "You may remove your card.",
    # error
    "error.title": "Something went wrong",
    "error.unknown": "An error occurred.",
    "error.what_to_do": "Remove your card and start again. If the problem persists, ask the pharmacist.",
    # date
    "date.unknown": "unknown date",
    # staff
    "staff.cps": "Pharmacist: {cps}",
    # admin
    "admin.title": "Pharmacist's area",
    "admin.close": "Close",
    "admin.code_prompt": "Pharmacist code: ",
    "admin.pin_prompt": "CPS code: ",
    "admin.cancel": "Cancel",
    "admin.ok": "OK",
    "admin.cps_pin": "CPS code",
    "admin.import": "Import payments",
    "admin.export": "Export (CSV + PDF)",
    "admin.today": "Today: {count} DMP(s) opened",
    "admin.year": "This year: {count} DMP(s) opened",
    "admin.money": "Due {due} · paid {paid} · outstanding {outstanding}",
    "admin.pending": "Waiting for resolution: {count}",
    "admin.ledger_unreadable": "Ledger unreadable: call the technician (kiosk ledger verify).",
    "admin.cps_checking": "Checking the CPS code…",
    "admin.code_checking": "Checking the code…",
    # card
    "card.unreadable": "The card could not be read. Remove it and insert it again.",
    "card.reader_down": "The card reader does not answer. Ask the pharmacist.",
    "card.reader_missing": "The card reader cannot be found. Ask the pharmacist.",
    "card.no_card": "No card is inserted.",
    "card.removed": "The card was removed while being read.",
    "card.unknown": "Card not recognised. Insert your Carte Vitale.",
    "card.wrong_card": "This is not the right card for this reader.",
    "card.mute": "The card does not answer. It may be damaged or badly inserted.",
    "card.malformed": "The card data cannot be read. Have your card updated.",
    "card.no_beneficiary": "This card holds no beneficiary.",
    "card.pin_required": "The pharmacist must enter the code of their CPS card.",
    "card.pin_invalid": "The code must have 4 to 8 digits.",
    "card.pin_wrong": "Wrong CPS card code.",
    "card.pin_blocked": "The CPS card is blocked.",
    # dmp
    "dmp.failed": "The DMP service could not handle the request. Try again later.",
    "dmp.input_invalid": "Some information entered is not valid.",
    "dmp.unavailable": "The DMP service is unavailable for now. Try again later.",
    "dmp.authentication": "The kiosk could not identify itself to the DMP service.",
    "dmp.timeout": "The DMP service is taking too long.",
    "dmp.unreadable_answer": "The DMP service sent back an unreadable answer.",
    "dmp.rejected": "The DMP service refused the request.",
    # journey
    "journey.dmp_not_checked": "The DMP service could not check this record.",
    "journey.check_expired": "Checking the record took too long. Start again.",
    "journey.unexpected": "An unexpected error occurred. Try again.",
    # code
    "code.locked": "Entry locked: wait a few minutes.",
    # dmp
    "dmp.pharmacist_not_ready": "The pharmacist's card is not ready. Ask at the counter: the pharmacist must insert their CPS card and enter its code.",
    # journey
    "journey.ledger_down": "The kiosk cannot record the opening for now: nothing was sent. Ask the pharmacist.",
    # code
    "code.wrong": Plural(
        "tries_left",
        one="Wrong code ({tries_left} try left).",
        other="Wrong code ({tries_left} tries left).",
    ),
    "code.locked_now": "Wrong code {tries} times: entry locked for {minutes} minutes.",
    # cps
    "cps.absent": "CPS: no card in the pharmacist's reader",
    "cps.ready": "CPS of {holder}: inserted, code entered ({tries_left} tries)",
    "cps.blocked": "CPS blocked (3 wrong codes): unblock it with its PUK code",
    "cps.unreadable": "CPS unreadable: remove it and insert it again",
    "cps.not_pharmacist": "CPS of {holder} refused: only a pharmacist's card can open a DMP here",
    "cps.expired": "CPS of {holder} expired: it can no longer open a DMP (ask for its renewal)",
    "cps.needs_pin": "CPS inserted: code to enter",
    "cps.needs_pin_tries": Plural(
        "tries_left",
        one="CPS inserted: code to enter ({tries_left} try left)",
        other="CPS inserted: code to enter ({tries_left} tries left)",
    ),
    "cps.pin_accepted": "CPS code accepted.",
    "cps.pin_not_sent": "The CPS code has 4 to 8 digits: nothing was sent.",
    "cps.pin_blocked": "CPS blocked: wrong code 3 times.",
    "cps.pin_no_card": "No CPS in the pharmacist's reader.",
    "cps.pin_no_answer": "The CPS did not answer: remove it, insert it again, then start again.",
    "cps.pin_failed": "The CPS could not be read. Try again.",
    "cps.pin_card_refused": "CPS code right, but this card cannot open a DMP (see the CPS line).",
    "cps.pin_wrong": Plural(
        "tries_left",
        one="Wrong CPS code: {tries_left} try left.",
        other="Wrong CPS code: {tries_left} tries left.",
    ),
    # printer
    "printer.pdf_failed": "The PDF receipt could not be saved (print folder full or not accessible).",
    "printer.ticket_unreachable": "Ticket printer unreachable ({where}): check that it is on, plugged in and online.",
    "printer.ticket_no_paper": "Ticket printer out of paper: put in a new roll.",
    "printer.ticket_interrupted": "Ticket printing interrupted: the printer disconnected while printing.",
    "printer.ticket_driver": "Ticket printer not supported on this kiosk (USB or serial driver missing).",
    "printer.ticket_failed": "The ticket could not be printed.",
    "printer.ticket_timeout": "The ticket printer does not answer ({where}): ticket not printed.",
    "printer.timeout": "Printing the receipt took too long and was given up.",
    "printer.crashed": "The receipt printing program stopped unexpectedly.",
    "printer.pdf_kept": "The PDF receipt is saved: it can be printed again.",
    # admin
    "admin.no_payment_files": "No statement (.csv) in {folder}.",
    "admin.payments_imported": "{added} payment(s) imported from {files} file(s).",
    "admin.payment_file_refused": "{name} refused: {problem}. Nothing was imported from this file.",
    "admin.payment_line_refused": "{name} refused (line {line}): {problem}. Nothing was imported from this file.",
    "admin.import_failed": "Import failed ({kind}): nothing was imported from {name}.",
    "admin.exported": "Exported: {csv} and {pdf}.",
    "admin.export_failed": "Export failed: {problem}.",
    "admin.export_no_space": "no space left on the USB key",
    "admin.export_not_writable": "the USB key refuses writing (write-protected?)",
    "admin.export_no_folder": "the exchange folder is missing (USB key removed?)",
    "admin.export_other": "write error on the USB key",
    "admin.export_ledger_unreadable": "Export failed: unreadable ledger ({kind}).",
    # payments
    "payments.header": "the header must be date_paiement;reference;montant;periode_debut;periode_fin",
    "payments.fields": "5 fields separated by semicolons are expected",
    "payments.date": "unreadable date (write YYYY-MM-DD or DD/MM/YYYY)",
    "payments.amount": "unreadable amount (write e.g. 41,00)",
    "payments.reference": "the reference must have 1 to 64 characters",
    "payments.period": "the period ends before it starts",
    "payments.duplicate": "a reference appears twice in the file",
    "payments.conflict": "a payment already imported appears with other values",
    "payments.encoding": "the file is not UTF-8",
}
