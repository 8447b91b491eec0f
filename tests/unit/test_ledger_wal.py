"""The ledger's WAL is copied back into the file between two patients, not inside a
patient's commit: :meth:`Ledger.checkpoint_wal` (due every WAL_CHECKPOINT_EVERY commits)
and :meth:`LedgerPolicy.between_patients`, which runs it once a journey that used the
ledger has ended."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.billing.chain import CONFIRMED
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import KioskKeys
from kiosk.billing.ledger import WAL_CHECKPOINT_EVERY, Ledger
from kiosk.billing.tariffs import DMP_OPEN
from kiosk.core.ledger_policy import LedgerPolicy

KEYS = KioskKeys("kiosk-wal", b"\x07" * 32, Ed25519PrivateKey.generate())
CONSENT = ConsentRecord("2024-06", "ab" * 32, True, False, True, True, "fr", "10001234567")
AT = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


def entries_in_the_file_alone(path: Path, tmp: Path) -> int:
    """The entries a copy of the ledger file holds without its WAL (none: not even the
    tables, which are in the WAL too)."""
    copy = tmp / "alone.db"
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'entries'").fetchone():
            return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])
        return 0
    finally:
        conn.close()


def test_the_wal_is_copied_back_once_due(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Ledger(path, KEYS) as ledger:
        for i in range(WAL_CHECKPOINT_EVERY // 2):  # a journey: two commits
            act = ledger.begin(DMP_OPEN, "10001234567", f"18005751234{i:04d}", CONSENT, at=AT)
            ledger.finish(act, CONFIRMED, at=AT)
            if i < WAL_CHECKPOINT_EVERY // 2 - 1:
                assert not ledger.checkpoint_wal()  # not due yet: nothing copied
        assert entries_in_the_file_alone(path, tmp_path) == 0  # all of it in the WAL
        assert ledger.checkpoint_wal()
        assert entries_in_the_file_alone(path, tmp_path) == WAL_CHECKPOINT_EVERY
        assert not ledger.checkpoint_wal()  # done: due again after as many commits
        assert ledger.verify().ok


class RecordingLedger:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def finish(self, act: str, status: str) -> None:
        self.calls.append(f"finish {act} {status}")

    def checkpoint_wal(self) -> bool:
        self.calls.append("checkpoint_wal")
        return True


def test_between_patients_only_after_a_journey_that_used_the_ledger() -> None:
    ledger = RecordingLedger()
    policy = LedgerPolicy(lambda: ledger)  # type: ignore[arg-type, return-value]
    policy.between_patients()  # a journey that wrote nothing: the ledger is not opened
    assert ledger.calls == []
    policy.finish("act-1", CONFIRMED)
    policy.between_patients()
    policy.between_patients()  # once per journey
    assert ledger.calls == ["finish act-1 confirmed", "checkpoint_wal"]
