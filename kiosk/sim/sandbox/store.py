"""The sandbox's state: which DMPs exist, who opened them, with which consent (SQLite);
and, when asked, the last requests it received (:class:`RequestLog`, in memory)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from kiosk.dmp.models import Consent, Guardian

SCHEMA = """
CREATE TABLE IF NOT EXISTS dmps (
    ins TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    created_at TEXT,
    created_by_rpps TEXT,
    structure_id TEXT,
    consent INTEGER,
    bris_de_glace_allowed INTEGER,
    centre15_allowed INTEGER,
    web_access INTEGER NOT NULL DEFAULT 0,
    guardian TEXT
);
"""


class StoreError(ValueError):
    pass


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rpps_of(national_id: str) -> str:
    """A PS national id for an RPPS-registered professional is ``8`` + RPPS."""
    return (
        national_id[1:] if len(national_id) == 12 and national_id.startswith("8") else national_id
    )


SEED_FORM = 'a JSON list of {"ins": "...", "status": "active"|"closed"} objects'


def check_seed(entries: object) -> list[dict[str, Any]]:
    """``entries`` as seed entries, checked before anything is written: a
    :class:`StoreError` naming the first bad one."""
    if not isinstance(entries, list):
        raise StoreError(f"expected {SEED_FORM}")
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise StoreError(f"entry {number}: expected an object; the seed is {SEED_FORM}")
        ins, status = entry.get("ins"), entry.get("status", "active")
        if not isinstance(ins, str) or not ins or not isinstance(status, str) or status not in (
            "active", "closed"
        ):  # fmt: skip
            raise StoreError(f"entry {number}: the seed is {SEED_FORM}")
    return entries


class SandboxStore:
    def __init__(self, path: Path, read_only: bool = False) -> None:
        """``read_only``: to list what an existing file holds, writing nothing to it (not
        even the schema, in another program's file); ``immutable`` when no sandbox has it
        open (no ``-wal`` beside it), so that no ``-wal`` or ``-shm`` is left either."""
        self.path = path
        self._lock = threading.Lock()
        if read_only:
            mode = "mode=ro" if path.with_name(path.name + "-wal").exists() else "immutable=1"
            uri = f"file:{quote(str(path))}?{mode}"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            return
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def seed(self, entries: list[dict[str, Any]]) -> None:
        check_seed(entries)
        with self._lock:
            for entry in entries:
                status = entry.get("status", "active")
                self._db.execute(
                    "INSERT OR IGNORE INTO dmps (ins, status, created_at) VALUES (?, ?, ?)",
                    (entry["ins"], status, utc_now()),
                )

    def status(self, ins: str) -> tuple[str | None, str | None]:
        """(status or None, structure that created it)."""
        row = self._db.execute(
            "SELECT status, structure_id FROM dmps WHERE ins = ?", (ins,)
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def create(
        self, ins: str, rpps: str, structure_id: str, consent: Consent, guardian: Guardian | None
    ) -> str | None:
        """The creation time, or None when a DMP already exists for ``ins``."""
        created_at = utc_now()
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO dmps (ins, status, created_at, created_by_rpps,"
                " structure_id, consent, bris_de_glace_allowed, centre15_allowed, guardian)"
                " VALUES (?, 'active', ?, ?, ?, ?, ?, ?, ?)",
                (
                    ins, created_at, rpps, structure_id, consent.consent,
                    consent.bris_de_glace_allowed, consent.centre15_allowed,
                    json.dumps(asdict(guardian), ensure_ascii=False) if guardian else None,
                ),
            )  # fmt: skip
        return created_at if cursor.rowcount == 1 else None

    def reactivate(
        self, ins: str, rpps: str, structure_id: str, consent: Consent, guardian: Guardian | None
    ) -> str | None:
        """The reactivation time, or None when no closed DMP exists for ``ins``. The choices
        and the representative are the new consent's, as for a creation; the structure
        that reactivated it is now the one authorized on it [A], so a lost answer is
        resolved by TD0.2 as this structure's reactivation."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE dmps SET status = 'active', created_by_rpps = ?, structure_id = ?,"
                " consent = ?, bris_de_glace_allowed = ?, centre15_allowed = ?, guardian = ?"
                " WHERE ins = ? AND status = 'closed'",
                (
                    rpps, structure_id, consent.consent, consent.bris_de_glace_allowed,
                    consent.centre15_allowed,
                    json.dumps(asdict(guardian), ensure_ascii=False) if guardian else None, ins,
                ),
            )  # fmt: skip
        return utc_now() if cursor.rowcount == 1 else None

    def set_web_access(self, ins: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE dmps SET web_access = 1 WHERE ins = ? AND status = 'active'", (ins,)
            )
        return cursor.rowcount == 1

    def list(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT ins, status, created_at, created_by_rpps, structure_id, consent,"
            " bris_de_glace_allowed, centre15_allowed, web_access, guardian"
            " FROM dmps ORDER BY created_at, ins"
        ).fetchall()

        def flag(value: int | None) -> bool | None:
            return None if value is None else bool(value)

        return [
            {
                "ins": r[0], "status": r[1], "created_at": r[2], "created_by_rpps": r[3],
                "structure_id": r[4], "consent": flag(r[5]), "bris_de_glace_allowed": flag(r[6]),
                "centre15_allowed": flag(r[7]), "web_access": bool(r[8]),
                "guardian": json.loads(r[9]) if r[9] else None,
            }
            for r in rows
        ]  # fmt: skip


class RequestLog:
    """The last ``keep`` request envelopes the sandbox received, as bytes, with their
    operation; in memory only and off by default (``keep`` 0). What a test compares with
    what the kiosk read from the card: nothing of it is ever written or logged."""

    def __init__(self, keep: int = 0) -> None:
        self._requests: deque[tuple[str, bytes]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(self, operation: str, payload: bytes) -> None:
        with self._lock:
            self._requests.append((operation, payload))

    def bodies(self, operation: str) -> list[bytes]:
        """The envelopes kept for ``operation``, oldest first."""
        with self._lock:
            return [payload for op, payload in self._requests if op == operation]
