"""The VIHF trace: every assertion sent to the DMP service, kept beside the ledger as long
as the ledger [EX_AIR-070, EX_AIR-100/120: traces kept ten years, extractable on request].

One SQLite file, ``<ledger stem>.trace.db`` beside the ledger (:func:`trace_path`), its
own ``PRAGMA application_id`` (:data:`APPLICATION_ID`, ``"BDMT"``) so that neither file
is taken for the other. ``vihf_trace`` is append-only: this module offers no update nor
delete, SQLite triggers refuse both, and each row carries the SHA-256 of the row before
it and of itself: :func:`verify_trace` (``kiosk ledger trace --verify``) names the first
row altered, removed or reordered. What it cannot see: the last rows removed, or the
whole chain rewritten, by someone who can write the file (the kiosk user); anchoring the
trace's head in the ledger's signed daily checkpoint would. The kiosk never purges it.

A row: assertion ID, issue time (UTC), transaction, RPPS, structure, result (``ok``, a
fault code or a typed code, :mod:`kiosk.dmp.trace`), duration, and for a call about a
patient the pseudonymous patient key, the ledger's own (:meth:`KioskKeys.patient_key`,
HMAC-SHA256 of the INS with the ledger's secret): never the INS, never a name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from kiosk.billing.chain import GENESIS, SEP, LedgerError
from kiosk.billing.ledger import PARIS, read_only_connection

log = logging.getLogger(__name__)

APPLICATION_ID = 0x42444D54  # "BDMT": the trace's SQLite file-type field
SCHEMA_VERSION = 1
TRACE_SUFFIX = ".trace.db"
TABLE = "vihf_trace"
BUSY_TIMEOUT = 2.0  # seconds a write waits for another writer, then fails (logged)
# The hashed fields, in this order; ``transaction_code`` is the JSON's ``transaction``
# (an SQL keyword).
_LAST_HASH = "SELECT hash FROM vihf_trace ORDER BY seq DESC LIMIT 1"
_INSERT = (
    "INSERT INTO vihf_trace (assertion_id, issued_at, transaction_code, rpps, structure_id,"
    " result, duration_ms, patient_key, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT = (
    "SELECT assertion_id, issued_at, transaction_code, rpps, structure_id, result,"
    " duration_ms, patient_key FROM vihf_trace WHERE issued_at >= ? AND issued_at < ?"
    " ORDER BY seq"
)
_CHAIN = (
    "SELECT seq, assertion_id, issued_at, transaction_code, rpps, structure_id, result,"
    " duration_ms, patient_key, prev_hash, hash FROM vihf_trace ORDER BY seq"
)
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (seq INTEGER PRIMARY KEY,"
    " assertion_id TEXT NOT NULL UNIQUE, issued_at TEXT NOT NULL,"
    " transaction_code TEXT NOT NULL, rpps TEXT NOT NULL, structure_id TEXT NOT NULL,"
    " result TEXT NOT NULL, duration_ms INTEGER NOT NULL, patient_key TEXT NOT NULL,"
    " prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS idx_{TABLE}_issued_at ON {TABLE} (issued_at)",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_append_only_update BEFORE UPDATE ON {TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'the VIHF trace is append-only'); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_append_only_delete BEFORE DELETE ON {TABLE}"
    " BEGIN SELECT RAISE(ABORT, 'the VIHF trace is append-only'); END",
)


class SentVihf(Protocol):
    """What the DMP client tells of a VIHF it sent (``kiosk.dmp.trace.VihfTrace``, which
    billing may not import: the two are independent layers)."""

    @property
    def assertion_id(self) -> str: ...
    @property
    def issued_at(self) -> str: ...
    @property
    def transaction(self) -> str: ...
    @property
    def rpps(self) -> str: ...
    @property
    def structure_id(self) -> str: ...
    @property
    def result(self) -> str: ...
    @property
    def duration_ms(self) -> int: ...
    @property
    def ins(self) -> str | None: ...


class TraceFileError(LedgerError):
    """The file is absent, not a VIHF trace, or not readable: a one-line reason."""


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """A row as ``kiosk ledger trace`` shows it; ``patient_key`` None: no patient."""

    assertion_id: str
    issued_at: str
    transaction: str
    rpps: str
    structure_id: str
    result: str
    duration_ms: int
    patient_key: str | None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TraceVerdict:
    ok: bool
    rows: int
    bad_seq: int | None = None


def trace_path(ledger_or_trace: Path) -> Path:
    """The trace beside a ledger (``ledger.db`` → ``ledger.trace.db``); a trace's own
    path is given back as it is."""
    if ledger_or_trace.name.endswith(TRACE_SUFFIX):
        return ledger_or_trace
    return ledger_or_trace.with_name(ledger_or_trace.stem + TRACE_SUFFIX)


def row_hash(prev_hash: str, values: tuple[object, ...]) -> str:
    texts = [str(value) for value in values]
    if any(SEP in text or "\x1e" in text for text in texts):
        raise LedgerError("a VIHF trace field holds a separator character")
    return hashlib.sha256(f"{prev_hash}\x1e{SEP.join(texts)}".encode()).hexdigest()


class VihfTraceLog:
    """The writer: the DMP client's ``on_vihf`` listener, appending one row per VIHF.

    ``patient_key`` is the ledger's pseudonymization (``KioskKeys.patient_key``), called
    only for a call about a patient; when it fails (the ledger's keys unreadable) the row
    is still written, without a patient key. A connection per row: the kiosk and a
    technician's ``kiosk dmp`` may write at the same time (``BEGIN IMMEDIATE``)."""

    def __init__(self, path: Path, patient_key: Callable[[str], str]) -> None:
        self.path = path
        self._patient_key = patient_key

    def __call__(self, trace: SentVihf) -> None:
        self.append(trace)

    def _key(self, ins: str | None) -> str:
        if not ins:
            return ""
        try:
            return self._patient_key(ins)
        except Exception as exc:  # noqa: BLE001 - the row is kept, without the key
            log.warning("VIHF trace: no patient key (%s)", type(exc).__name__)
            return ""

    def append(self, trace: SentVihf) -> None:
        values = (
            trace.assertion_id, trace.issued_at, trace.transaction, trace.rpps,
            trace.structure_id, trace.result, int(trace.duration_ms), self._key(trace.ins),
        )  # fmt: skip
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._mark(conn)
                row = conn.execute(_LAST_HASH).fetchone()
                prev = str(row[0]) if row else GENESIS
                conn.execute(_INSERT, (*values, prev, row_hash(prev, values)))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists():  # 0600 from the start, as the ledger
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # a short wait for another writer (a technician's `kiosk dmp`): the trace must not
        # hold the journey's worker long after the DMP call's own deadline
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT)
        try:
            self._refuse_others(conn)  # before WAL, which rewrites the file's header
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _refuse_others(self, conn: sqlite3.Connection) -> bool:
        """True when the file is a trace already; :class:`TraceFileError` when it is any
        other file (left as it is); False when it is new."""
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        if app_id == APPLICATION_ID:
            return True
        if app_id != 0 or _tables(conn):
            raise TraceFileError(f"{self.path}: not a VIHF trace; nothing was written")
        return False

    def _mark(self, conn: sqlite3.Connection) -> None:
        """A new file becomes a trace (checked again in the write transaction)."""
        if self._refuse_others(conn):
            return
        for statement in SCHEMA:
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {str(row[0]) for row in rows}


def open_trace(path: Path) -> sqlite3.Connection:
    """A read-only connection to the trace at ``path``; :class:`TraceFileError` when it
    is absent or not a trace (the file left as it is)."""
    if not path.is_file():
        what = "not a file" if path.exists() else "no VIHF trace here"
        raise TraceFileError(f"{path}: {what} (the kiosk writes it at its first DMP call)")
    conn = read_only_connection(path)
    try:
        problem = _not_a_trace(conn)
    except sqlite3.DatabaseError as exc:
        problem = f"not a VIHF trace, or a damaged one ({exc})"
    if problem:
        conn.close()
        raise TraceFileError(f"{path}: {problem}; left as it is")
    return conn


def _not_a_trace(conn: sqlite3.Connection) -> str:
    """Why this database is no trace this code reads, or ""."""
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if app_id != APPLICATION_ID:
        return "not a VIHF trace"
    if version != SCHEMA_VERSION:
        return f"a VIHF trace of schema version {version}, which this kiosk does not know"
    if TABLE not in _tables(conn):
        return "marked as a VIHF trace but its table is missing"
    return ""


def _bounds(start: dt.date | None, end: dt.date | None) -> tuple[str, str]:
    """The UTC ``issued_at`` range of Paris days ``start`` to ``end`` (included)."""

    def utc(day: dt.date) -> str:
        moment = dt.datetime.combine(day, dt.time(), PARIS).astimezone(dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    # the calendar's ends (0001-01-01, 9999-12-31) are open ends: no overflow
    low = utc(start) if start and start > dt.date.min else ""
    high = utc(end + dt.timedelta(days=1)) if end and end < dt.date.max else "~"  # "~" > any
    return low, high


def read_trace(
    conn: sqlite3.Connection, start: dt.date | None = None, end: dt.date | None = None
) -> list[TraceRecord]:
    """The VIHFs sent on the Paris days ``start`` to ``end`` (each included), in order."""
    low, high = _bounds(start, end)
    rows = conn.execute(_SELECT, (low, high))
    return [
        TraceRecord(str(a), str(at), str(t), str(rpps), str(s), str(r), int(ms), str(k) or None)
        for a, at, t, rpps, s, r, ms, k in rows
    ]


def verify_trace(conn: sqlite3.Connection) -> TraceVerdict:
    """Every row follows the one before it and is as written; else the first bad one."""
    expected, previous, count = 1, GENESIS, 0
    for row in conn.execute(_CHAIN):
        seq, values, prev_hash, own = int(row[0]), tuple(row[1:-2]), row[-2], row[-1]
        try:
            recomputed = row_hash(str(prev_hash), values)
        except LedgerError:
            recomputed = ""
        if seq != expected or prev_hash != previous or recomputed != own:
            return TraceVerdict(False, count, expected)
        previous, expected, count = str(own), expected + 1, count + 1
    return TraceVerdict(True, count)
