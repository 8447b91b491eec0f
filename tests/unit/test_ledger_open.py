"""`kiosk run` opens its ledger through :func:`kiosk.appliance.wiring.open_ledger`: its
first start (no ledger file yet) makes the ledger and its keys; afterwards it never
makes a key, and refuses a ledger whose keys are missing or not its own, or a file that
is not a ledger, leaving the files as they were (issue 12, items 3 and 17)."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from kiosk.appliance.wiring import open_ledger
from kiosk.billing.keys import (
    PUBLIC_KEY_FILE,
    SECRET_FILE,
    SIGNING_KEY_FILE,
    MissingKeys,
    load_or_create_keys,
)
from kiosk.billing.ledger import APPLICATION_ID, KeysNotThisLedgers, NotALedger, Payment
from kiosk.config import Config, load_config


def config_for(tmp_path: Path, state: Path, kiosk_id: str = "kiosk-open") -> Config:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[ledger]\npath = "{state / "ledger.db"}"\nkiosk_id = "{kiosk_id}"\n')
    return load_config(path)


def files_of(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


def test_the_first_start_makes_the_ledger_and_its_keys(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with open_ledger(config_for(tmp_path, state)) as book:
        book.import_payments([Payment("2026-04-15", "R-1", 100, "2025-01-01", "2025-12-31")])
        assert book.kiosk_id == "kiosk-open"
    assert {SECRET_FILE, SIGNING_KEY_FILE, PUBLIC_KEY_FILE, "ledger.db"} <= set(files_of(state))
    conn = sqlite3.connect(state / "ledger.db")
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    with open_ledger(config_for(tmp_path, state)) as book:  # the next start: same keys
        assert book.verify().ok


@pytest.mark.parametrize("lost", [SECRET_FILE, SIGNING_KEY_FILE])
def test_an_existing_ledger_without_its_keys_is_refused_and_no_key_is_made(
    tmp_path: Path, lost: str
) -> None:
    state = tmp_path / "state"
    open_ledger(config_for(tmp_path, state)).close()
    (state / lost).unlink()
    before = files_of(state)
    with pytest.raises(MissingKeys, match=lost):
        open_ledger(config_for(tmp_path, state))
    assert files_of(state) == before


def test_another_kiosks_keys_beside_the_ledger_are_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with open_ledger(config_for(tmp_path, state)) as book:  # a payment: a signed checkpoint
        book.import_payments([Payment("2026-04-15", "R-1", 100, "2025-01-01", "2025-12-31")])
    other = tmp_path / "other"
    load_or_create_keys(other, "kiosk-other")
    shutil.copy(other / SIGNING_KEY_FILE, state / SIGNING_KEY_FILE)
    before = files_of(state)
    with pytest.raises(KeysNotThisLedgers, match="signing key"):
        open_ledger(config_for(tmp_path, state))
    assert files_of(state) == before


def test_a_file_that_is_not_a_ledger_is_refused_as_it_is(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    load_or_create_keys(state, "kiosk-open")
    conn = sqlite3.connect(state / "ledger.db")
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = files_of(state)
    with pytest.raises(NotALedger, match="not a Borne DMP ledger"):
        open_ledger(config_for(tmp_path, state))
    assert files_of(state) == before
