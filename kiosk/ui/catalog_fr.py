"""Every text the kiosk shows or says, in French (its first language), by key.

Keys are those of :class:`kiosk.ui.ui_text.UiText` (the screens' own words) and of the
typed messages (:mod:`kiosk.messages`); ``tests/unit/test_catalogs.py`` checks that both
catalogues hold exactly those keys. ``{name}`` is an argument of the message."""

from __future__ import annotations

from kiosk.ui.plural import Entry

FR: dict[str, Entry] = {
    # header
    "header.language": "English",
    "header.read_aloud": "Écouter",
    "header.cancel": "Annuler",
    # still_here
    "still_here.question": "Êtes-vous toujours là ?",
    "still_here.hint": "Sans réponse, la borne efface tout et revient à l'accueil.",
    "still_here.button": "Oui, je suis là",
    # common
    "common.next": "Suivant",
    "common.back": "Retour",
    "common.done": "Terminer",
    "common.ok": "Valider",
    "common.wait": "Veuillez patienter. Ne retirez pas votre carte.",
    # welcome
    "welcome.title": "Bienvenue",
    "welcome.intro": "Ouvrez votre Dossier Médical Partagé en quelques minutes, avec votre carte Vitale.",
    "welcome.start": "Ouvrir mon DMP",
    "welcome.privacy": "Vos informations ne restent pas sur cette borne : elles sont effacées dès la fin de votre passage.",
    # insert_card
    "insert_card.title": "Insérez votre carte Vitale",
    "insert_card.body": "Glissez votre carte Vitale dans le lecteur, puce vers le haut et en avant.",
    "insert_card.keep": "Laissez-la dans le lecteur jusqu'à la fin.",
    # reading
    "reading.title": "Lecture de la carte…",
    # choose_beneficiary
    "choose_beneficiary.title": "Pour qui ouvrir le DMP ?",
    "choose_beneficiary.hint": "Touchez le nom de la personne.",
    # guardian
    "guardian.title": "Ouverture pour un mineur",
    "guardian.body": "{name} a moins de 18 ans. Son DMP est ouvert par un parent ou un tuteur. Qui êtes-vous ? Touchez votre nom.",
    "guardian.body_anonymous": "Cette personne a moins de 18 ans. Son DMP est ouvert par un parent ou un tuteur. Qui êtes-vous ? Touchez votre nom.",
    "guardian.role": "Vous êtes :",
    "guardian.mere": "Sa mère",
    "guardian.pere": "Son père",
    "guardian.tuteur": "Son tuteur ou sa tutrice",
    # checking
    "checking.title": "Vérification du dossier…",
    "checking.body": "Nous interrogeons le service DMP. Cela prend quelques secondes.",
    # already_exists
    "already_exists.title": "Ce DMP existe déjà",
    "already_exists.body": "Un DMP est déjà ouvert pour cette personne : rien n'a été créé.",
    "already_exists.qr": "Pour le consulter, scannez ce code ou allez sur monespacesante.fr.",
    # closed
    "closed.title": "Ce DMP est fermé",
    "closed.body": "Le DMP de cette personne a été fermé. Voulez-vous le réactiver ? Ses documents seront de nouveau accessibles aux professionnels qui vous soignent.",
    "closed.yes": "Oui, le réactiver",
    "closed.no": "Non merci",
    # information
    "information.title": "Qu'est-ce que le DMP ?",
    # consent
    "consent.title": "Votre accord",
    "consent.refuse": "Je refuse",
    "consent.required": "Cochez la première case pour continuer.",
    # contact
    "contact.title": "Accès en ligne (facultatif)",
    "contact.body": "Pour consulter votre DMP en ligne, donnez un mobile ou un e-mail. Sinon, touchez « Passer ».",
    "contact.mobile": "Mobile",
    "contact.email": "E-mail",
    "contact.empty": "touchez pour saisir",
    "contact.mobile_hint": "10 chiffres, commence par 06 ou 07",
    "contact.email_hint": "exemple : nom@domaine.fr",
    "contact.confirm": "Je confirme",
    "contact.skip": "Passer",
    # attestation
    "attestation.title": "Attestation du pharmacien",
    "attestation.body": "Le pharmacien atteste avoir recueilli le consentement. Pharmacien : saisissez votre code.",
    "attestation.pending": "Vérification du code…",
    # creating
    "creating.title": "Création de votre DMP…",
    # done
    "done.title": "C'est fait",
    "done.created": "Votre DMP est ouvert.",
    "done.reactivated": "Votre DMP est réactivé.",
    "done.receipt": "Votre accusé est en cours d'impression : pensez à le prendre.",
    "done.web_access": "Votre identifiant et votre mot de passe pour l'accès en ligne sont imprimés sur papier. Gardez-les en lieu sûr.",
    "done.web_access_failed": "L'accès en ligne n'a pas pu être créé pour l'instant. Votre DMP est bien ouvert : vous pourrez activer l'accès sur monespacesante.fr.",
    "done.remove_card": "Vous pouvez retirer votre carte Vitale.",
    # error
    "error.title": "Un problème est survenu",
    "error.unknown": "Une erreur est survenue.",
    "error.what_to_do": "Retirez votre carte et recommencez. Si le problème continue, adressez-vous au pharmacien.",
    # date
    "date.unknown": "date inconnue",
    # staff
    "staff.cps": "Pharmacien : {cps}",
    # admin
    "admin.title": "Espace pharmacien",
    "admin.close": "Fermer",
    "admin.code_prompt": "Code pharmacien : ",
    "admin.pin_prompt": "Code de la CPS : ",
    "admin.cancel": "Annuler",
    "admin.ok": "OK",
    "admin.cps_pin": "Code CPS",
    "admin.import": "Importer les paiements",
    "admin.export": "Exporter (CSV + PDF)",
    "admin.today": "Aujourd'hui : {count} DMP ouvert(s)",
    "admin.year": "Cette année : {count} DMP ouvert(s)",
    "admin.money": "Dû {due} · payé {paid} · reste {outstanding}",
    "admin.pending": "En attente de résolution : {count}",
    "admin.ledger_unreadable": "Registre illisible : appelez le technicien (kiosk ledger verify).",
    "admin.cps_checking": "Vérification du code CPS…",
    "admin.code_checking": "Vérification du code…",
    # card
    "card.unreadable": "La carte n'a pas pu être lue. Retirez-la puis réinsérez-la.",
    "card.reader_down": "Le lecteur de carte ne répond pas. Adressez-vous au pharmacien.",
    "card.reader_missing": "Le lecteur de carte est introuvable. Adressez-vous au pharmacien.",
    "card.no_card": "Aucune carte n'est insérée.",
    "card.removed": "La carte a été retirée pendant la lecture.",
    "card.unknown": "Carte non reconnue. Insérez votre carte Vitale.",
    "card.wrong_card": "Ce n'est pas la bonne carte pour ce lecteur.",
    "card.mute": "La carte ne répond pas. Elle est peut-être abîmée ou mal insérée.",
    "card.malformed": "Les données de la carte sont illisibles. Faites mettre à jour votre carte.",
    "card.no_beneficiary": "Cette carte ne porte aucun bénéficiaire.",
    "card.pin_required": "Le pharmacien doit saisir le code de sa carte CPS.",
    "card.pin_invalid": "Le code doit comporter 4 à 8 chiffres.",
    "card.pin_wrong": "Code de la carte CPS incorrect.",
    "card.pin_blocked": "La carte CPS est bloquée.",
    # dmp
    "dmp.failed": "Le service DMP n'a pas pu traiter la demande. Réessayez plus tard.",
    "dmp.input_invalid": "Une information saisie n'est pas valable.",
    "dmp.unavailable": "Le service DMP est momentanément indisponible. Réessayez plus tard.",
    "dmp.authentication": "La borne n'a pas pu s'identifier auprès du service DMP.",
    "dmp.timeout": "Le service DMP met trop de temps à répondre.",
    "dmp.unreadable_answer": "Le service DMP a renvoyé une réponse illisible.",
    "dmp.rejected": "Le service DMP a refusé la demande.",
    # dmp: one per error code of the service
    "dmp.bad_envelope": "Le service DMP n'a pas pu lire la demande de la borne. Rien n'a été fait. Prévenez le pharmacien.",
    "dmp.bad_request": "La demande envoyée au service DMP était incomplète. Rien n'a été fait. Prévenez le pharmacien.",
    "dmp.action_unknown": "Le service DMP ne connaît pas cette demande. Rien n'a été fait. Prévenez le pharmacien.",
    "dmp.vihf_invalid": "Le service DMP n'a pas accepté l'identification de la pharmacie. Le pharmacien doit faire vérifier la borne.",
    "dmp.structure_mismatch": "Les certificats de la pharmacie ne vont pas ensemble. Le pharmacien doit appeler le technicien.",
    "dmp.invalid_certificate": "Le certificat de signature de la pharmacie a été refusé. Le pharmacien doit appeler le technicien.",
    "dmp.resource_mismatch": "La demande ne correspondait pas à votre dossier. Rien n'a été fait. Retirez votre carte et recommencez.",
    "dmp.identity_not_found": "Votre carte Vitale n'a pas permis de vous retrouver. Faites-la mettre à jour, puis recommencez.",
    "dmp.patient_not_found": "Le service DMP ne vous a pas trouvé. Demandez au pharmacien de vérifier votre carte Vitale.",
    "dmp.consent_required": "Le dossier ne s'ouvre qu'avec votre accord. Recommencez et cochez la case « J'accepte ».",
    "dmp.representative_required": "Le dossier d'un enfant s'ouvre avec un parent ou un représentant légal majeur. Recommencez avec lui.",
    "dmp.already_exists": "Vous avez déjà un dossier médical partagé. Il n'a pas été créé une deuxième fois.",
    "dmp.closed": "Votre dossier est fermé. Le pharmacien peut le rouvrir.",
    "dmp.not_closed": "Votre dossier n'est pas fermé : il n'y a rien à rouvrir.",
    "dmp.not_found": "Votre dossier n'a pas été trouvé. Demandez au pharmacien.",
    "dmp.bad_contact": "Votre numéro de portable ou votre e-mail n'a pas été accepté. Le pharmacien peut vous aider.",
    "dmp.service_error": "Le service DMP est en panne. Rien n'a été fait. Réessayez dans quelques minutes.",
    # journey
    "journey.dmp_not_checked": "Le service DMP n'a pas pu vérifier ce dossier.",
    "journey.check_expired": "La vérification du dossier a expiré. Recommencez.",
    "journey.unexpected": "Une erreur inattendue est survenue. Réessayez.",
    "journey.representative_absent": "Pour un enfant de moins de 18 ans, un parent ou un tuteur inscrit sur la carte Vitale doit être présent. Revenez avec lui, ou demandez au pharmacien.",
    # notice
    "notice.finishing": "La carte a été retirée. L'ouverture du DMP se termine : demandez votre accusé au pharmacien.",
    "notice.receipt_at_counter": "Le DMP est ouvert. Votre accusé est imprimé : le pharmacien vous le remet.",
    "notice.not_opened": "La carte a été retirée : le DMP n'a pas été ouvert. Demandez au pharmacien.",
    # code
    "code.locked": "Saisie bloquée : patientez quelques minutes.",
    # dmp
    "dmp.pharmacist_not_ready": "La carte du pharmacien n'est pas prête. Adressez-vous au comptoir : le pharmacien doit insérer sa carte CPS et saisir son code.",
    # journey
    "journey.ledger_down": "La borne ne peut pas enregistrer l'ouverture pour le moment : rien n'a été envoyé. Adressez-vous au pharmacien.",
    # code
    "code.wrong": "Code incorrect ({tries_left} essai(s)).",
    "code.locked_now": "Code incorrect {tries} fois : saisie bloquée {minutes} minutes.",
    # cps
    "cps.absent": "CPS : aucune carte dans le lecteur du pharmacien",
    "cps.ready": "CPS de {holder} : insérée, code saisi ({tries_left} essais)",
    "cps.blocked": "CPS bloquée (3 codes faux) : débloquez-la avec son code PUK",
    "cps.unreadable": "CPS illisible : retirez-la puis réinsérez-la",
    "cps.not_pharmacist": "CPS de {holder} refusée : seule une carte de pharmacien peut ouvrir un DMP ici",
    "cps.expired": "CPS de {holder} expirée : elle ne peut plus ouvrir de DMP (demandez son renouvellement)",
    "cps.other_structure": "CPS de {holder} refusée : elle est rattachée à une autre pharmacie que celle de cette borne",
    "cps.needs_pin": "CPS insérée : code à saisir",
    "cps.needs_pin_tries": "CPS insérée : code à saisir ({tries_left} essai(s) restant(s))",
    "cps.pin_accepted": "Code CPS accepté.",
    "cps.pin_not_sent": "Le code CPS compte 4 à 8 chiffres : rien n'a été envoyé.",
    "cps.pin_blocked": "CPS bloquée : code faux 3 fois.",
    "cps.pin_no_card": "Aucune CPS dans le lecteur du pharmacien.",
    "cps.pin_no_answer": "La CPS n'a pas répondu : retirez-la, réinsérez-la, puis recommencez.",
    "cps.pin_failed": "La CPS n'a pas pu être lue. Réessayez.",
    "cps.pin_card_refused": "Code CPS correct, mais cette carte ne peut pas ouvrir de DMP (voir la ligne CPS).",
    "cps.pin_wrong": "Code CPS incorrect : {tries_left} essai(s) restant(s).",
    # printer
    "printer.pdf_failed": "Le reçu PDF n'a pas pu être enregistré (dossier d'impression plein ou non accessible).",
    "printer.ticket_unreachable": "Imprimante à tickets injoignable ({where}) : vérifiez qu'elle est allumée, branchée et en ligne.",
    "printer.ticket_no_paper": "Imprimante à tickets sans papier : remettez un rouleau.",
    "printer.ticket_interrupted": "Impression du ticket interrompue : l'imprimante s'est déconnectée pendant l'envoi.",
    "printer.ticket_driver": "Imprimante à tickets non prise en charge sur ce poste (pilote USB ou série manquant).",
    "printer.ticket_failed": "Le ticket n'a pas pu être imprimé.",
    "printer.ticket_timeout": "L'imprimante à tickets ne répond pas ({where}) : ticket non imprimé.",
    "printer.timeout": "L'impression du reçu a pris trop de temps et a été abandonnée.",
    "printer.crashed": "Le programme d'impression du reçu s'est arrêté de façon inattendue.",
    "printer.pdf_kept": "Le reçu PDF est enregistré : il peut être réimprimé.",
    # admin
    "admin.no_payment_files": "Aucun relevé (.csv) dans {folder}.",
    "admin.payments_imported": "{added} paiement(s) importé(s) depuis {files} fichier(s).",
    "admin.payment_file_refused": "{name} refusé : {problem}. Rien n'a été importé de ce fichier.",
    "admin.payment_line_refused": "{name} refusé (ligne {line}) : {problem}. Rien n'a été importé de ce fichier.",
    "admin.import_failed": "Import impossible ({kind}) : rien n'a été importé de {name}.",
    "admin.exported": "Exporté : {csv} et {pdf}.",
    "admin.export_failed": "Export impossible : {problem}.",
    "admin.export_no_space": "plus de place sur la clé USB",
    "admin.export_not_writable": "la clé USB refuse l'écriture (protégée ?)",
    "admin.export_no_folder": "le dossier d'échange est absent (clé USB retirée ?)",
    "admin.export_other": "erreur d'écriture sur la clé USB",
    "admin.export_ledger_unreadable": "Export impossible : registre illisible ({kind}).",
    # payments
    "payments.header": "l'en-tête doit être date_paiement;reference;montant;periode_debut;periode_fin",
    "payments.fields": "il faut 5 champs séparés par des points-virgules",
    "payments.date": "date illisible (écrire AAAA-MM-JJ ou JJ/MM/AAAA)",
    "payments.amount": "montant illisible (écrire par exemple 41,00)",
    "payments.reference": "la référence doit compter de 1 à 64 caractères",
    "payments.period": "la période finit avant de commencer",
    "payments.duplicate": "une référence figure deux fois dans le fichier",
    "payments.conflict": "un paiement déjà importé y figure avec d'autres valeurs",
    "payments.encoding": "le fichier n'est pas en UTF-8",
}
