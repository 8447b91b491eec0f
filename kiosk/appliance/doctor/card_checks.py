"""``pcscd``, ``readers``, ``cards``, ``cps``: the card stack, as the kiosk would see it.

Nothing here costs a PIN try or disturbs a running kiosk beyond one brief shared
connection to the CPS: its public file (serial, validity, profession, CNOP section) and
a VERIFY without data (the PIN state: free) are all that is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from kiosk.appliance.doctor.report import Check, Name, Run, fail, ok, skipped, warn
from kiosk.appliance.wiring import reader_overrides
from kiosk.hardware.apdu import ApduError
from kiosk.hardware.card_errors import CardError, PcscUnavailable, PinBlocked
from kiosk.hardware.cards import CPS_PIN_MAX_TRIES
from kiosk.hardware.cps import pin_state, read_cps_public
from kiosk.hardware.cps_layout import CpsPublic
from kiosk.hardware.pcsc import PcscContext
from kiosk.hardware.roles import ROLE_CARD, CardKind, Role, classify_atr, match_reader_name

PHARMACIST = "21"
OFFICINE_SECTIONS = ("A", "DA")  # titulaire, adjoint
PROFESSIONS = {  # [V] ANS nomenclature of health professions (TRE_G15)
    "10": "médecin",
    "21": "pharmacien",
    "40": "chirurgien-dentiste",
    "50": "sage-femme",
    "60": "infirmier",
    "70": "masseur-kinésithérapeute",
    "80": "pédicure-podologue",
}
CARD_NAMES = {CardKind.VITALE: "Carte Vitale", CardKind.CPS: "CPS", CardKind.UNKNOWN: "unknown"}
EXPIRY_WARNING = dt.timedelta(days=30)
NAMES = (Name.PCSCD, Name.READERS, Name.CARDS, Name.CPS)
STUCK = "a reader or card does not answer: pull the cards, unplug the reader, plug it back"


def probe(run: Run) -> list[Check]:
    overrides = reader_overrides(run.config) if run.config is not None else {}
    context = PcscContext()
    try:
        try:
            atrs = context.card_atrs()
        except PcscUnavailable as exc:
            return [
                fail(
                    Name.PCSCD,
                    str(exc),
                    "start it: `systemctl start pcscd.socket pcscd` (package pcscd);"
                    " `journalctl -u pcscd` tells why it stopped",
                ),
                skipped(Name.READERS, Name.PCSCD, "no PC/SC service"),
                skipped(Name.CARDS, Name.PCSCD, "no PC/SC service"),
                skipped(Name.CPS, Name.PCSCD, "no PC/SC service"),
            ]
        checks = [ok(Name.PCSCD, "pcscd answers (PC/SC context established)")]
        readers = readers_check(atrs, overrides)
        checks.append(readers)
        if not atrs:
            return [
                *checks,
                skipped(Name.CARDS, Name.READERS, "no reader"),
                skipped(Name.CPS, Name.READERS, "no reader"),
            ]
        kinds = {r: classify_atr(a) for r, a in atrs.items() if a is not None}
        checks.append(cards_check(sorted(atrs), kinds, overrides))
        run.publish(checks)  # a CPS that never answers costs the cps check only
        return [*checks, cps_check(context, sorted(atrs), kinds, overrides, run.now)]
    finally:
        context.close()


def _role_of(reader: str, kinds: Mapping[str, CardKind], pinned: Mapping[str, Role]) -> str:
    if reader in pinned:
        return f"{pinned[reader]} ([readers])"
    kind = kinds.get(reader)
    if kind is CardKind.VITALE:
        return "patient (holds a Carte Vitale)"
    if kind is CardKind.CPS:
        return "professional (holds a CPS)"
    return "role decided by the card inserted"


def _pinned(readers: list[str], overrides: Mapping[Role, str]) -> dict[str, Role]:
    found = {}
    for role, spec in overrides.items():
        reader = match_reader_name(spec, readers)
        if reader is not None:
            found[reader] = role
    return found


def readers_check(atrs: Mapping[str, bytes | None], overrides: Mapping[Role, str]) -> Check:
    readers = sorted(atrs)
    if not readers:
        return fail(
            Name.READERS,
            "pcscd sees no smart-card reader",
            "plug the reader's USB cable (a two-slot reader shows two readers); `pcsc_scan`"
            " lists them, `journalctl -u pcscd` shows driver errors",
        )
    absent = [
        f"[readers] {role} = {spec!r}"
        for role, spec in overrides.items()
        if match_reader_name(spec, readers) is None
    ]
    if absent:
        return fail(
            Name.READERS,
            f"{', '.join(absent)}: no such reader (readers: {', '.join(readers)})",
            "plug that reader, or set [readers] to a name `pcsc_scan` shows (empty: by card)",
        )
    kinds = {r: classify_atr(a) for r, a in atrs.items() if a is not None}
    pinned = _pinned(readers, overrides)
    listing = "; ".join(f"{r}: {_role_of(r, kinds, pinned)}" for r in readers)
    if len(readers) < 2:
        return warn(
            Name.READERS,
            f"one reader only ({listing}): the Carte Vitale and the CPS need one slot each",
            "use a two-slot reader (one PC/SC reader per slot) or plug a second reader",
        )
    return ok(Name.READERS, f"{len(readers)} readers: {listing}")


def cards_check(
    readers: list[str], kinds: Mapping[str, CardKind], overrides: Mapping[Role, str]
) -> Check:
    listing = "; ".join(f"{r}: {CARD_NAMES[kinds[r]] if r in kinds else 'empty'}" for r in readers)
    unknown = [r for r in readers if kinds.get(r) is CardKind.UNKNOWN]
    if unknown:
        return warn(
            Name.CARDS,
            f"a card not recognised in {', '.join(unknown)} ({listing})",
            "take it out: only a Carte Vitale and the pharmacist's CPS belong in the readers",
        )
    misplaced = [
        f"{reader} ({role}) holds a {CARD_NAMES[kinds[reader]]}"
        for reader, role in _pinned(readers, overrides).items()
        if reader in kinds and kinds[reader] is not ROLE_CARD[role]
    ]
    if misplaced:
        return warn(
            Name.CARDS,
            f"{'; '.join(misplaced)} ({listing})",
            "swap the cards: the reader pinned in [readers] serves that role only",
        )
    return ok(Name.CARDS, listing)


def _cps_reader(
    kinds: Mapping[str, CardKind], overrides: Mapping[Role, str], readers: list[str]
) -> str | None:
    spec = overrides.get(Role.PROFESSIONAL)
    if spec is not None:
        reader = match_reader_name(spec, readers)
        return reader if reader is not None and kinds.get(reader) is CardKind.CPS else None
    found = sorted(r for r, kind in kinds.items() if kind is CardKind.CPS)
    return found[0] if found else None


def cps_check(
    context: PcscContext,
    readers: list[str],
    kinds: Mapping[str, CardKind],
    overrides: Mapping[Role, str],
    now: dt.datetime,
) -> Check:
    reader = _cps_reader(kinds, overrides, readers)
    if reader is None:
        return fail(
            Name.CPS,
            "no CPS in the professional reader: no DMP can be opened",
            "insert the pharmacist's CPS (chip first) in the reader's second slot",
        )
    try:
        with context.connect(reader) as connection:
            public = read_cps_public(connection)
            tries = pin_state(connection)
    except PinBlocked:
        return fail(
            Name.CPS,
            f"the CPS in {reader} has its PIN blocked (too many wrong codes)",
            "unblock it with its unblocking code (PUK) in the ANS CPS tools, or order a new"
            " card from the ANS; meanwhile use another pharmacist's CPS",
        )
    except (CardError, ApduError) as exc:
        return fail(
            Name.CPS,
            f"the CPS in {reader} cannot be read ({exc})",
            "pull the CPS and insert it again; if it stays unreadable, try it in another reader",
        )
    return describe_cps(reader, public, tries, now)


def describe_cps(reader: str, card: CpsPublic, tries: int | None, now: dt.datetime) -> Check:
    profession = PROFESSIONS.get(card.profession, "another profession")
    holder = f"the CPS in {reader} (serial {card.serial})"
    if card.profession != PHARMACIST:
        return fail(
            Name.CPS,
            f"{holder} is a {profession}'s (profession {card.profession}), not a pharmacist's",
            "insert the CPS of a pharmacist of this pharmacy (profession 21, section A or DA)",
        )
    try:
        until = dt.datetime.strptime(card.valid_until, "%Y%m%d").replace(tzinfo=dt.UTC)
    except ValueError:
        return fail(
            Name.CPS,
            f"{holder}: unreadable validity date {card.valid_until!r}",
            "try another CPS; report the card to the ANS",
        )
    end = until + dt.timedelta(days=1)  # valid through its last day
    day = until.date().isoformat()
    if now >= end:
        return fail(
            Name.CPS,
            f"{holder} expired on {day}",
            "order a new CPS from the ANS; meanwhile use another pharmacist's",
        )
    pin = (
        "PIN entered"
        if tries is None
        else f"PIN not entered yet, {tries} of {CPS_PIN_MAX_TRIES} tries left"
    )
    facts = f"{holder}: pharmacien, section {card.cnop_section}, valid until {day}, {pin}"
    if card.cnop_section not in OFFICINE_SECTIONS:
        return warn(
            Name.CPS,
            f"{facts}; section {card.cnop_section} is not an officine's",
            "use the CPS of the pharmacy's titulaire (A) or an adjoint (DA)",
        )
    if tries is not None and tries < CPS_PIN_MAX_TRIES:
        return warn(
            Name.CPS,
            f"{facts}: {wrong_codes(tries)}",
            "the pharmacist types the right PIN on the admin (it resets the count)",
        )
    if end - now < EXPIRY_WARNING:
        return warn(
            Name.CPS,
            f"{facts}: it expires within 30 days",
            "order the renewal of this CPS from the ANS now",
        )
    return ok(Name.CPS, facts)


def wrong_codes(tries: int) -> str:
    """What ``tries`` left of :data:`CPS_PIN_MAX_TRIES` mean, by the count."""
    typed = CPS_PIN_MAX_TRIES - tries
    done = "a wrong code was typed" if typed == 1 else f"{typed} wrong codes were typed"
    if tries == 1:
        return f"{done}: one more wrong code blocks it"
    return f"{done}: {tries} more wrong codes block it"
