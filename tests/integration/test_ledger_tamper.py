"""Tampering with a closed ledger file: `kiosk ledger verify` exits non-zero and names the
first broken entry for a flipped byte in a stored entry, a deleted, swapped or forged
row; names the derived table when only that was edited; refuses an edited checkpoint or
another kiosk's key. A copy of the file alone verifies elsewhere with the public key."""

from __future__ import annotations

import dataclasses
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk.billing.chain import COLUMNS, Entry, entry_hash
from kiosk.billing.keys import PUBLIC_KEY_FILE, load_or_create_keys
from tests.conftest import run_kiosk
from tests.integration.ledger_writer import build_ledger

DB = "ledger.db"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    state = tmp_path_factory.mktemp("ledger-template")
    ids = build_ledger(state)
    assert not (state / f"{DB}-wal").exists()  # closed: everything is in the main file
    return state, ids


@pytest.fixture
def ledger(template: tuple[Path, dict[str, list[str]]], tmp_path: Path) -> Path:
    """A copy of the template ledger with its public key beside it (not its secrets)."""
    shutil.copy(template[0] / DB, tmp_path / DB)
    shutil.copy(template[0] / PUBLIC_KEY_FILE, tmp_path / PUBLIC_KEY_FILE)
    return tmp_path / DB


def entries(path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    try:
        query = f"SELECT {', '.join(COLUMNS)} FROM entries ORDER BY seq"
        return [dict(zip(COLUMNS, row, strict=True)) for row in conn.execute(query)]
    finally:
        conn.close()


def tamper(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Run SQL as an attacker would: the append-only triggers dropped first."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("DROP TRIGGER IF EXISTS entries_append_only_update")
        conn.execute("DROP TRIGGER IF EXISTS entries_append_only_delete")
        conn.execute("BEGIN")
        for sql, args in statements:
            conn.execute(sql, args)
        conn.execute("COMMIT")
    finally:
        conn.close()


def verify_fails(path: Path, *extra: str) -> str:
    result = run_kiosk("ledger", "verify", "--ledger", str(path), *extra)
    assert result.returncode != 0, result.stdout
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "NOT intact" in lines[0] or "damaged" in lines[0], lines[0]
    return lines[0]


def names_entry(message: str, seq: int) -> bool:
    return re.search(rf"\bentry {seq}\b", message) is not None


def test_the_untouched_ledger_verifies(ledger: Path) -> None:
    result = run_kiosk("ledger", "verify", "--ledger", str(ledger))
    assert result.returncode == 0, result.stderr
    count = len(entries(ledger))
    assert 45 <= count <= 60
    assert re.search(rf"ledger intact: {count} entries, [2-9] signed checkpoints", result.stdout)


# -- (a) a flipped byte in the SQLite file ----------------------------------------------

TEXT_BEFORE_AMOUNT = ("kind", "ref", "act_code", "status")
TEXT_AFTER_AMOUNT = COLUMNS[COLUMNS.index("at_utc") :]


def field_offset(data: bytes, entry: dict[str, Any], field: str) -> int:
    """Where ``field`` of ``entry`` lies in the file: the record body holds the columns in
    order (seq, the rowid, is not stored), texts as UTF-8 and the amount as a big-endian
    integer of 0 to 8 bytes between ``status`` and ``at_utc``."""
    before = "".join(entry[name] for name in TEXT_BEFORE_AMOUNT).encode()
    after = "".join(entry[name] for name in TEXT_AFTER_AMOUNT).encode()
    found = []
    for match in re.finditer(re.escape(before), data):
        end = match.end()
        start_after = data.find(after, end, end + 9 + len(after))
        if start_after != -1:
            found.append((match.start(), end, start_after))
    assert len(found) == 1, f"entry {entry['seq']}: {len(found)} copies of its record"
    start, amount_start, amount_end = found[0]
    if field == "amount_cents":
        assert amount_end > amount_start, "an amount of 0 or 1 takes no byte"
        return amount_end - 1
    offset, names = (
        (start, TEXT_BEFORE_AMOUNT)
        if field in TEXT_BEFORE_AMOUNT
        else (amount_end, TEXT_AFTER_AMOUNT)
    )
    for name in names:
        if name == field:
            assert entry[name], f"entry {entry['seq']}: {field} is empty"
            return offset + len(entry[name].encode()) // 2
        offset += len(entry[name].encode())
    raise AssertionError(field)


Pick = Callable[[list[dict[str, Any]], dict[str, list[str]]], dict[str, Any]]


def first(rows: list[dict[str, Any]], _ids: dict[str, list[str]]) -> dict[str, Any]:
    return rows[0]


def last(rows: list[dict[str, Any]], _ids: dict[str, list[str]]) -> dict[str, Any]:
    return rows[-1]


def paid_opening(rows: list[dict[str, Any]], _ids: dict[str, list[str]]) -> dict[str, Any]:
    return [r for r in rows if r["status"] == "confirmed" and r["amount_cents"] > 1][4]


def duplicate(rows: list[dict[str, Any]], _ids: dict[str, list[str]]) -> dict[str, Any]:
    return next(r for r in rows if r["duplicate_of"])


def refusal(rows: list[dict[str, Any]], _ids: dict[str, list[str]]) -> dict[str, Any]:
    return [r for r in rows if r["status"] == "refused"][1]


def payment(rows: list[dict[str, Any]], _ids: dict[str, list[str]]) -> dict[str, Any]:
    return [r for r in rows if r["kind"] == "payment"][1]


def pending(rows: list[dict[str, Any]], ids: dict[str, list[str]]) -> dict[str, Any]:
    return next(r for r in rows if r["ref"] == ids["pending"][0])


def middle_failure(rows: list[dict[str, Any]], _ids: dict[str, list[str]]) -> dict[str, Any]:
    return [r for r in rows if r["status"] == "failed"][2]


FLIPS: list[tuple[Pick, str]] = [
    (first, "consent"),
    (first, "patient_key"),
    (first, "kind"),
    (paid_opening, "amount_cents"),
    (paid_opening, "status"),
    (paid_opening, "at_utc"),
    (paid_opening, "rpps"),
    (paid_opening, "ref"),
    (paid_opening, "hash"),
    (paid_opening, "prev_hash"),
    (paid_opening, "kiosk_id"),
    (duplicate, "duplicate_of"),
    (middle_failure, "status"),
    (middle_failure, "act_code"),
    (refusal, "consent"),
    (payment, "amount_cents"),
    (payment, "paid_on"),
    (payment, "period_end"),
    (pending, "patient_key"),
    (last, "hash"),
    (last, "amount_cents"),
]


@pytest.mark.parametrize(
    ("pick", "field"), FLIPS, ids=[f"{pick.__name__}-{field}" for pick, field in FLIPS]
)
def test_a_flipped_byte_in_a_stored_entry_is_named(
    ledger: Path, template: tuple[Path, dict[str, list[str]]], pick: Pick, field: str
) -> None:
    entry = pick(entries(ledger), template[1])
    data = bytearray(ledger.read_bytes())
    offset = field_offset(bytes(data), entry, field)
    data[offset] ^= 0x01
    ledger.write_bytes(bytes(data))
    message = verify_fails(ledger)
    assert names_entry(message, entry["seq"]), message


def test_a_damaged_file_is_reported_in_one_line(ledger: Path) -> None:
    data = bytearray(ledger.read_bytes())
    data[:16] = b"not a ledger at all"[:16]
    ledger.write_bytes(bytes(data))
    assert "damaged" in verify_fails(ledger)


# -- (b)-(d) rows deleted, swapped, forged ----------------------------------------------


@pytest.mark.parametrize("seq", [1, 2, 25, 40])
def test_a_deleted_row_is_named(ledger: Path, seq: int) -> None:
    tamper(ledger, ("DELETE FROM entries WHERE seq = ?", (seq,)))
    message = verify_fails(ledger)
    assert names_entry(message, seq), message
    assert "missing" in message


def test_deleting_the_last_row_is_caught_by_the_derived_table(ledger: Path) -> None:
    last_seq = entries(ledger)[-1]["seq"]
    tamper(ledger, ("DELETE FROM entries WHERE seq = ?", (last_seq,)))
    assert "derived table 'payments'" in verify_fails(ledger)


def test_deleting_the_last_row_everywhere_is_caught_by_the_signed_checkpoint(
    ledger: Path,
) -> None:
    last_entry = entries(ledger)[-1]
    tamper(
        ledger,
        ("DELETE FROM entries WHERE seq = ?", (last_entry["seq"],)),
        ("DELETE FROM payments WHERE reference = ?", (last_entry["ref"],)),
    )
    message = verify_fails(ledger)
    assert f"entry {last_entry['seq']} does not match the checkpoint" in message


def _rewrite(ledger: Path, rows: list[dict[str, Any]]) -> None:
    """Replace the whole entries table by ``rows`` (each a dict of COLUMNS)."""
    placeholders = ", ".join("?" * len(COLUMNS))
    insert = f"INSERT INTO entries ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    tamper(
        ledger,
        ("DELETE FROM entries", ()),
        *((insert, tuple(row[name] for name in COLUMNS)) for row in rows),
    )


@pytest.mark.parametrize(("i", "j"), [(3, 4), (10, 30), (1, 50)])
def test_two_swapped_rows_are_named(ledger: Path, i: int, j: int) -> None:
    rows = entries(ledger)
    a, b = rows[i - 1], rows[j - 1]
    rows[i - 1], rows[j - 1] = {**b, "seq": i}, {**a, "seq": j}
    _rewrite(ledger, rows)
    message = verify_fails(ledger)
    assert names_entry(message, i), message


def _forge(after: dict[str, Any], seq: int) -> dict[str, Any]:
    changes = {"seq": seq, "kind": "payment", "ref": "FORGED-1", "status": "received",
               "amount_cents": 999_999, "prev_hash": after["hash"]}  # fmt: skip
    forged = Entry(**(after | changes))
    forged = dataclasses.replace(forged, hash=entry_hash(forged))
    return dataclasses.asdict(forged)


@pytest.mark.parametrize("position", [1, 20, 37])
def test_a_forged_row_in_the_middle_names_the_next_entry(ledger: Path, position: int) -> None:
    """A well-formed entry with a valid hash after ``position``, the rest shifted."""
    rows = entries(ledger)
    forged = _forge(rows[position - 1], position + 1)
    shifted = [{**row, "seq": row["seq"] + 1} for row in rows[position:]]
    _rewrite(ledger, [*rows[:position], forged, *shifted])
    message = verify_fails(ledger)
    assert names_entry(message, position + 2), message
    assert "does not follow" in message


def test_a_forged_row_with_the_whole_chain_recomputed_fails_the_signed_checkpoints(
    ledger: Path,
) -> None:
    """The attacker rehashes every later entry and adds the derived row: the chain holds,
    but the heads the kiosk signed no longer match."""
    rows = entries(ledger)
    position = 20
    forged = _forge(rows[position - 1], position + 1)
    rebuilt, prev = [*rows[:position], forged], forged["hash"]
    for row in rows[position:]:
        entry = Entry(**{**row, "seq": row["seq"] + 1, "prev_hash": prev})
        entry = dataclasses.replace(entry, hash=entry_hash(entry))
        rebuilt.append(dataclasses.asdict(entry))
        prev = entry.hash
    _rewrite(ledger, rebuilt)
    tamper(
        ledger,
        ("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?)",
         ("FORGED-1", "", 999_999, "", "", position + 1)),
        ("UPDATE acts SET last_seq = last_seq + 1 WHERE last_seq > ?", (position,)),
        ("UPDATE payments SET seq = seq + 1 WHERE seq > ? AND reference != ?",
         (position, "FORGED-1")),
    )  # fmt: skip
    message = verify_fails(ledger)
    assert "does not match the checkpoint" in message


# -- (e) derived tables, (f) checkpoints and keys ---------------------------------------


def test_an_edited_amount_in_the_derived_acts_table_is_named(
    ledger: Path, template: tuple[Path, dict[str, list[str]]]
) -> None:
    act_id = template[1]["confirmed"][2]
    conn = sqlite3.connect(ledger)
    with conn:
        conn.execute("UPDATE acts SET amount_cents = 4100 WHERE act_id = ?", (act_id,))
    conn.close()
    message = verify_fails(ledger)
    assert "derived table 'acts'" in message
    assert act_id in message


def test_an_edited_status_in_the_derived_acts_table_is_named(
    ledger: Path, template: tuple[Path, dict[str, list[str]]]
) -> None:
    act_id = template[1]["failed"][0]
    conn = sqlite3.connect(ledger)
    with conn:
        conn.execute("UPDATE acts SET status = 'confirmed' WHERE act_id = ?", (act_id,))
    conn.close()
    assert "derived table 'acts'" in verify_fails(ledger)


def test_an_edited_derived_payment_is_named(ledger: Path) -> None:
    conn = sqlite3.connect(ledger)
    with conn:
        conn.execute("UPDATE payments SET amount_cents = 1 WHERE reference = 'ROSP-2'")
    conn.close()
    assert "derived table 'payments'" in verify_fails(ledger)


def _flip_hex(text: str, index: int) -> str:
    return text[:index] + ("0" if text[index] != "0" else "1") + text[index + 1 :]


def test_an_edited_checkpoint_signature_fails(ledger: Path) -> None:
    conn = sqlite3.connect(ledger)
    day, signature = conn.execute(
        "SELECT day, signature FROM checkpoints ORDER BY day LIMIT 1 OFFSET 1"
    ).fetchone()
    with conn:
        conn.execute(
            "UPDATE checkpoints SET signature = ? WHERE day = ?", (_flip_hex(signature, 10), day)
        )
    conn.close()
    assert f"checkpoint {day} has an invalid signature" in verify_fails(ledger)


def test_an_edited_checkpoint_head_fails(ledger: Path) -> None:
    conn = sqlite3.connect(ledger)
    day, seq, head = conn.execute("SELECT day, seq, head FROM checkpoints LIMIT 1").fetchone()
    with conn:
        conn.execute("UPDATE checkpoints SET head = ? WHERE day = ?", (_flip_hex(head, 0), day))
    conn.close()
    assert f"entry {seq} does not match the checkpoint signed on {day}" in verify_fails(ledger)


def test_another_kiosks_public_key_fails(ledger: Path, tmp_path: Path) -> None:
    """Not an altered entry: the key is not this ledger's, said apart (exit 3, not 2)."""
    other = tmp_path / "other-kiosk"
    load_or_create_keys(other, "kiosk-other")
    result = run_kiosk(
        "ledger", "verify", "--ledger", str(ledger), "--public-key", str(other / PUBLIC_KEY_FILE)
    )
    assert result.returncode == 3, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "the key is missing or not this ledger's" in line
    assert "NOT intact" not in line
    assert "altered" not in line


def test_an_unreadable_public_key_is_a_clear_error(ledger: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("not hex\n")
    result = run_kiosk("ledger", "verify", "--ledger", str(ledger), "--public-key", str(bad))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not a public key" in result.stderr


# -- verified elsewhere -----------------------------------------------------------------


def test_a_copy_of_the_file_alone_verifies_elsewhere_with_the_public_key(
    template: tuple[Path, dict[str, list[str]]], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "accountant"
    elsewhere.mkdir()
    copy = elsewhere / "copy-of-ledger.db"
    shutil.copy(template[0] / DB, copy)
    pub = tmp_path / "kiosk.pub"
    shutil.copy(template[0] / PUBLIC_KEY_FILE, pub)
    result = run_kiosk("ledger", "verify", "--ledger", str(copy), "--public-key", str(pub))
    assert result.returncode == 0, result.stderr
    assert re.search(r"ledger intact: \d+ entries, [2-9] signed checkpoints", result.stdout)
    chain_only = run_kiosk("ledger", "verify", "--ledger", str(copy))
    assert chain_only.returncode == 0, chain_only.stderr
    assert "no public key: chain only" in chain_only.stdout
    assert sorted(p.name for p in elsewhere.iterdir() if not p.name.endswith(("-shm", "-wal"))) == [
        copy.name
    ]
