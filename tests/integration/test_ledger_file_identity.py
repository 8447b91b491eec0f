"""Which files the `kiosk ledger` commands accept (issue 12, item 3).

A ledger says what it is in its SQLite header (``PRAGMA application_id`` "BDMP",
``PRAGMA user_version`` its schema version). Every command, run on a file that is not a
Borne DMP ledger (another application's SQLite file, another application id, an empty
file, a version this kiosk does not know, not SQLite at all), is refused in one line with
a non-zero exit, and the file is left byte for byte as it was, with nothing created
beside it. A ledger written before the marker (the ledger's tables, no marker) is read as
it is and upgraded to carry the marker by the first command that writes.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.billing.keys import PUBLIC_KEY_FILE, SECRET_FILE, SIGNING_KEY_FILE
from kiosk.billing.ledger import APPLICATION_ID, SCHEMA_VERSION
from tests.conftest import run_kiosk
from tests.integration.ledger_writer import KIOSK_ID, build_ledger

PAYMENTS = (
    "date_paiement;reference;montant;periode_debut;periode_fin\n"
    "15/04/2026;ROSP-IDENTITY;1,00;01/01/2025;31/01/2025\n"
)


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger written by this kiosk, and its keys, in a directory of its own."""
    state = tmp_path_factory.mktemp("genuine")
    build_ledger(state, journeys=8)
    return state


def commands(target: Path, work: Path) -> dict[str, list[str]]:
    """Each ledger command, on ``target`` (its outputs in ``work``, outside its directory)."""
    csv = work / "paiements.csv"
    csv.write_text(PAYMENTS, encoding="utf-8")
    ledger = ["--ledger", str(target)]
    export = ["ledger", "export", "--format"]
    return {
        "report": ["ledger", "report", *ledger, "--json"],
        "verify": ["ledger", "verify", *ledger],
        "checkpoint": ["ledger", "checkpoint", *ledger],
        "pending": ["ledger", "pending", *ledger, "--json"],
        "reconcile": ["ledger", "reconcile", *ledger, "--json"],
        "import-payments": ["ledger", "import-payments", str(csv), *ledger],
        "export-csv": [*export, "csv", "--out", str(work / "x.csv"), *ledger],
        "export-pdf": [*export, "pdf", "--out", str(work / "x.pdf"), *ledger],
    }  # fmt: skip


def _foreign_app(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
        "INSERT INTO notes (body) VALUES ('rendez-vous 14h'), ('commande');"
    )
    conn.close()


def _foreign_wal(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript("CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER);")
    conn.execute("INSERT INTO stock VALUES ('3400930000000', 12)")
    conn.commit()
    conn.close()


def _other_application_id(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1598903374")  # "MPBN": someone else's format
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def _schemaless_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")  # a valid SQLite file, with nothing in it
    conn.close()


def _historical_tables_plus_another(path: Path) -> None:
    """The ledger's table names in someone else's database: still not a ledger."""
    from tests.unit.test_ledger_schema import SQLITE_UTILS_SCHEMA

    conn = sqlite3.connect(path)
    for statement in SQLITE_UTILS_SCHEMA:
        conn.execute(statement)
    conn.execute("CREATE TABLE invoices (n INTEGER)")
    conn.commit()
    conn.close()


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"date;ref;montant\n" * 300)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


FOREIGN: dict[str, Callable[[Path], None]] = {
    "another-application": _foreign_app,
    "another-application-wal": _foreign_wal,
    "another-application-id": _other_application_id,
    "sqlite-without-tables": _schemaless_sqlite,
    "ledger-tables-and-more": _historical_tables_plus_another,
    "not-sqlite": _not_sqlite,
    "empty-file": _empty,
}


def files_of(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def refused(args: list[str]) -> str:
    result = run_kiosk(*args)
    assert result.returncode != 0, (args, result.stdout)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, (args, result.stderr)
    assert lines[0].startswith("kiosk: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("make", FOREIGN.values(), ids=FOREIGN.keys())
def test_every_command_refuses_a_file_that_is_not_a_ledger_and_leaves_it_as_it_was(
    make: Callable[[Path], None], tmp_path: Path
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    target = home / "other.db"
    make(target)
    before = files_of(home)
    for name, args in commands(target, work).items():
        line = refused(args)
        assert str(target) in line, (name, line)
        assert "ledger" in line, (name, line)
        assert files_of(home) == before, name  # byte for byte, and nothing beside it
    assert not list(work.glob("x.*")), "no export written from a file that is no ledger"


def _with_version(source: Path, target: Path, version: int) -> None:
    shutil.copy(source, target)
    conn = sqlite3.connect(target)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()


def test_a_ledger_of_a_schema_version_this_kiosk_does_not_know_is_refused_unchanged(
    genuine: Path, tmp_path: Path
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for name in (SECRET_FILE, SIGNING_KEY_FILE, PUBLIC_KEY_FILE):
        shutil.copy(genuine / name, home / name)
    target = home / "ledger.db"
    _with_version(genuine / "ledger.db", target, SCHEMA_VERSION + 1)
    before = files_of(home)
    for name, args in commands(target, work).items():
        line = refused(args)
        assert f"schema version {SCHEMA_VERSION + 1}" in line, (name, line)
        assert files_of(home) == before, name


def _as_the_previous_version_wrote_it(source: Path, target: Path) -> None:
    """The same file without the marker and ``meta``: what the kiosk wrote before."""
    shutil.copy(source, target)
    conn = sqlite3.connect(target)
    conn.execute("DROP TABLE IF EXISTS meta")
    conn.execute("PRAGMA application_id = 0")
    conn.execute("PRAGMA user_version = 0")
    conn.commit()
    conn.execute("VACUUM")
    conn.close()


def header(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (
            conn.execute("PRAGMA application_id").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0],
        )
    finally:
        conn.close()


def test_a_ledger_written_before_the_marker_opens_and_is_upgraded_when_written(
    genuine: Path, tmp_path: Path
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for name in (SECRET_FILE, SIGNING_KEY_FILE, PUBLIC_KEY_FILE):
        shutil.copy(genuine / name, home / name)
    target = home / "ledger.db"
    _as_the_previous_version_wrote_it(genuine / "ledger.db", target)
    assert header(target) == (0, 0)
    run = commands(target, work)
    old_bytes = target.read_bytes()
    for name in ("report", "verify", "pending", "reconcile", "export-csv"):
        result = run_kiosk(*run[name])
        assert result.returncode == 0, (name, result.stderr)
    assert target.read_bytes() == old_bytes  # reading never writes
    assert "signed checkpoints" in run_kiosk(*run["verify"]).stdout
    other = tmp_path / "other.toml"  # a config whose kiosk id is not the ledger's
    other.write_text('[ledger]\nkiosk_id = "kiosk-config-default"\n')
    result = run_kiosk(*run["import-payments"], "--config", str(other))
    assert result.returncode == 0, result.stderr
    assert header(target) == (APPLICATION_ID, SCHEMA_VERSION)
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        last = conn.execute("SELECT kiosk_id FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert meta["kiosk_id"] == KIOSK_ID  # the id its entries carry, not the config's
    assert last == (KIOSK_ID,)
    verified = run_kiosk(*run["verify"])
    assert verified.returncode == 0, verified.stderr
    assert "signed checkpoints" in verified.stdout
    assert run_kiosk(*run["checkpoint"]).returncode == 0


def test_an_absent_ledger_is_never_created_by_a_command(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    target = home / "ledger.db"
    for name, args in commands(target, work).items():
        line = refused(args)
        assert "no ledger" in line, (name, line)
        assert list(home.iterdir()) == [], name
