"""No INS and no name in the ledger file or the logs: the chain holds a per-kiosk HMAC of
the INS, and the INS a pending act needs is kept encrypted until the act is resolved."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from kiosk.billing.chain import LedgerError
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger, Payment
from kiosk.billing.tariffs import TariffError
from tests.conftest import load_profile

AT = dt.datetime(2025, 5, 20, 9, 30, tzinfo=dt.UTC)
RPPS = "10001234567"


def consent() -> ConsentRecord:
    return ConsentRecord("v1", "ab" * 32, True, True, True, False, "fr", RPPS)


def people() -> tuple[list[str], list[str]]:
    """INS and names of the shipped Vitale profiles' beneficiaries (with a NIR)."""
    insses, names = [], []
    for profile in ("vitale-famille-martin.json", "vitale-famille-casanova.json"):
        for person in load_profile(profile)["beneficiaries"]:
            names += [person["last_name"], person["first_name"], person["birth_name"]]
            if person["nir"]:
                insses.append(person["nir"])
    return insses, sorted({n for n in names if len(n) >= 3})


def test_no_ins_and_no_name_in_the_file_or_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    insses, names = people()
    assert len(insses) >= 2
    caplog.set_level(logging.DEBUG)
    keys = load_or_create_keys(tmp_path, "kiosk-test")
    with Ledger(tmp_path / "ledger.db", keys) as book:
        outcomes = ["confirmed", "failed", "already_existed", "uncertain", None]
        for n, ins in enumerate(insses * 2):  # every patient twice: a duplicate too
            act_id = book.begin("DMP_OPEN", RPPS, ins, consent(), at=AT + dt.timedelta(hours=n))
            outcome = outcomes[n % len(outcomes)]
            if outcome:
                book.finish(act_id, outcome, at=AT + dt.timedelta(hours=n, seconds=30))
        open_acts = book.unresolved()
        assert open_acts  # uncertain and pending ones keep their INS, encrypted
        assert {book.pending_ins(a.act_id) for a in open_acts} <= set(insses)
        book.import_payments([Payment("2026-04-15", "ROSP-1", 4100, "2025-01-01", "2025-12-31")])
        book.checkpoint(AT)
        assert book.verify().ok
        # while open: the WAL and the main file together
        live = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*"))
    closed = (tmp_path / "ledger.db").read_bytes()
    for data in (live, closed):
        for ins in insses:
            assert ins.encode() not in data
            assert ins.encode("utf-16-le") not in data
            assert ins[:13].encode() not in data  # not even the NIR without its key
        for name in names:
            assert name.encode() not in data, name
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (*insses, *names):
        assert secret not in logged


def test_the_patient_key_is_an_hmac_per_kiosk(tmp_path: Path) -> None:
    ins = people()[0][0]
    here = load_or_create_keys(tmp_path / "a", "kiosk-a")
    there = load_or_create_keys(tmp_path / "b", "kiosk-b")
    assert re.fullmatch(r"[0-9a-f]{64}", here.patient_key(ins))
    assert here.patient_key(ins) == here.patient_key(ins)
    assert here.patient_key(ins) != there.patient_key(ins)
    with Ledger(tmp_path / "a" / "ledger.db", here) as book:
        act_id = book.begin("DMP_OPEN", RPPS, ins, consent(), at=AT)
        stored = book._conn.execute("SELECT patient_key FROM entries").fetchone()[0]
        assert stored == here.patient_key(ins)
        assert book._conn.execute("SELECT * FROM pending_ins").fetchone()[0] == act_id


def test_the_pending_ins_is_sealed_to_its_act_and_kiosk(tmp_path: Path) -> None:
    ins = people()[0][0]
    keys = load_or_create_keys(tmp_path, "kiosk-test")
    path = tmp_path / "ledger.db"
    with Ledger(path, keys) as book:
        first = book.begin("DMP_OPEN", RPPS, ins, consent(), at=AT)
        second = book.begin("DMP_OPEN", RPPS, "2990175" + "0" * 8, consent(), at=AT)
        assert book.pending_ins(first) == ins
        # moving a sealed INS to another act does not decrypt
        sealed = book._conn.execute(
            "SELECT nonce, sealed FROM pending_ins WHERE act_id = ?", (first,)
        ).fetchone()
        book._conn.execute(
            "UPDATE pending_ins SET nonce = ?, sealed = ? WHERE act_id = ?", (*sealed, second)
        )
        with pytest.raises(InvalidTag):
            book.pending_ins(second)
    other = load_or_create_keys(tmp_path / "elsewhere", "kiosk-test")
    with Ledger(path, other) as stolen, pytest.raises(InvalidTag):
        stolen.pending_ins(first)
    with Ledger(path, keys) as book:
        book.finish(first, "confirmed", at=AT)
        assert book.pending_ins(first) is None  # resolved: the INS is gone
        assert book._conn.execute(
            "SELECT COUNT(*) FROM pending_ins WHERE act_id = ?", (first,)
        ).fetchone() == (0,)


def test_refused_writes_leave_the_ledger_untouched(tmp_path: Path) -> None:
    keys = load_or_create_keys(tmp_path, "kiosk-test")
    with Ledger(tmp_path / "ledger.db", keys) as book:
        act_id = book.begin("DMP_OPEN", RPPS, "299017500000001", consent(), at=AT)
        count = book.verify().entries
        with pytest.raises(TariffError):
            book.begin("DMP_CLOSE", RPPS, "299017500000001", consent(), at=AT)
        with pytest.raises(TariffError):
            book.begin(
                "DMP_OPEN",
                RPPS,
                "299017500000001",
                consent(),
                at=dt.datetime(2018, 1, 1, tzinfo=dt.UTC),
            )
        with pytest.raises(LedgerError, match="no act"):
            book.finish("0" * 32, "confirmed", at=AT)
        with pytest.raises(LedgerError, match="cannot go from pending to refused"):
            book.finish(act_id, "refused", at=AT)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            book._conn.execute("UPDATE entries SET amount_cents = 1 WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            book._conn.execute("DELETE FROM entries WHERE seq = 1")
        assert book.verify().entries == count
        assert [a.act_id for a in book.unresolved()] == [act_id]


def test_a_new_ledger_and_its_journal_are_for_the_kiosk_alone(tmp_path: Path) -> None:
    """0600 whatever the umask (doctor and the docs expect it; the unit sets 0077 too)."""
    old = os.umask(0o022)
    try:
        with Ledger(tmp_path / "ledger.db", load_or_create_keys(tmp_path, "k")) as book:
            book.begin("DMP_OPEN", "10001234567", "1780575056012", consent())
            modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.glob("ledger.db*")}
    finally:
        os.umask(old)
    assert modes == {"ledger.db": 0o600, "ledger.db-wal": 0o600, "ledger.db-shm": 0o600}
