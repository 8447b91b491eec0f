"""The ledger's hash chain, status rules and checkpoint message. Pure: no SQLite here.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's fields in
a fixed order, joined by the ASCII unit separator (which no field may contain). Any
changed, removed, inserted or reordered entry breaks the chain at that entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

GENESIS = "0" * 64
SEP = "\x1f"

PENDING, CONFIRMED, FAILED = "pending", "confirmed", "failed"
ALREADY_EXISTED, REFUSED, UNCERTAIN, RECEIVED = (
    "already_existed",
    "refused",
    "uncertain",
    "received",
)
OUTCOMES = (CONFIRMED, FAILED, ALREADY_EXISTED, UNCERTAIN)
# Which status may follow which, per act. None: the act's first entry.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({PENDING, REFUSED}),
    PENDING: frozenset(OUTCOMES),
    UNCERTAIN: frozenset({CONFIRMED, FAILED, ALREADY_EXISTED}),
}


class LedgerError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger line. ``kind`` is "act" (a status of an act) or "payment"."""

    seq: int
    kind: str
    ref: str  # act id, or payment reference
    act_code: str
    status: str
    amount_cents: int
    at_utc: str
    kiosk_id: str
    rpps: str
    patient_key: str  # HMAC-SHA256 of the INS with the kiosk's secret; never the INS
    consent: str  # canonical JSON of the consent record, or ""
    paid_on: str
    period_start: str
    period_end: str
    duplicate_of: str  # act id this opening repeats (same patient): not paid twice
    prev_hash: str
    hash: str = ""


HASHED = tuple(f.name for f in fields(Entry) if f.name not in ("prev_hash", "hash"))
COLUMNS = tuple(f.name for f in fields(Entry))


def canonical(entry: Entry) -> str:
    values = []
    for name in HASHED:
        text = str(getattr(entry, name))
        if SEP in text or "\x1e" in text:
            raise LedgerError(f"{name} holds a separator character")
        values.append(text)
    return SEP.join(values)


def entry_hash(entry: Entry) -> str:
    return hashlib.sha256(f"{entry.prev_hash}\x1e{canonical(entry)}".encode()).hexdigest()


def check_transition(previous: str | None, status: str) -> None:
    if status not in TRANSITIONS.get(previous, frozenset()):
        raise LedgerError(f"an act cannot go from {previous or 'nothing'} to {status}")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    entries: int
    head: str  # hash of the last good entry
    bad_seq: int | None = None
    reason: str = ""


def verify_chain(rows: Iterable[tuple[object, ...]]) -> Verdict:
    """``rows``: every entry as a tuple in :data:`COLUMNS` order, by seq. Stops at the
    first bad entry and names it."""
    expected, previous, count = 1, GENESIS, 0
    for row in rows:
        try:
            entry = Entry(*row)  # type: ignore[arg-type]
            seq = int(entry.seq)
        except (TypeError, ValueError):
            return Verdict(False, count, previous, expected, f"entry {expected} is unreadable")
        if seq != expected:
            what = "missing" if seq > expected else "out of order"
            return Verdict(False, count, previous, expected, f"entry {expected} is {what}")
        if entry.prev_hash != previous:
            return Verdict(
                False, count, previous, seq, f"entry {seq} does not follow entry {seq - 1}"
            )
        try:
            recomputed = entry_hash(entry)
        except LedgerError:
            recomputed = ""
        if recomputed != entry.hash:
            return Verdict(False, count, previous, seq, f"entry {seq} was altered")
        previous, expected, count = entry.hash, expected + 1, count + 1
    return Verdict(True, count, previous)


_LINK = "\x1e"  # between the previous hash and the fields, in a hash input
_FIELD_SEPARATORS = len(HASHED) - 1


@dataclass(slots=True)
class FastChain:
    """What :func:`chain_holds` read from an intact chain: the entries, the head, and
    what ``verify`` compares the derived tables with (as :func:`verify_chain`'s caller
    collects it): each act's latest (act id, status, amount, duplicate_of), by act id,
    and each payment's (paid_on, amount, period_start, period_end)."""

    entries: int
    head: str
    latest_act: dict[object, tuple[object, object, object, object]] = field(default_factory=dict)
    paid: dict[object, tuple[object, object, object, object]] = field(default_factory=dict)


def chain_holds(rows: Iterable[tuple[object, ...]]) -> FastChain | None:
    """The fast check of :func:`verify_chain`'s rows (every entry in :data:`COLUMNS`
    order, by seq): the same checks on the same values, without an :class:`Entry` per
    row, saying only whether everything holds (None as soon as anything does not: the
    caller runs :func:`verify_chain` to name it). ``seq`` and ``amount_cents`` are
    turned into text as :func:`canonical` does (``str``); every other field must already
    be a text (``str.join`` refuses anything else, where :func:`canonical` would hash its
    ``str``: a NULL or a BLOB in a text column, never written by the ledger, goes to the
    reference path). No field may hold a separator: exactly one between two fields, no
    link character."""
    sha256 = hashlib.sha256
    join = SEP.join
    found = FastChain(0, GENESIS)
    latest, paid = found.latest_act, found.paid
    previous, count = GENESIS, 0
    try:
        for (
            seq, kind, ref, act_code, status, amount, at_utc, kiosk_id, rpps, patient_key,
            consent, paid_on, period_start, period_end, duplicate_of, prev_hash, stored,
        ) in rows:  # fmt: skip
            count += 1
            if seq != count or prev_hash != previous:  # 1.0 == 1: hashed as "1.0" by both
                return None
            text = join(  # a field that is not a text: TypeError
                (str(seq), kind, ref, act_code, status, str(amount), at_utc, kiosk_id, rpps,  # type: ignore[arg-type]
                 patient_key, consent, paid_on, period_start, period_end, duplicate_of)
            )  # fmt: skip
            if text.count(SEP) != _FIELD_SEPARATORS or _LINK in text:
                return None
            digest = sha256(f"{previous}{_LINK}{text}".encode()).hexdigest()
            if digest != stored:
                return None
            previous = digest
            if kind == "act":
                latest[ref] = (ref, status, amount, duplicate_of)
            elif kind == "payment":
                paid[ref] = (paid_on, amount, period_start, period_end)
    except (TypeError, ValueError):  # a field that is not a text, a row of another shape
        return None
    found.entries, found.head = count, previous
    return found


def checkpoint_message(kiosk_id: str, day: str, seq: int, head: str) -> bytes:
    """What the kiosk's Ed25519 key signs each day."""
    return f"borne-dmp-checkpoint{SEP}{kiosk_id}{SEP}{day}{SEP}{seq}{SEP}{head}".encode()
