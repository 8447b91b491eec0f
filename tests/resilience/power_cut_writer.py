"""A ledger writer for the power-cut tests, run as ``python power_cut_writer.py DIR LOG
SECONDS``: journeys (begin, then confirmed / failed / already existed / uncertain, the
uncertain ones settled a few acts later), refusals, payment imports of 1 to 40 lines and
explicit checkpoints, on ``DIR/ledger.db``, with a simulated clock that crosses a Paris
day every few acts (so the daily checkpoint is signed often). It stops by itself after
SECONDS.

After each commit returned it appends to LOG, in one ``write`` then ``fsync``, what the
commit holds: ``E seq kind ref status`` per entry, ``N act_id patient`` per act begun, and
``K head_seq mx_frame salt`` (the WAL's last committed frame and its salt, read from the
``-shm`` wal-index header): the parent knows what was durably committed, and where in
the WAL, before each snapshot it takes.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

from kiosk.billing.chain import ALREADY_EXISTED, CONFIRMED, FAILED, UNCERTAIN
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger, Payment
from kiosk.hardware.nir import with_key

KIOSK_ID = "kiosk-power-cut"
PATIENTS = 400
RPPS = ("10001234567", "10007654321")
OUTCOMES = (CONFIRMED, CONFIRMED, FAILED, ALREADY_EXISTED, UNCERTAIN, CONFIRMED)
DAY0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
ACT_STEP = dt.timedelta(minutes=53)  # a new Paris day every 27 acts or so


def patient_ins(n: int) -> str:
    """Patient ``n`` (0..PATIENTS-1): an INS the sandbox knows the format of."""
    return with_key(f"28005751{n:05d}")


def consent(rpps: str) -> ConsentRecord:
    return ConsentRecord("v1", "ab" * 32, True, True, False, False, "fr", rpps)


class Journal:
    """The fsynced record of what each commit held."""

    def __init__(self, book: Ledger, log: Path) -> None:
        self.book = book
        self.fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.shm = book.path.with_name(book.path.name + "-shm")
        self.logged = 0
        self.patients: list[tuple[str, int]] = []

    def committed(self) -> None:
        lines = []
        for seq, kind, ref, status in self.book._conn.execute(
            "SELECT seq, kind, ref, status FROM entries WHERE seq > ? ORDER BY seq",
            (self.logged,),
        ):
            lines.append(f"E {seq} {kind} {ref} {status}")
            self.logged = int(seq)
        lines += [f"N {act_id} {patient}" for act_id, patient in self.patients]
        self.patients.clear()
        with open(self.shm, "rb") as shm:
            header = shm.read(48)
        mx_frame = int.from_bytes(header[16:20], sys.byteorder)
        lines.append(f"K {self.logged} {mx_frame} {header[32:40].hex()}")
        os.write(self.fd, ("\n".join(lines) + "\n").encode())
        os.fsync(self.fd)


def run(state: Path, log: Path, seconds: float) -> None:
    book = Ledger(state / "ledger.db", load_or_create_keys(state, KIOSK_ID))
    journal = Journal(book, log)
    uncertain: list[str] = []
    stop = time.monotonic() + seconds
    n = 0
    while time.monotonic() < stop:
        at = DAY0 + n * ACT_STEP
        rpps = RPPS[n % 2]
        patient = (n * 7) % PATIENTS
        if n % 13 == 12:
            book.record_refusal("DMP_OPEN", rpps, consent(rpps), at=at)
            journal.committed()
        else:
            act_id = book.begin("DMP_OPEN", rpps, patient_ins(patient), consent(rpps), at=at)
            journal.patients.append((act_id, patient))
            journal.committed()
            outcome = OUTCOMES[n % len(OUTCOMES)]
            book.finish(act_id, outcome, at=at + dt.timedelta(seconds=40))
            journal.committed()
            if outcome == UNCERTAIN:
                uncertain.append(act_id)
        if len(uncertain) > 2:  # a later TD0.2 settles an uncertain act
            book.finish(uncertain.pop(0), CONFIRMED, at=at + dt.timedelta(minutes=2))
            journal.committed()
        if n % 7 == 3:
            lines = 1 + (n * 11) % 40
            book.import_payments(
                [
                    Payment("2026-04-15", f"PAY-{n:06d}-{line:02d}", 100 + line,
                            "2026-01-01", "2026-03-31")
                    for line in range(lines)
                ],
                at=at + dt.timedelta(minutes=5),
            )  # fmt: skip
            journal.committed()
        if n % 17 == 16:  # `kiosk ledger checkpoint`, by hand, the same day
            book.checkpoint(at + dt.timedelta(minutes=10))
            journal.committed()
        n += 1
    book.close()


if __name__ == "__main__":
    run(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]))
