"""Every word the screens show, French first, then English.

``t(key, language)`` falls back to French for a missing English text, and to the key
itself for an unknown key (so a typo shows on screen instead of crashing the kiosk).
``translate_message`` gives the English of the French messages the flow and the journey
put in ``Flow.message``; an unknown message is shown as it is.
"""

from __future__ import annotations

import re

TEXTS: dict[str, tuple[str, str]] = {
    # header and shared
    "header.language": ("English", "Français"),
    "header.read_aloud": ("Écouter", "Listen"),
    "header.cancel": ("Annuler", "Cancel"),
    "still_here.question": ("Êtes-vous toujours là ?", "Are you still there?"),
    "still_here.hint": (
        "Sans réponse, la borne efface tout et revient à l'accueil.",
        "Without an answer, the kiosk erases everything and returns to the start.",
    ),
    "still_here.button": ("Oui, je suis là", "Yes, I am here"),
    "common.next": ("Suivant", "Next"),
    "common.back": ("Retour", "Back"),
    "common.done": ("Terminer", "Finish"),
    "common.ok": ("Valider", "OK"),
    "common.wait": (
        "Veuillez patienter. Ne retirez pas votre carte.",
        "Please wait. Do not remove your card.",
    ),
    # welcome
    "welcome.title": ("Bienvenue", "Welcome"),
    "welcome.intro": (
        "Ouvrez votre Dossier Médical Partagé en quelques minutes, avec votre carte Vitale.",
        "Open your Shared Medical Record in a few minutes, with your Carte Vitale.",
    ),
    "welcome.start": ("Ouvrir mon DMP", "Open my DMP"),
    "welcome.privacy": (
        "Vos informations ne restent pas sur cette borne : "
        "elles sont effacées dès la fin de votre passage.",
        "Your information does not stay on this kiosk: it is erased as soon as you leave.",
    ),
    # insert_card
    "insert_card.title": ("Insérez votre carte Vitale", "Insert your Carte Vitale"),
    "insert_card.body": (
        "Glissez votre carte Vitale dans le lecteur, puce vers le haut et en avant.",
        "Slide your Carte Vitale into the reader, chip facing up and going in first.",
    ),
    "insert_card.keep": (
        "Laissez-la dans le lecteur jusqu'à la fin.",
        "Leave it in the reader until the end.",
    ),
    # reading
    "reading.title": ("Lecture de la carte…", "Reading the card…"),
    # choose_beneficiary
    "choose_beneficiary.title": ("Pour qui ouvrir le DMP ?", "Whose DMP is it for?"),
    "choose_beneficiary.hint": ("Touchez le nom de la personne.", "Touch the person's name."),
    # guardian
    "guardian.title": ("Ouverture pour un mineur", "Opening for a minor"),
    "guardian.body": (
        "{name} a moins de 18 ans : son DMP est ouvert par un représentant légal. Qui êtes-vous ?",
        "{name} is under 18: the DMP is opened by a legal representative. Who are you?",
    ),
    "guardian.body_anonymous": (
        "Le DMP d'un mineur est ouvert par un représentant légal. Qui êtes-vous ?",
        "A minor's DMP is opened by a legal representative. Who are you?",
    ),
    "guardian.mere": ("Sa mère", "The mother"),
    "guardian.pere": ("Son père", "The father"),
    "guardian.tuteur": ("Son tuteur ou sa tutrice", "The legal guardian"),
    # checking
    "checking.title": ("Vérification du dossier…", "Checking the record…"),
    "checking.body": (
        "Nous interrogeons le service DMP. Cela prend quelques secondes.",
        "We are asking the DMP service. It takes a few seconds.",
    ),
    # already_exists
    "already_exists.title": ("Ce DMP existe déjà", "This DMP already exists"),
    "already_exists.body": (
        "Un DMP est déjà ouvert pour cette personne : rien n'a été créé.",
        "A DMP is already open for this person: nothing was created.",
    ),
    "already_exists.qr": (
        "Pour le consulter, scannez ce code ou allez sur monespacesante.fr.",
        "To read it, scan this code or go to monespacesante.fr.",
    ),
    # closed
    "closed.title": ("Ce DMP est fermé", "This DMP is closed"),
    "closed.body": (
        "Le DMP de cette personne a été fermé. Voulez-vous le réactiver ? Ses documents "
        "seront de nouveau accessibles aux professionnels qui vous soignent.",
        "This person's DMP was closed. Do you want to reactivate it? Its documents will "
        "again be available to the professionals who treat you.",
    ),
    "closed.yes": ("Oui, le réactiver", "Yes, reactivate it"),
    "closed.no": ("Non merci", "No thank you"),
    # information
    "information.title": ("Qu'est-ce que le DMP ?", "What is the DMP?"),
    # consent
    "consent.title": ("Votre accord", "Your agreement"),
    "consent.refuse": ("Je refuse", "I refuse"),
    "consent.required": (
        "Cochez la première case pour continuer.",
        "Tick the first box to continue.",
    ),
    # contact
    "contact.title": ("Accès en ligne (facultatif)", "Online access (optional)"),
    "contact.body": (
        "Pour consulter votre DMP en ligne, donnez un mobile ou un e-mail. "
        "Sinon, touchez « Passer ».",
        "To read your DMP online, give a mobile number or an e-mail. "
        "Otherwise, touch \u201cSkip\u201d.",
    ),
    "contact.mobile": ("Mobile", "Mobile"),
    "contact.email": ("E-mail", "E-mail"),
    "contact.empty": ("touchez pour saisir", "touch to type"),
    "contact.mobile_hint": ("10 chiffres, commence par 06 ou 07", "10 digits, starting 06 or 07"),
    "contact.email_hint": ("exemple : nom@domaine.fr", "example: name@domain.fr"),
    "contact.confirm": ("Je confirme", "I confirm"),
    "contact.skip": ("Passer", "Skip"),
    # attestation
    "attestation.title": ("Attestation du pharmacien", "Pharmacist's attestation"),
    "attestation.body": (
        "Le pharmacien atteste avoir recueilli le consentement. Pharmacien : saisissez votre code.",
        "The pharmacist attests having collected the consent. Pharmacist: enter your code.",
    ),
    "attestation.pending": ("Vérification du code…", "Checking the code…"),
    # creating
    "creating.title": ("Création de votre DMP…", "Creating your DMP…"),
    # done
    "done.title": ("C'est fait", "All done"),
    "done.created": ("Votre DMP est ouvert.", "Your DMP is open."),
    "done.reactivated": ("Votre DMP est réactivé.", "Your DMP is reactivated."),
    "done.receipt": (
        "Votre accusé est en cours d'impression : pensez à le prendre.",
        "Your receipt is being printed: remember to take it.",
    ),
    "done.web_access": (
        "Votre identifiant et votre mot de passe pour l'accès en ligne sont imprimés sur "
        "papier. Gardez-les en lieu sûr.",
        "Your identifier and password for online access are printed on paper. "
        "Keep them somewhere safe.",
    ),
    "done.web_access_failed": (
        "L'accès en ligne n'a pas pu être créé pour l'instant. Votre DMP est bien ouvert : "
        "vous pourrez activer l'accès sur monespacesante.fr.",
        "Online access could not be created for now. Your DMP is open all the same: "
        "you can activate access on monespacesante.fr.",
    ),
    "done.remove_card": ("Vous pouvez retirer votre carte Vitale.", "You may remove your card."),
    # error
    "error.title": ("Un problème est survenu", "Something went wrong"),
    "error.unknown": ("Une erreur est survenue.", "An error occurred."),
    "error.what_to_do": (
        "Retirez votre carte et recommencez. Si le problème continue, adressez-vous au pharmacien.",
        "Remove your card and start again. If the problem persists, ask the pharmacist.",
    ),
}

MESSAGES: dict[str, str] = {
    "Aucune carte n'est insérée.": "No card is inserted.",
    "Carte non reconnue. Insérez votre carte Vitale.": (
        "Card not recognised. Insert your Carte Vitale."
    ),
    "Cette carte ne porte aucun bénéficiaire.": "This card holds no beneficiary.",
    "Ce n'est pas la bonne carte pour ce lecteur.": "This is not the right card for this reader.",
    "Code de la carte CPS incorrect.": "Wrong CPS card code.",
    "La borne n'a pas pu s'identifier auprès du service DMP.": (
        "The kiosk could not identify itself to the DMP service."
    ),
    "La carte CPS est bloquée.": "The CPS card is blocked.",
    "La carte a été retirée pendant la lecture.": "The card was removed while being read.",
    "La carte n'a pas pu être lue. Retirez-la puis réinsérez-la.": (
        "The card could not be read. Remove it and insert it again."
    ),
    "La carte ne répond pas. Elle est peut-être abîmée ou mal insérée.": (
        "The card does not answer. It may be damaged or badly inserted."
    ),
    "La vérification du dossier a expiré. Recommencez.": (
        "Checking the record took too long. Start again."
    ),
    "Le code doit comporter 4 à 8 chiffres.": "The code must have 4 to 8 digits.",
    "Le lecteur de carte est introuvable. Adressez-vous au pharmacien.": (
        "The card reader cannot be found. Ask the pharmacist."
    ),
    "Le lecteur de carte ne répond pas. Adressez-vous au pharmacien.": (
        "The card reader does not answer. Ask the pharmacist."
    ),
    "Le pharmacien doit saisir le code de sa carte CPS.": (
        "The pharmacist must enter the code of their CPS card."
    ),
    "Le service DMP a refusé la demande.": "The DMP service refused the request.",
    "Le service DMP a renvoyé une réponse illisible.": (
        "The DMP service sent back an unreadable answer."
    ),
    "Le service DMP est momentanément indisponible. Réessayez plus tard.": (
        "The DMP service is unavailable for now. Try again later."
    ),
    "Le service DMP met trop de temps à répondre.": "The DMP service is taking too long.",
    "Le service DMP n'a pas pu traiter la demande. Réessayez plus tard.": (
        "The DMP service could not handle the request. Try again later."
    ),
    "Le service DMP n'a pas pu vérifier ce dossier.": (
        "The DMP service could not check this record."
    ),
    "Les données de la carte sont illisibles. Faites mettre à jour votre carte.": (
        "The card data cannot be read. Have your card updated."
    ),
    "Une erreur inattendue est survenue. Réessayez.": "An unexpected error occurred. Try again.",
    "Une information saisie n'est pas valable.": "Some information entered is not valid.",
    "Saisie bloquée : patientez quelques minutes.": "Entry locked: wait a few minutes.",
    "Code incorrect 3 fois : saisie bloquée 5 minutes.": (
        "Wrong code 3 times: entry locked for 5 minutes."
    ),
}

_TRIES = re.compile(r"^Code incorrect \((\d+) essai\(s\)\)\.$")


def t(key: str, language: str) -> str:
    """The text for ``key`` in ``language`` ("fr" or "en")."""
    pair = TEXTS.get(key)
    if pair is None:
        return key
    return pair[1] if language == "en" and pair[1] else pair[0]


def translate_message(message: str, language: str) -> str:
    """A French message of the flow or the journey, in ``language``."""
    if language != "en" or not message:
        return message
    tries = _TRIES.match(message)
    if tries:
        left = int(tries.group(1))
        return f"Wrong code ({left} {'try' if left == 1 else 'tries'} left)."
    return MESSAGES.get(message, message)
