"""The remuneration ledger: an append-only, hash-chained record of every act and payment.

SQLite (through sqlite-utils) in WAL mode with ``synchronous=FULL``: a committed entry
survives a crash or a power cut. ``entries`` is the chain (triggers refuse UPDATE and
DELETE); ``acts`` and ``payments`` are derived tables kept in the same transaction so
reports stay fast, and ``verify`` checks them against the chain. ``checkpoints`` holds
one Ed25519-signed chain head per day, so a copy of the file can be verified elsewhere
with only the kiosk's public key.

A journey writes ``pending`` before the remote call (:meth:`Ledger.begin`) and the
outcome after it (:meth:`Ledger.finish`). The INS needed to resolve a pending act after
a crash is kept encrypted (AES-GCM, key derived from the kiosk secret) in
``pending_ins`` until the act is resolved, then deleted: never in clear, never in the
chain.

The file says what it is (docs/architecture.md §7): SQLite's ``PRAGMA application_id``
(the header's 4 bytes at offset 68) holds :data:`APPLICATION_ID` (``"BDMP"``) and
``PRAGMA user_version`` (offset 60) the schema version, :data:`SCHEMA_VERSION`; the
``meta`` table holds the kiosk id the ledger is written under and a check value of its
secret. :func:`identify` reads that without a write: a file that is not a ledger, or a
version this code does not know, is refused and left as it is; a ledger written before
the marker (the ledger's tables, no marker) is upgraded to carry it when opened for
writing; an absent or empty file becomes a ledger only where creation is allowed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.billing.chain import (
    COLUMNS,
    CONFIRMED,
    GENESIS,
    PENDING,
    RECEIVED,
    REFUSED,
    UNCERTAIN,
    Entry,
    LedgerError,
    check_transition,
    checkpoint_message,
    entry_hash,
)
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import KioskKeys, public_key_hex
from kiosk.billing.ledger_verify import LedgerVerdict, verify_file
from kiosk.billing.tariffs import DMP_OPEN, TariffSchedule

T = TypeVar("T")
PARIS = ZoneInfo("Europe/Paris")
RETENTION_YEARS = 10  # [V] accounting records are kept 10 years

APPLICATION_ID = 0x42444D50  # "BDMP": SQLite's file-type field (header offset 68)
SCHEMA_VERSION = 1  # PRAGMA user_version (header offset 60)
# Commits after which :meth:`Ledger.checkpoint_wal` copies the WAL back into the file: a
# journey's commit writes about ten pages, far below SQLite's own automatic checkpoint
# (1,000 pages), which runs inside whichever commit crosses it.
WAL_CHECKPOINT_EVERY = 32
KNOWN_VERSIONS = frozenset({SCHEMA_VERSION})
# The tables of a ledger written before the marker (tests/unit/test_ledger_schema.py).
LEGACY_TABLES = frozenset({"entries", "acts", "payments", "checkpoints", "pending_ins"})
META_TABLE = "meta"

TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS entries_append_only_update BEFORE UPDATE ON entries"
    " BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS entries_append_only_delete BEFORE DELETE ON entries"
    " BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;",
)
SCHEMA = "\n".join(TRIGGERS)
# What ``reports.report`` reads alone, in its GROUP BY order (no table lookup, no sort).
# Added to an older ledger when it is opened for writing; a report on a file without it
# gives the same figures, more slowly.
REPORT_INDEX = (
    'CREATE INDEX IF NOT EXISTS "idx_acts_report" ON "acts" ("month", "status", "act_code",'
    ' "rpps", "duplicate_of", "amount_cents", "day");'
)


_UPSERT_CHECKPOINT = (
    "INSERT INTO checkpoints (day, seq, head, signed_utc, signature, public_key)"
    " VALUES (:day, :seq, :head, :signed_utc, :signature, :public_key)"
    " ON CONFLICT(day) DO UPDATE SET seq = excluded.seq, head = excluded.head,"
    " signed_utc = excluded.signed_utc, signature = excluded.signature,"
    " public_key = excluded.public_key"
)


def _columns(spec: str) -> dict[str, str]:
    """``"day seq:i"`` → ``{"day": "TEXT", "seq": "INTEGER"}``."""
    names = (item.partition(":") for item in spec.split())
    return {name: "INTEGER" if kind == "i" else "TEXT" for name, _, kind in names}


def _create_table(name: str, columns: dict[str, str], key: str) -> str:
    body = ",\n".join(
        f'   "{column}" {kind}{" PRIMARY KEY" if column == key else ""}'
        for column, kind in columns.items()
    )
    return f'CREATE TABLE IF NOT EXISTS "{name}" (\n{body}\n);'


@dataclass(frozen=True, slots=True)
class Payment:
    paid_on: str  # YYYY-MM-DD
    reference: str
    amount_cents: int
    period_start: str
    period_end: str


@dataclass(frozen=True, slots=True)
class OpenAct:
    act_id: str
    act_code: str
    status: str
    opened_utc: str


# Column names come from the Entry dataclass, never from input.
_INSERT_ENTRY = (
    f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def paris_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(PARIS).date()


# -- what the file is -------------------------------------------------------------------


class NotALedger(LedgerError):
    """The file is not a Borne DMP ledger (or not one this code can read): left as it is."""


class KeysNotThisLedgers(LedgerError):
    """The secret or signing key beside the ledger is not the one it was written with."""


class FileKind(Enum):
    ABSENT = "absent"
    BLANK = "blank"  # an empty file, or an SQLite file with nothing in it
    LEGACY = "legacy"  # the ledger's tables, written before the marker
    CURRENT = "current"


@dataclass(frozen=True, slots=True)
class LedgerFile:
    path: Path
    kind: FileKind
    kiosk_id: str | None = None  # as the ledger records it (legacy: its last entry's)
    signed_by: str | None = None  # public key (hex) of its latest checkpoint
    secret_check: str | None = None


def _historical_columns() -> dict[str, dict[str, str]]:
    integers = {"seq", "amount_cents"}
    return {
        "entries": {name: "INTEGER" if name in integers else "TEXT" for name in COLUMNS},
        "acts": _columns("act_id act_code status amount_cents:i opened_utc day month rpps"
                         " patient_key duplicate_of last_seq:i"),
        "payments": _columns("reference paid_on amount_cents:i period_start period_end seq:i"),
        "checkpoints": _columns("day seq:i head signed_utc signature public_key"),
        "pending_ins": _columns("act_id nonce sealed"),
    }  # fmt: skip


def _keys_of_tables() -> dict[str, str]:
    return {"entries": "seq", "acts": "act_id", "payments": "reference", "checkpoints": "day",
            "pending_ins": "act_id"}  # fmt: skip


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that writes nothing: ``immutable`` when no ``-wal`` is beside the
    file (``mode=ro`` would leave ``-wal`` and ``-shm`` files), ``mode=ro`` otherwise."""
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    return sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True, timeout=5)


def secret_check(secret: bytes) -> str:
    """A check value of the kiosk secret (HMAC of a fixed label): tells a wrong secret."""
    return hmac.new(secret, b"borne-dmp ledger secret check", hashlib.sha256).hexdigest()


def _table_columns(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    rows = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
    return {str(row[1]): str(row[2]).upper() for row in rows}


def _looks_legacy(conn: sqlite3.Connection, tables: set[str]) -> bool:
    if tables != LEGACY_TABLES:
        return False
    return all(
        _table_columns(conn, name) == columns for name, columns in _historical_columns().items()
    )


def _probe(conn: sqlite3.Connection, path: Path) -> LedgerFile:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    tables = {
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if app_id == APPLICATION_ID:
        if version not in KNOWN_VERSIONS:
            raise NotALedger(
                f"{path}: a Borne DMP ledger of schema version {version}, which this kiosk"
                f" does not know (it reads version {SCHEMA_VERSION}): left as it is; use the"
                " kiosk version that wrote it"
            )
        kind = FileKind.CURRENT
        if not LEGACY_TABLES | {META_TABLE} <= tables:
            raise NotALedger(f"{path}: marked as a Borne DMP ledger but its tables are missing")
    elif app_id != 0:
        raise NotALedger(
            f"{path}: not a Borne DMP ledger (SQLite application_id {app_id:#010x}); left as it is"
        )
    elif not tables and version == 0:
        return LedgerFile(path, FileKind.BLANK)
    elif version == 0 and _looks_legacy(conn, tables):
        kind = FileKind.LEGACY
    else:
        raise NotALedger(
            f"{path}: not a Borne DMP ledger (an SQLite database without the ledger's marker"
            " or tables); left as it is"
        )
    meta: dict[str, str] = {}
    if META_TABLE in tables:
        meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta")}
    last = conn.execute("SELECT kiosk_id FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    signed = conn.execute(
        "SELECT public_key FROM checkpoints ORDER BY seq DESC, day DESC LIMIT 1"
    ).fetchone()
    return LedgerFile(
        path,
        kind,
        kiosk_id=meta.get("kiosk_id") or (str(last[0]) if last and last[0] else None),
        signed_by=str(signed[0]) if signed else None,
        secret_check=meta.get("secret_check"),
    )


def identify(path: Path) -> LedgerFile:
    """What ``path`` is, read without a write; :class:`NotALedger` when it is no ledger
    this code may open (another SQLite file, another version, not SQLite at all)."""
    if not path.exists():
        return LedgerFile(path, FileKind.ABSENT)
    if not path.is_file():
        raise NotALedger(f"{path}: not a file")
    wal = path.with_name(path.name + "-wal")
    if path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size):
        return LedgerFile(path, FileKind.BLANK)
    try:
        conn = read_only_connection(path)
        try:
            return _probe(conn, path)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise NotALedger(
            f"{path}: cannot read the ledger: not a Borne DMP ledger, or a damaged one ({exc})"
        ) from None


def recorded_kiosk_id(conn: sqlite3.Connection) -> str | None:
    """The kiosk id the ledger records (``meta``), else its last entry's; None if neither."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
        row = conn.execute("SELECT value FROM meta WHERE key = 'kiosk_id'").fetchone()
        if row and row[0]:
            return str(row[0])
    last = conn.execute("SELECT kiosk_id FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    return str(last[0]) if last and last[0] else None


def ledger_schema() -> list[str]:
    """The tables (as sqlite-utils wrote them before: same names, types and keys, so an
    older ledger is read as it is), ``meta``, the append-only triggers and the indexes."""
    keys = _keys_of_tables()
    script = [
        _create_table(name, columns, keys[name]) for name, columns in _historical_columns().items()
    ]
    script.append(_create_table(META_TABLE, {"key": "TEXT", "value": "TEXT"}, "key"))
    script += TRIGGERS
    script += [
        f'CREATE INDEX IF NOT EXISTS "idx_acts_{column}" ON "acts" ("{column}");'
        for column in ("day", "status", "patient_key")
    ]
    script.append(REPORT_INDEX)
    return script


def _check_keys(found: LedgerFile, keys: KioskKeys) -> None:
    if found.signed_by is not None and found.signed_by != public_key_hex(keys.public_key):
        raise KeysNotThisLedgers(
            f"{found.path}: the signing key beside it is not this ledger's (its checkpoints"
            f" were signed by key {found.signed_by[:16]}...); nothing was written: restore the"
            " kiosk's own keys from its backup"
        )
    if found.secret_check is not None and found.secret_check != secret_check(keys.secret):
        raise KeysNotThisLedgers(
            f"{found.path}: the secret beside it is not this ledger's; nothing was written:"
            " restore the kiosk's own ledger.secret from its backup"
        )


class Ledger:
    """The ledger, opened for writing. ``create``: an absent or empty file may become a
    ledger (else :class:`NotALedger`). ``check_keys``: refuse (:class:`KeysNotThisLedgers`)
    keys other than those the ledger was written with, before anything is written."""

    def __init__(
        self,
        path: Path,
        keys: KioskKeys,
        tariffs: TariffSchedule | None = None,
        *,
        create: bool = True,
        check_keys: bool = False,
    ) -> None:
        self.path = path
        self.keys = keys
        self.tariffs = tariffs or TariffSchedule()
        found = identify(path)
        if found.kind in (FileKind.ABSENT, FileKind.BLANK) and not create:
            what = "no ledger here" if found.kind is FileKind.ABSENT else "an empty file"
            raise NotALedger(f"{path}: {what}, not a ledger (only the kiosk creates one)")
        if check_keys:
            _check_keys(found, keys)
        if found.kind is FileKind.ABSENT:
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):  # a new ledger is 0600, as its WAL is
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # One connection shared by the journey's threads, serialized by this lock.
        self._lock = threading.RLock()
        self._checkpointed_day: str | None = None  # a day known to hold its checkpoint
        self._commits = 0  # since the WAL was last copied back (checkpoint_wal)
        self._conn = sqlite3.connect(
            path, isolation_level=None, timeout=30, check_same_thread=False
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._mark()
        except BaseException:
            self._conn.close()
            raise
        self._aead = AESGCM(
            HKDF(hashes.SHA256(), 32, salt=None, info=b"borne-dmp pending INS").derive(keys.secret)
        )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------

    def _mark(self) -> None:
        """A new file gets the tables; a new or older ledger the marker and ``meta``, in
        one transaction (checked again inside it: another process may have done it). Its
        own transaction, not :meth:`_transaction`, which a subclass may batch. ``meta``
        records the kiosk id the entries are written under: the keys' (the CLI gives the
        one the ledger records; the kiosk its config's, which provisioning checked)."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _probe(conn, self.path).kind is not FileKind.CURRENT:
                for statement in ledger_schema():
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret_check', ?)",
                    (secret_check(self.keys.secret),),
                )
            conn.execute(REPORT_INDEX)
            recorded = conn.execute("SELECT value FROM meta WHERE key = 'kiosk_id'").fetchone()
            if recorded is None or recorded[0] != self.keys.kiosk_id:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('kiosk_id', ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (self.keys.kiosk_id,),
                )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @property
    def kiosk_id(self) -> str:
        """The kiosk id the ledger records (``meta``)."""
        with self._lock:
            return recorded_kiosk_id(self._conn) or self.keys.kiosk_id

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")  # one writer at a time, across processes
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._commits += 1

    def checkpoint_wal(self) -> bool:
        """Between two patients (the journey's worker, once a journey has ended): copy
        the WAL back into the ledger file once :data:`WAL_CHECKPOINT_EVERY` commits wait
        in it, so that SQLite's automatic checkpoint, run inside the commit that crosses
        its threshold, does not land on a patient's act (it was the tail of the durable
        appends: README, Performance). PASSIVE: a reader (``kiosk ledger report``) is not
        waited for, and what it holds is copied next time. Durability is the WAL's, with
        or without it. True when the WAL was copied back whole."""
        with self._lock:
            if self._commits < WAL_CHECKPOINT_EVERY:
                return False
            busy, frames, copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            whole = busy == 0 and frames == copied
            if whole:
                self._commits = 0
            return bool(whole)

    def _append(self, conn: sqlite3.Connection, **values: str | int) -> Entry:
        row = conn.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
        base: dict[str, Any] = {name: "" for name in COLUMNS}
        base |= {"amount_cents": 0, "kiosk_id": self.keys.kiosk_id}
        entry = Entry(**(base | values | {"seq": seq, "prev_hash": prev}))
        entry = replace(entry, hash=entry_hash(entry))
        conn.execute(_INSERT_ENTRY, [getattr(entry, name) for name in COLUMNS])
        return entry

    # -- acts ---------------------------------------------------------------------------

    def begin(
        self,
        act_code: str,
        rpps: str,
        ins: str,
        consent: ConsentRecord,
        at: dt.datetime | None = None,
    ) -> str:
        """Record a ``pending`` act before the remote call; returns its id."""
        at = at or utc_now()
        self.tariffs.cents(act_code, paris_day(at))  # unknown act or date: refused now
        act_id = uuid.uuid4().hex
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, ins.encode(), act_id.encode())
        with self._transaction() as conn:
            entry = self._append(
                conn, kind="act", ref=act_id, act_code=act_code, status=PENDING,
                at_utc=iso(at), rpps=rpps, patient_key=self.keys.patient_key(ins),
                consent=consent.to_json(),
            )  # fmt: skip
            self._new_act(conn, entry, at)
            conn.execute(
                "INSERT INTO pending_ins (act_id, nonce, sealed) VALUES (?, ?, ?)",
                (act_id, nonce.hex(), sealed.hex()),
            )
        self._checkpoint_if_new_day(at)
        return act_id

    def record_refusal(
        self,
        act_code: str,
        rpps: str,
        consent: ConsentRecord,
        at: dt.datetime | None = None,
    ) -> str:
        """Consent refused: one ``refused`` entry, nothing sent, nothing due."""
        at = at or utc_now()
        act_id = uuid.uuid4().hex
        with self._transaction() as conn:
            entry = self._append(
                conn, kind="act", ref=act_id, act_code=act_code, status=REFUSED,
                at_utc=iso(at), rpps=rpps, consent=consent.to_json(),
            )  # fmt: skip
            self._new_act(conn, entry, at)
        self._checkpoint_if_new_day(at)
        return act_id

    def _new_act(self, conn: sqlite3.Connection, entry: Entry, at: dt.datetime) -> None:
        day = paris_day(at)
        conn.execute(
            "INSERT INTO acts VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, '', ?)",
            (entry.ref, entry.act_code, entry.status, entry.at_utc, day.isoformat(),
             day.isoformat()[:7], entry.rpps, entry.patient_key, entry.seq),
        )  # fmt: skip

    def finish(self, act_id: str, status: str, at: dt.datetime | None = None) -> Entry:
        """Record the outcome: confirmed, failed, already_existed or uncertain."""
        at = at or utc_now()
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT act_code, status, day, rpps, patient_key FROM acts WHERE act_id = ?",
                (act_id,),
            ).fetchone()
            if row is None:
                raise LedgerError(f"no act {act_id} in the ledger")
            act_code, previous, day, rpps, patient_key = row
            check_transition(previous, status)
            amount, duplicate_of = 0, ""
            if status == CONFIRMED:
                amount = self.tariffs.cents(act_code, dt.date.fromisoformat(day))
                if act_code == DMP_OPEN:
                    duplicate_of = self._earlier_opening(conn, patient_key, act_id)
                    amount = 0 if duplicate_of else amount
            entry = self._append(
                conn, kind="act", ref=act_id, act_code=act_code, status=status,
                amount_cents=amount, at_utc=iso(at), rpps=rpps, patient_key=patient_key,
                duplicate_of=duplicate_of,
            )  # fmt: skip
            conn.execute(
                "UPDATE acts SET status = ?, amount_cents = ?, duplicate_of = ?, last_seq = ?"
                " WHERE act_id = ?",
                (status, amount, duplicate_of, entry.seq, act_id),
            )
            if status != UNCERTAIN:
                conn.execute("DELETE FROM pending_ins WHERE act_id = ?", (act_id,))
        self._checkpoint_if_new_day(at)
        return entry

    def _earlier_opening(self, conn: sqlite3.Connection, patient_key: str, act_id: str) -> str:
        row = conn.execute(
            "SELECT act_id FROM acts WHERE patient_key = ? AND act_code = ? AND status = ?"
            " AND duplicate_of = '' AND act_id != ? ORDER BY last_seq LIMIT 1",
            (patient_key, DMP_OPEN, CONFIRMED, act_id),
        ).fetchone()
        return str(row[0]) if row else ""

    def unresolved(self) -> list[OpenAct]:
        """Acts left pending or uncertain (a crash, a lost answer): to resolve at start-up."""
        with self._lock:
            return unresolved_acts(self._conn)

    def pending_ins(self, act_id: str) -> str | None:
        """The INS of an unresolved act, for the TD0.2 call that resolves it."""
        with self._lock:
            row = self._conn.execute(
                "SELECT nonce, sealed FROM pending_ins WHERE act_id = ?", (act_id,)
            ).fetchone()
        if row is None:
            return None
        plain = self._aead.decrypt(bytes.fromhex(row[0]), bytes.fromhex(row[1]), act_id.encode())
        return plain.decode()

    # -- payments -----------------------------------------------------------------------

    def import_payments(self, payments: list[Payment], at: dt.datetime | None = None) -> int:
        """All or nothing; a reference already imported with the same content is skipped,
        with other content it is an error. Returns how many were added."""
        at = at or utc_now()
        added = 0
        with self._transaction() as conn:
            for payment in payments:
                row = conn.execute(
                    "SELECT paid_on, amount_cents, period_start, period_end FROM payments"
                    " WHERE reference = ?",
                    (payment.reference,),
                ).fetchone()
                same = (payment.paid_on, payment.amount_cents, payment.period_start,
                        payment.period_end)  # fmt: skip
                if row is not None:
                    if tuple(row) != same:
                        raise LedgerError(
                            f"payment {payment.reference!r} was already imported with other values"
                        )
                    continue
                entry = self._append(
                    conn, kind="payment", ref=payment.reference, status=RECEIVED,
                    amount_cents=payment.amount_cents, at_utc=iso(at), paid_on=payment.paid_on,
                    period_start=payment.period_start, period_end=payment.period_end,
                )  # fmt: skip
                conn.execute(
                    "INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?)",
                    (payment.reference, *same, entry.seq),
                )
                added += 1
        self._checkpoint_if_new_day(at)
        return added

    def payments(self) -> list[Payment]:
        with self._lock:
            return payments_of(self._conn)

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only function (a report, an export) on the ledger's connection."""
        with self._lock:
            return work(self._conn)

    # -- integrity ----------------------------------------------------------------------

    def checkpoint(self, at: dt.datetime | None = None) -> dict[str, Any] | None:
        """Sign today's chain head (replacing today's earlier checkpoint)."""
        at = at or utc_now()
        with self._lock:
            return self._checkpoint(at)

    def _checkpoint(self, at: dt.datetime) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT seq, hash, kiosk_id FROM entries ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        day = paris_day(at).isoformat()
        # The head entry's kiosk id, as verify_file rebuilds the message from it: signing
        # our own id would make a ledger written under another id fail verification.
        message = checkpoint_message(row[2], day, row[0], row[1])
        record = {
            "day": day,
            "seq": row[0],
            "head": row[1],
            "signed_utc": iso(at),
            "signature": self.keys.signing_key.sign(message).hex(),
            "public_key": public_key_hex(self.keys.public_key),
        }
        self._conn.execute(_UPSERT_CHECKPOINT, record)
        return record

    def _checkpoint_if_new_day(self, at: dt.datetime) -> None:
        day = paris_day(at).isoformat()
        with self._lock:
            if day == self._checkpointed_day:  # a day's checkpoint is never removed
                return
            held = self._conn.execute("SELECT 1 FROM checkpoints WHERE day = ?", (day,)).fetchone()
            if held is None and self._checkpoint(at) is None:
                return
            self._checkpointed_day = day

    def verify(self, public_key: Ed25519PublicKey | None = None) -> LedgerVerdict:
        with self._lock:
            return verify_file(self._conn, public_key or self.keys.public_key)


def payments_of(conn: sqlite3.Connection) -> list[Payment]:
    rows = conn.execute(
        "SELECT paid_on, reference, amount_cents, period_start, period_end FROM payments"
        " ORDER BY period_start, paid_on, reference"
    ).fetchall()
    return [Payment(*row) for row in rows]


def unresolved_acts(conn: sqlite3.Connection) -> list[OpenAct]:
    rows = conn.execute(
        "SELECT act_id, act_code, status, opened_utc FROM acts"
        " WHERE status IN (?, ?) ORDER BY last_seq",
        (PENDING, UNCERTAIN),
    ).fetchall()
    return [OpenAct(*row) for row in rows]
