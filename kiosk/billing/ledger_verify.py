"""``kiosk ledger verify``: the chain, the derived tables and the signed checkpoints of a
ledger file, read in one snapshot (:func:`verify_file`).

Two paths accept exactly the same files (tests/unit/test_ledger_verify_fast.py): the
fast one (:func:`kiosk.billing.chain.chain_holds`, no :class:`Entry` per row) says only
whether everything holds; the reference one (:func:`verify_file_reference`) names the
first problem and runs only when the fast one refuses.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.billing.chain import (
    COLUMNS,
    GENESIS,
    FastChain,
    Verdict,
    chain_holds,
    checkpoint_message,
    verify_chain,
)
from kiosk.billing.keys import public_key_hex


@dataclass(frozen=True, slots=True)
class LedgerVerdict:
    ok: bool
    entries: int
    head: str
    message: str
    checkpoints: int = 0
    # The entries hold but a checkpoint is signed by another key than the one given: the
    # key is missing or not this ledger's, which is not an altered entry.
    key_mismatch: bool = False


_SELECT_ENTRIES = f"SELECT {', '.join(COLUMNS)} FROM entries ORDER BY seq"  # noqa: S608


def _checkpoint_problem(
    conn: sqlite3.Connection,
    public_key: Ed25519PublicKey,
    day: str,
    seq: int,
    head: str,
    signature: str,
) -> str | None:
    row = conn.execute("SELECT hash, kiosk_id FROM entries WHERE seq = ?", (seq,)).fetchone()
    if row is None or row[0] != head:
        return f"entry {seq} does not match the checkpoint signed on {day}"
    try:
        public_key.verify(bytes.fromhex(signature), checkpoint_message(row[1], day, seq, head))
    except (InvalidSignature, ValueError):
        return f"checkpoint {day} has an invalid signature"
    return None


def _signed_by_its_own_key(
    conn: sqlite3.Connection, key_hex: str, day: str, seq: int, head: str, signature: str
) -> bool:
    """Whether a checkpoint is genuine under the public key it names (a checkpoint whose
    head or signature was edited is not, whichever key)."""
    try:
        own = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
    except ValueError:
        return False
    return _checkpoint_problem(conn, own, day, seq, head, signature) is None


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction for every query of a verification, so an entry another
    process appends meanwhile is not half seen (in the chain, not yet in ``acts``)."""
    if conn.in_transaction:
        yield
        return
    try:
        conn.execute("BEGIN")
    except sqlite3.DatabaseError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(sqlite3.DatabaseError):
            conn.execute("ROLLBACK")


def verify_file(conn: sqlite3.Connection, public_key: Ed25519PublicKey | None) -> LedgerVerdict:
    """Chain, derived tables and signed checkpoints. ``public_key`` None: chain only.

    The fast path (:func:`_fast_chain_and_tables`: the same checks without an
    :class:`Entry` per row) says only whether everything holds; when it does not,
    :func:`verify_file_reference` runs on the same snapshot and names the first problem.
    Both accept exactly the same ledgers (tests/unit/test_ledger_verify_fast.py)."""
    with _snapshot(conn):
        try:
            fast = _fast_chain_and_tables(conn)
        except (sqlite3.DatabaseError, TypeError, ValueError):
            fast = None
        if fast is None:
            return verify_file_reference(conn, public_key)
        try:
            return _checkpoints_verdict(conn, public_key, fast.entries, fast.head)
        except sqlite3.DatabaseError as exc:
            return LedgerVerdict(False, 0, GENESIS, f"the ledger file is damaged ({exc})")


def _fast_chain_and_tables(conn: sqlite3.Connection) -> FastChain | None:
    """The chain (:func:`chain_holds`), then ``acts`` and ``payments`` compared with it as
    :func:`verify_file_reference` compares them; None when anything differs."""
    found = chain_holds(conn.execute(_SELECT_ENTRIES))
    if found is None:
        return None
    # In order first: the kiosk adds an act's row with its first entry, so ``acts`` in
    # rowid order lists the acts as the chain first names them (``latest_act``'s order).
    # Else as sets of rows (the chain's act ids are distinct: the sets are equal exactly
    # when the reference's dicts are): the same verdict, without hashing every row.
    acts = conn.execute(
        "SELECT act_id, status, amount_cents, duplicate_of FROM acts ORDER BY rowid"
    ).fetchall()
    latest = list(found.latest_act.values())
    if acts != latest and set(acts) != set(latest):
        return None
    pays = {
        r[0]: (r[1], r[2], r[3], r[4])
        for r in conn.execute(
            "SELECT reference, paid_on, amount_cents, period_start, period_end FROM payments"
        )
    }
    return found if pays == found.paid else None


def verify_file_reference(
    conn: sqlite3.Connection, public_key: Ed25519PublicKey | None
) -> LedgerVerdict:
    """The reference verification: every entry as an :class:`Entry`, checked by
    :func:`verify_chain`, the derived tables rebuilt from them; names the first problem."""
    latest: dict[str, tuple[str, int, str]] = {}
    paid: dict[str, tuple[str, int, str, str]] = {}

    def rows() -> Iterator[tuple[object, ...]]:
        for row in conn.execute(_SELECT_ENTRIES):
            kind, ref = row[1], row[2]
            if kind == "act":
                latest[ref] = (row[4], row[5], row[14])
            elif kind == "payment":
                paid[ref] = (row[11], row[5], row[12], row[13])
            yield row

    try:
        verdict: Verdict = verify_chain(rows())
        if not verdict.ok:
            return LedgerVerdict(False, verdict.entries, verdict.head, verdict.reason)
        acts = {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute("SELECT act_id, status, amount_cents, duplicate_of FROM acts")
        }
        if acts != latest:
            differing = set(acts.items()) ^ set(latest.items())
            try:
                bad = min(differing)[0]
            except TypeError:  # values of different types (a BLOB in a text column)
                bad = min(differing, key=repr)[0]
            message = f"derived table 'acts' differs from the chain (act {bad})"
            return LedgerVerdict(False, verdict.entries, verdict.head, message)
        pays = {
            r[0]: (r[1], r[2], r[3], r[4])
            for r in conn.execute(
                "SELECT reference, paid_on, amount_cents, period_start, period_end FROM payments"
            )
        }
        if pays != paid:
            return LedgerVerdict(False, verdict.entries, verdict.head,
                                 "derived table 'payments' differs from the chain")  # fmt: skip
        return _checkpoints_verdict(conn, public_key, verdict.entries, verdict.head)
    except sqlite3.DatabaseError as exc:
        return LedgerVerdict(False, 0, GENESIS, f"the ledger file is damaged ({exc})")


def _checkpoints_verdict(
    conn: sqlite3.Connection, public_key: Ed25519PublicKey | None, entries: int, head: str
) -> LedgerVerdict:
    """The signed checkpoints, once the chain and the derived tables hold."""
    checked = 0
    if public_key is not None:
        ours = public_key_hex(public_key)
        for day, seq, signed_head, signature, key_hex in conn.execute(
            "SELECT day, seq, head, signature, public_key FROM checkpoints ORDER BY day"
        ):
            problem = _checkpoint_problem(conn, public_key, day, int(seq), signed_head, signature)
            if key_hex != ours and _signed_by_its_own_key(
                conn, key_hex, day, int(seq), signed_head, signature
            ):
                message = (
                    f"checkpoint {day} was signed by key {key_hex[:16]}..., not by the"
                    f" key given ({ours[:16]}...)"
                )
                return LedgerVerdict(False, entries, head, message,
                                     checked, key_mismatch=True)  # fmt: skip
            if problem is None and key_hex != ours:
                problem = f"checkpoint {day} names another public key"
            if problem is not None:
                return LedgerVerdict(False, entries, head, problem)
            checked += 1
    return LedgerVerdict(True, entries, head, "ledger intact", checked)
