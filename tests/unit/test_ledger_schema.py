# ruff: noqa: E501 - the historical DDL is kept as sqlite_master holds it, one statement a line
"""The ledger's tables are those sqlite-utils created before the ledger wrote its own DDL
(removed from the kiosk's start-up path): same names, columns, types and keys, so a
ledger written by an older kiosk is read as it is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import APPLICATION_ID, SCHEMA_VERSION, Ledger

# What sqlite-utils 3.36 wrote (`sqlite_master`, whitespace folded), 2026-11.
SQLITE_UTILS_SCHEMA = (
    'CREATE TABLE "acts" ( "act_id" TEXT PRIMARY KEY, "act_code" TEXT, "status" TEXT, "amount_cents" INTEGER, "opened_utc" TEXT, "day" TEXT, "month" TEXT, "rpps" TEXT, "patient_key" TEXT, "duplicate_of" TEXT, "last_seq" INTEGER )',
    'CREATE TABLE "checkpoints" ( "day" TEXT PRIMARY KEY, "seq" INTEGER, "head" TEXT, "signed_utc" TEXT, "signature" TEXT, "public_key" TEXT )',
    'CREATE TABLE "entries" ( "seq" INTEGER PRIMARY KEY, "kind" TEXT, "ref" TEXT, "act_code" TEXT, "status" TEXT, "amount_cents" INTEGER, "at_utc" TEXT, "kiosk_id" TEXT, "rpps" TEXT, "patient_key" TEXT, "consent" TEXT, "paid_on" TEXT, "period_start" TEXT, "period_end" TEXT, "duplicate_of" TEXT, "prev_hash" TEXT, "hash" TEXT )',
    'CREATE TABLE "payments" ( "reference" TEXT PRIMARY KEY, "paid_on" TEXT, "amount_cents" INTEGER, "period_start" TEXT, "period_end" TEXT, "seq" INTEGER )',
    'CREATE TABLE "pending_ins" ( "act_id" TEXT PRIMARY KEY, "nonce" TEXT, "sealed" TEXT )',
)


def columns(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: conn.execute(f'PRAGMA table_info("{name}")').fetchall() for name in names}


def test_a_new_ledger_has_the_tables_an_older_kiosk_wrote(tmp_path: Path) -> None:
    """The historical tables as they were, plus ``meta`` (the kiosk id, the secret's check
    value) and the file-type marker in the SQLite header."""
    historical = sqlite3.connect(":memory:")
    for statement in SQLITE_UTILS_SCHEMA:
        historical.execute(statement)
    Ledger(tmp_path / "ledger.db", load_or_create_keys(tmp_path, "k")).close()
    ours = sqlite3.connect(tmp_path / "ledger.db")
    try:
        tables = columns(ours)
        meta = tables.pop("meta")
        assert tables == columns(historical)
        assert [(c[1], c[2], c[5]) for c in meta] == [("key", "TEXT", 1), ("value", "TEXT", 0)]
        assert ours.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert ours.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert dict(ours.execute("SELECT key, value FROM meta"))["kiosk_id"] == "k"
        indexes = {
            r[0] for r in ours.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {"idx_acts_day", "idx_acts_status", "idx_acts_patient_key"} <= indexes
    finally:
        ours.close()


def test_an_older_ledger_opens_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    old = sqlite3.connect(path)
    for statement in SQLITE_UTILS_SCHEMA:
        old.execute(statement)
    old.commit()
    old.close()
    with Ledger(path, load_or_create_keys(tmp_path, "k")) as book:
        assert book.verify().ok
    upgraded = sqlite3.connect(path)
    try:  # the historical tables untouched, the marker and ``meta`` added
        tables = columns(upgraded)
        del tables["meta"]
        historical = sqlite3.connect(":memory:")
        for statement in SQLITE_UTILS_SCHEMA:
            historical.execute(statement)
        assert tables == columns(historical)
        assert upgraded.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        upgraded.close()
