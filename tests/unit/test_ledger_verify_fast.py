"""verify_file's fast path against the reference path, over random tampering of a real
ledger file (SQLite in memory): they give the same verdict every time, the fast path
never accepts what the reference refuses (an edited field, the same bytes as a BLOB or a
NULL, a hidden suffix after a NUL, a separator in a field with the hash recomputed, a
removed, reordered or renumbered row, an edited derived table, an edited checkpoint), and
it is the path taken on an intact ledger. The report index is added to an older ledger
opened for writing, and a report without it gives the same figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.billing.chain import (
    ALREADY_EXISTED,
    COLUMNS,
    CONFIRMED,
    FAILED,
    HASHED,
    SEP,
    UNCERTAIN,
    Entry,
    LedgerError,
    entry_hash,
)
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import KioskKeys
from kiosk.billing.ledger import Ledger, Payment
from kiosk.billing.ledger_verify import (
    _fast_chain_and_tables,
    verify_file,
    verify_file_reference,
)
from kiosk.billing.reports import report
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE

KEYS = KioskKeys("kiosk-fast", b"\x05" * 32, Ed25519PrivateKey.generate())
CONSENT = ConsentRecord("2024-06", "ab" * 32, True, False, True, True, "fr", "10001234567")
START = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
PATIENTS = ("180057512345627", "280057512345634", "190122A12345678")


def build(path: Path) -> None:
    """Journeys over four days: confirmed (a duplicate among them), failed, already
    existing, uncertain then confirmed, left pending, a refusal, two payments."""
    with Ledger(path, KEYS) as ledger:
        outcomes = (CONFIRMED, FAILED, ALREADY_EXISTED, CONFIRMED, UNCERTAIN, CONFIRMED)
        for i, outcome in enumerate(outcomes * 2):
            at = START + dt.timedelta(hours=9 * i)
            code = DMP_REACTIVATE if i == 3 else DMP_OPEN
            act = ledger.begin(code, "10001234567", PATIENTS[i % 3], CONSENT, at=at)
            ledger.finish(act, outcome, at=at + dt.timedelta(minutes=1))
            if outcome == UNCERTAIN:
                ledger.finish(act, CONFIRMED, at=at + dt.timedelta(minutes=2))
        ledger.begin(DMP_OPEN, "10007654321", PATIENTS[0], CONSENT, at=START + dt.timedelta(days=4))
        ledger.record_refusal(DMP_OPEN, "10007654321", CONSENT, at=START + dt.timedelta(days=4))
        ledger.import_payments(
            [
                Payment("2024-04-10", "VIR-1", 300, "2024-03-01", "2024-03-31"),
                Payment("2024-05-10", "VIR-2", 100, "2024-04-01", "2024-04-30"),
            ],
            at=START + dt.timedelta(days=5),
        )


class Image(bytes):
    def __repr__(self) -> str:
        return f"<ledger image, {len(self)} bytes>"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    path = tmp_path_factory.mktemp("fast") / "ledger.db"
    build(path)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained image
        return Image(conn.serialize())
    finally:
        conn.close()


def opened(image: bytes) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.deserialize(image)
    conn.execute("DROP TRIGGER IF EXISTS entries_append_only_update")
    conn.execute("DROP TRIGGER IF EXISTS entries_append_only_delete")
    return conn


def count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT MAX(seq) FROM entries").fetchone()[0])


def rehash_from(conn: sqlite3.Connection, seq: int) -> None:
    """An attacker who recomputes every hash from ``seq`` on (the chain then holds)."""
    rows = conn.execute(
        f"SELECT {', '.join(COLUMNS)} FROM entries WHERE seq >= ? ORDER BY seq",
        (seq,),
    ).fetchall()
    previous = conn.execute("SELECT hash FROM entries WHERE seq = ?", (seq - 1,)).fetchone()
    prev = previous[0] if previous else "0" * 64
    for row in rows:
        entry = dataclasses.replace(Entry(*row), prev_hash=prev)
        try:
            digest = entry_hash(entry)
        except LedgerError:  # a separator in a field: hash the bare concatenation
            text = SEP.join(str(getattr(entry, name)) for name in HASHED)
            digest = hashlib.sha256(f"{prev}\x1e{text}".encode()).hexdigest()
        conn.execute(
            "UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row[0])
        )
        prev = digest


Tamper = Callable[[sqlite3.Connection, st.DataObject], None]


def edit_field(conn: sqlite3.Connection, data: st.DataObject) -> None:
    seq = data.draw(st.integers(1, count(conn)), "seq")
    column = data.draw(st.sampled_from(COLUMNS[1:]), "column")
    how = data.draw(
        st.sampled_from(["text", "blob", "null", "nul", "separator", "link", "real", "empty"]),
        "how",
    )
    value = {
        "text": f"{column} || 'x'",
        "blob": f"CAST({column} AS BLOB)",
        "null": "NULL",
        "nul": f"{column} || char(0) || 'hidden'",
        "separator": f"{column} || char(31)",
        "link": f"{column} || char(30)",
        "real": "1.5e20",
        "empty": "x''",
    }[how]
    conn.execute(f"UPDATE entries SET {column} = {value} WHERE seq = ?", (seq,))
    if data.draw(st.booleans(), "rehash") and column not in ("hash", "prev_hash"):
        rehash_from(conn, seq)


def remove_row(conn: sqlite3.Connection, data: st.DataObject) -> None:
    seq = data.draw(st.integers(1, count(conn)), "seq")
    conn.execute("DELETE FROM entries WHERE seq = ?", (seq,))
    if data.draw(st.booleans(), "everywhere"):
        conn.execute("DELETE FROM checkpoints WHERE seq >= ?", (seq,))


def swap_rows(conn: sqlite3.Connection, data: st.DataObject) -> None:
    i = data.draw(st.integers(1, count(conn) - 1), "i")
    j = data.draw(st.integers(i + 1, count(conn)), "j")
    conn.execute("UPDATE entries SET seq = -1 WHERE seq = ?", (i,))
    conn.execute("UPDATE entries SET seq = ? WHERE seq = ?", (i, j))
    conn.execute("UPDATE entries SET seq = ? WHERE seq = -1", (j,))


def renumber(conn: sqlite3.Connection, data: st.DataObject) -> None:
    offset = data.draw(st.sampled_from([-1000, 1000]), "offset")
    seq = data.draw(st.sampled_from([1, count(conn)]), "seq")
    conn.execute("UPDATE entries SET seq = seq + ? WHERE seq = ?", (offset, seq))


def edit_acts(conn: sqlite3.Connection, data: st.DataObject) -> None:
    ids = [r[0] for r in conn.execute("SELECT act_id FROM acts ORDER BY act_id")]
    act = data.draw(st.sampled_from(ids), "act")
    change = data.draw(
        st.sampled_from(
            [
                "status = 'failed'",
                "status = CAST(status AS BLOB)",
                "status = status || char(31)",
                "amount_cents = amount_cents + 1",
                "amount_cents = CAST(amount_cents AS TEXT) || 'x'",
                "amount_cents = 0.5",
                "duplicate_of = 'x' || char(31) || duplicate_of",
                "duplicate_of = NULL",
                "act_id = act_id || 'x'",
                "DELETE",
                "INSERT",
            ]
        ),
        "change",
    )
    if change == "DELETE":
        conn.execute("DELETE FROM acts WHERE act_id = ?", (act,))
    elif change == "INSERT":
        conn.execute(  # OR IGNORE: two tamperings may insert the same act
            "INSERT OR IGNORE INTO acts SELECT act_id || 'y', act_code, status, amount_cents,"
            " opened_utc, day, month, rpps, patient_key, duplicate_of, last_seq FROM acts"
            " WHERE act_id = ?",
            (act,),
        )
    else:
        conn.execute(f"UPDATE acts SET {change} WHERE act_id = ?", (act,))


def edit_payments(conn: sqlite3.Connection, data: st.DataObject) -> None:
    change = data.draw(
        st.sampled_from(
            ["amount_cents = amount_cents + 1", "paid_on = NULL", "reference = 'VIR-9'", "DELETE"]
        ),
        "change",
    )
    if change == "DELETE":
        conn.execute("DELETE FROM payments WHERE reference = 'VIR-1'")
    else:
        conn.execute(f"UPDATE payments SET {change} WHERE reference = 'VIR-1'")


def edit_checkpoint(conn: sqlite3.Connection, data: st.DataObject) -> None:
    days = [r[0] for r in conn.execute("SELECT day FROM checkpoints ORDER BY day")]
    if not days:  # an earlier tamper (remove_row, everywhere) removed them all
        return
    day = data.draw(st.sampled_from(days), "day")
    change = data.draw(
        st.sampled_from(
            [
                "signature = substr(signature, 2) || substr(signature, 1, 1)",
                "head = hash_of_other",
                "seq = seq - 1",
            ]
        ),
        "change",
    )
    if change == "head = hash_of_other":
        conn.execute(
            "UPDATE checkpoints SET head = (SELECT hash FROM entries WHERE seq = 1) WHERE day = ?",
            (day,),
        )
    else:
        conn.execute(f"UPDATE checkpoints SET {change} WHERE day = ?", (day,))


TAMPERS: tuple[Tamper, ...] = (
    edit_field,
    remove_row,
    swap_rows,
    renumber,
    edit_acts,
    edit_payments,
    edit_checkpoint,
)


def test_the_intact_ledger_takes_the_fast_path(image: bytes) -> None:
    conn = opened(image)
    assert _fast_chain_and_tables(conn) is not None
    verdict = verify_file(conn, KEYS.public_key)
    assert verdict.ok, verdict
    assert verdict.checkpoints >= 5, verdict
    assert verdict == verify_file_reference(conn, KEYS.public_key)


def test_acts_in_another_row_order_still_take_the_fast_path(image: bytes) -> None:
    """``acts`` rewritten in another rowid order (the table rebuilt by a repair or an
    older writer): the same rows, so the same verdict, and still the fast path."""
    conn = opened(image)
    conn.execute("CREATE TABLE shuffled AS SELECT * FROM acts ORDER BY act_id DESC")
    conn.execute("DELETE FROM acts")
    conn.execute("INSERT INTO acts SELECT * FROM shuffled")
    order = [r[0] for r in conn.execute("SELECT act_id FROM acts ORDER BY rowid")]
    assert order == sorted(order, reverse=True)  # no longer the chain's order
    assert _fast_chain_and_tables(conn) is not None
    assert verify_file(conn, KEYS.public_key).ok


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), tampers=st.lists(st.sampled_from(TAMPERS), min_size=1, max_size=2))
def test_fast_and_reference_give_the_same_verdict(
    image: bytes, data: st.DataObject, tampers: list[Tamper]
) -> None:
    conn = opened(image)
    for tamper in tampers:
        tamper(conn, data)
    reference = verify_file_reference(conn, KEYS.public_key)
    assert verify_file(conn, KEYS.public_key) == reference
    if _fast_chain_and_tables(conn) is not None:  # the fast path accepts only what holds
        assert verify_file_reference(conn, None).ok, reference


@pytest.mark.parametrize(
    "change",
    [
        "consent = CAST(consent AS BLOB)",  # the same bytes, another type
        "paid_on = NULL",  # '' as NULL: nothing to join
        "consent = consent || char(0) || 'hidden'",  # after a NUL: a C string would stop
    ],
)
def test_an_unchanged_hash_input_with_another_value_is_still_altered(
    image: bytes, change: str
) -> None:
    conn = opened(image)
    conn.execute(f"UPDATE entries SET {change} WHERE seq = 3")
    verdict = verify_file(conn, KEYS.public_key)
    assert not verdict.ok, verdict
    assert "entry 3" in verdict.message, verdict


def test_the_report_index_is_added_to_an_older_ledger_and_not_needed(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    build(path)
    conn = sqlite3.connect(path)
    with_index = [report(conn), report(conn, dt.date(2024, 3, 2), dt.date(2024, 3, 4))]
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT month, status, COUNT(*) FROM acts GROUP BY month, status"
    ).fetchall()
    assert any("idx_acts_report" in str(row) for row in plan), plan
    conn.execute("DROP INDEX idx_acts_report")
    conn.commit()
    without: list[dict[str, Any]] = [
        report(conn),
        report(conn, dt.date(2024, 3, 2), dt.date(2024, 3, 4)),
    ]
    conn.close()
    assert without == with_index
    assert with_index[0]["openings"] > 0, with_index
    assert with_index[1]["by_month"], with_index
    Ledger(path, KEYS).close()  # opened for writing: the index is back
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert "idx_acts_report" in names
