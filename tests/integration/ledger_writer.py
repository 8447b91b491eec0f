"""A ledger writer to be killed, and the helpers the ledger integration tests share.

Run as ``python ledger_writer.py acts DIR`` it first resolves the acts a previous (killed)
run left open, as the kiosk does at start-up, prints ``R``, then appends journeys
(begin + finish) and now and then a payment, printing after each commit ``B seq act_id``,
``F seq act_id`` or ``P seq reference``. With ``import DIR TOKEN SIZE`` it imports files
of SIZE payments (references ``TOKEN-<file>-<line>``), printing ``I <file>`` after each.
It runs until killed; every line is flushed once its transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from kiosk.billing.chain import CONFIRMED
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger, Payment

KIOSK_ID = "kiosk-test"
INS_PREFIX = "2990175"  # + 8 digits: 15 characters, like an NIR
PHARMACISTS = ("10001234567", "10007654321")
OUTCOMES = ("confirmed", "confirmed", "failed", "already_existed")


def consent(rpps: str) -> ConsentRecord:
    return ConsentRecord("v1", "ab" * 32, True, True, False, False, "fr", rpps)


def ins(n: int) -> str:
    return f"{INS_PREFIX}{n:08d}"


def open_ledger(state: Path) -> Ledger:
    return Ledger(state / "ledger.db", load_or_create_keys(state, KIOSK_ID))


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def write_acts(state: Path) -> None:
    book = open_ledger(state)
    for act in book.unresolved():
        patient = book.pending_ins(act.act_id)
        assert patient is not None
        assert patient.startswith(INS_PREFIX)
        entry = book.finish(act.act_id, "failed")
        say(f"F {entry.seq} {act.act_id}")
    start = book._conn.execute("SELECT COUNT(*) FROM acts").fetchone()[0]
    say("R")
    n = start
    while True:
        n += 1
        rpps = PHARMACISTS[n % 2]
        act_id = book.begin("DMP_OPEN", rpps, ins(n % 50), consent(rpps))
        seq = book._conn.execute(
            "SELECT last_seq FROM acts WHERE act_id = ?", (act_id,)
        ).fetchone()[0]
        say(f"B {seq} {act_id}")
        entry = book.finish(act_id, OUTCOMES[n % len(OUTCOMES)])
        say(f"F {entry.seq} {act_id}")
        if n % 5 == 0:
            reference = f"PAY-{n:08d}"
            book.import_payments(
                [Payment("2026-04-15", reference, 4100, "2025-01-01", "2025-12-31")]
            )
            seq = book._conn.execute(
                "SELECT seq FROM payments WHERE reference = ?", (reference,)
            ).fetchone()[0]
            say(f"P {seq} {reference}")


def write_imports(state: Path, token: str, size: int) -> None:
    book = open_ledger(state)
    say("R")
    number = 0
    while True:
        batch = [
            Payment("2026-04-15", f"{token}-{number:04d}-{line:04d}", 100 + line,
                    "2025-01-01", "2025-12-31")
            for line in range(size)
        ]  # fmt: skip
        assert book.import_payments(batch) == size
        say(f"I {number}")
        number += 1


# -- for the tests ---------------------------------------------------------------------

DAY0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def build_ledger(state: Path, journeys: int = 20) -> dict[str, list[str]]:
    """About ``2 * journeys + 10`` entries over several Paris days (so several signed
    checkpoints): openings, a duplicate, failures, refusals, an uncertain act resolved,
    one left pending, and payments. Returns act ids by final status."""
    ids: dict[str, list[str]] = {}
    with open_ledger(state) as book:
        for n in range(journeys):
            at = DAY0 + dt.timedelta(days=n // 4, minutes=10 * n)
            rpps = PHARMACISTS[n % 2]
            status = ("confirmed", "confirmed", "failed", "already_existed", "uncertain")[n % 5]
            patient = ins(n if n != 11 else 0)  # patient 0 comes back: a duplicate opening
            act_id = book.begin("DMP_OPEN", rpps, patient, consent(rpps), at=at)
            book.finish(act_id, status, at=at + dt.timedelta(seconds=30))
            if status == "uncertain" and n < journeys - 1:
                book.finish(act_id, CONFIRMED, at=at + dt.timedelta(minutes=3))
                status = CONFIRMED
            ids.setdefault(status, []).append(act_id)
        last = DAY0 + dt.timedelta(days=journeys // 4 + 1)
        for n in range(3):
            ids.setdefault("refused", []).append(
                book.record_refusal("DMP_OPEN", PHARMACISTS[0], consent(PHARMACISTS[0]),
                                    at=last + dt.timedelta(minutes=n))
            )  # fmt: skip
        pending = book.begin("DMP_OPEN", PHARMACISTS[1], ins(99), consent(PHARMACISTS[1]), at=last)
        ids["pending"] = [pending]
        book.import_payments(
            [
                Payment("2026-04-15", f"ROSP-{n}", 4100 + n, "2025-01-01", "2025-12-31")
                for n in range(4)
            ],
            at=last + dt.timedelta(hours=1),
        )
        book.checkpoint(last + dt.timedelta(hours=2))
    return ids


def main(argv: list[str]) -> None:
    mode, state = argv[0], Path(argv[1])
    if mode == "acts":
        write_acts(state)
    elif mode == "import":
        write_imports(state, argv[2], int(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
