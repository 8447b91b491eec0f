"""The French words of the accountant's summary for what ``verify`` found, chosen by its
kind (:class:`~kiosk.billing.summary.Check`), never from the ledger's English message.
Pure: no ledger, no PDF."""

from __future__ import annotations

from kiosk.billing.french import french_date, group
from kiosk.billing.keys import PUBLIC_KEY_FILE
from kiosk.billing.summary import Check, Integrity

HEADLINES: dict[Check, str] = {
    Check.INTACT: "Registre intact",
    Check.NO_KEY: "Chaîne intacte, signatures non vérifiées",
    Check.KEY_UNREADABLE: "Registre non vérifié : la clé publique est illisible",
    Check.KEY_MISMATCH: "Registre non vérifié : clé publique absente ou d'un autre registre",
    Check.BROKEN: "Registre altéré",
    Check.TABLES: "Registre altéré : tables de calcul différentes de la chaîne",
    Check.CHECKPOINT: "Registre altéré : un point de contrôle signé ne correspond pas",
    Check.DAMAGED: "Registre illisible : fichier endommagé",
}


def _entries(n: int) -> str:
    return f"{group(n)} entrée{'s' if n > 1 else ''}"


def _checkpoints(n: int, verified: bool) -> str:
    s = "s" if n > 1 else ""
    return f"{group(n)} point{s} de contrôle signé{s}" + (f" vérifié{s}" if verified else "")


def headline(found: Integrity) -> str:
    if found.check is Check.BROKEN and found.bad_seq is not None:
        return f"Registre altéré à l'entrée n° {group(found.bad_seq)}"
    return HEADLINES[found.check]


def detail(found: Integrity) -> str:
    n = _entries(found.entries)
    match found.check:
        case Check.INTACT:
            signed = _checkpoints(found.checkpoints, True)
            return (
                f"{n} : chaîne de hachage et tables vérifiées, {signed} avec la clé de ce kiosque."
            )
        case Check.NO_KEY:
            return (f"{n} : chaîne de hachage et tables vérifiées ; pas de clé publique à côté "
                    "du registre, signatures non vérifiées "
                    f"({_checkpoints(found.stored_checkpoints, False)}).")  # fmt: skip
        case Check.KEY_UNREADABLE:
            return (f"La chaîne de ses {n} tient, mais {PUBLIC_KEY_FILE} n'est pas une clé : "
                    "les signatures ne peuvent pas être vérifiées.")  # fmt: skip
        case Check.KEY_MISMATCH:
            return (f"La chaîne de ses {n} tient, mais ses points de contrôle sont signés par "
                    "une autre clé : registre d'un autre kiosque, clé remplacée ou registre "
                    "réécrit.")  # fmt: skip
        case Check.BROKEN:
            before = {0: "Aucune entrée ne se vérifie", 1: "L'entrée n° 1 se vérifie"}.get(
                found.entries, f"Les entrées n° 1 à {group(found.entries)} se vérifient"
            )
            return (f"{before} ; la suivante a été modifiée, supprimée, insérée ou déplacée, "
                    "et rien après elle n'est garanti.")  # fmt: skip
        case Check.TABLES:
            return (f"La chaîne de ses {n} tient, mais les tables dont sont tirés les chiffres "
                    "(actes, paiements) ont été modifiées.")  # fmt: skip
        case Check.CHECKPOINT:
            return (f"La chaîne de ses {n} tient, mais un point de contrôle signé ne correspond "
                    "pas à son entrée ou sa signature est invalide : le registre a pu être "
                    "réécrit.")  # fmt: skip
        case Check.DAMAGED:
            return "SQLite ne peut pas lire le fichier du registre."


def checkpoint_line(found: Integrity) -> str:
    """Names only a checkpoint that verified under this kiosk's key."""
    if found.last_checkpoint is not None:
        day, seq, head = found.last_checkpoint
        return (f"Dernier point de contrôle signé vérifié : {french_date(day)}, entrée "
                f"n° {group(seq)}, empreinte {head[:16]}")  # fmt: skip
    if found.stored_checkpoints:
        return (f"Aucun point de contrôle signé vérifié ({group(found.stored_checkpoints)} dans "
                "le fichier).")  # fmt: skip
    return "Aucun point de contrôle signé."


def what_to_do(found: Integrity) -> str:
    if found.check in (Check.KEY_MISMATCH, Check.KEY_UNREADABLE):
        return (f"À faire : placer la clé publique de ce kiosque ({PUBLIC_KEY_FILE}) à côté "
                "du registre et éditer à nouveau cette synthèse ; sinon, faire vérifier le "
                "registre par le technicien (commande « kiosk ledger verify --public-key "
                "»).")  # fmt: skip
    return ("À faire : faire vérifier le registre par le technicien (commande « kiosk ledger "
            "verify »), restaurer la dernière sauvegarde intacte, puis éditer à nouveau cette "
            "synthèse.")  # fmt: skip
