"""Ledger benchmark: durable appends, report and verify, each against a floor measured in
the same run (docs/architecture.md §4).

Prints one JSON object. Everything runs in this process on files in one temporary
directory, removed at the end:

- ``append``: ``Ledger.begin`` and ``Ledger.finish`` (each one committed, fsynced
  transaction, WAL + ``synchronous=FULL``), interleaved with the floor: a bare
  ``sqlite3`` BEGIN + INSERT of one row + COMMIT into a plain table of another file in the
  same directory, same pragmas. Target: p99 ≤ 2× the floor's p99. Between two journeys
  (a ``begin`` and its ``finish``) the loop calls ``Ledger.checkpoint_wal`` as the
  kiosk's worker does once a journey has ended (``LedgerPolicy.between_patients``),
  untimed in the appends, its own time reported (``between_patients``): the WAL is
  copied back there, every ``WAL_CHECKPOINT_EVERY`` commits, rather than by SQLite's
  automatic checkpoint inside the commit that crosses 1,000 pages (which the floor, a
  page a commit, meets ten times less often).
- ``sizes``: ``reports.report`` and ``ledger_verify.verify_file`` (with the public key, as
  ``kiosk ledger verify`` runs them: a read-only connection) over ledgers of each size.
  Targets at 1M entries: report ≤ 0.5 s, verify ≤ 3× the chain floor. Floors: re-hashing
  a SHA-256 chain of as many hash inputs in pure Python, in memory, the inputs being real
  entries of the ledger measured (``prev_hash``, the link and the canonical fields: the
  same bytes ``verify`` hashes; until 2026-12 it hashed 200-byte strings, ~265 bytes an
  input instead of ~413, which is still printed as ``floor_chain_rehash_200b_s``); and a
  bare SELECT of every entry. Verify and the chain floor alternate, each run
  ``VERIFY_RUNS`` times; ratios are of the medians. ``verify_reference_s``: the reference
  (slow) path :func:`~kiosk.billing.ledger_verify.verify_file_reference` on the same file, once.

The large ledgers are written by the product's own ``begin``/``finish``/
``record_refusal``/``import_payments`` (journeys with refusals, failures, duplicates,
uncertain answers and monthly payments), with ``_transaction`` batching many journeys
into one BEGIN…COMMIT instead of one each: the chain, ``acts``, ``payments``,
``pending_ins`` and ``checkpoints`` are exactly what the kiosk writes, and the bench
asserts ``verify`` says ok. One ledger grows through the sizes, measured at each.

Usage: python bench/bench_ledger.py [--sizes 10000,100000,1000000] [--appends N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import itertools
import json
import os
import random
import sqlite3
import statistics
import string
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.billing.chain import (
    ALREADY_EXISTED,
    CONFIRMED,
    FAILED,
    GENESIS,
    HASHED,
    UNCERTAIN,
)
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import KioskKeys
from kiosk.billing.ledger import Ledger, Payment
from kiosk.billing.ledger_verify import verify_file, verify_file_reference
from kiosk.billing.reports import report
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE

CONSENT = ConsentRecord(
    text_version="2024-06",
    text_sha256=hashlib.sha256(b"consent text v2024-06").hexdigest(),
    consent=True,
    bris_de_glace_allowed=False,
    centre15_allowed=True,
    web_access=True,
    language="fr",
    attested_by="10001234567",
)
PHARMACISTS = ("10001234567", "10007654321", "10009999999")
START = dt.datetime(2023, 1, 2, 7, 30, tzinfo=dt.UTC)
SPAN = dt.timedelta(days=3 * 365)  # the largest ledger spans three years of journeys
BATCH = 5000  # journeys per transaction when building
REPORT_RUNS = 5
VERIFY_RUNS = 3  # verify and the chain floor, alternating
POOL = 4096  # real hash inputs the chain floor cycles through
T = TypeVar("T")
NOTE = (
    "machine has 2 cores; append floor and ours interleaved on the same filesystem; "
    "ledgers built through Ledger.begin/finish batched in large transactions"
)


def make_keys() -> KioskKeys:
    return KioskKeys("bench-kiosk", os.urandom(32), Ed25519PrivateKey.generate())


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "n": len(ordered),
    }


def timed(action: Callable[[], T]) -> tuple[float, T]:
    t = time.perf_counter()
    result = action()
    return time.perf_counter() - t, result


# -- durable appends ------------------------------------------------------------------


class FloorTable:
    """The floor: one plain row committed in WAL with synchronous=FULL."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE floor (id INTEGER PRIMARY KEY, payload TEXT)")
        self.payload = "x" * 200

    def commit_one(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO floor (payload) VALUES (?)", (self.payload,))
        self.conn.execute("COMMIT")


def bench_append(directory: Path, n: int) -> dict[str, Any]:
    rng = random.Random(11)
    floor = FloorTable(directory / "floor.sqlite")
    begins, finishes, floors, betweens = [], [], [], []
    with Ledger(directory / "append.sqlite", make_keys()) as ledger:
        for i in range(n):
            code = DMP_OPEN if rng.random() < 0.9 else DMP_REACTIVATE
            ins = f"{185017512345600 + rng.randrange(n):015d}"
            t = time.perf_counter()
            act_id = ledger.begin(code, PHARMACISTS[i % 3], ins, CONSENT)
            begins.append(time.perf_counter() - t)
            floors.append(timed(floor.commit_one)[0])
            outcome = rng.choices((CONFIRMED, FAILED, ALREADY_EXISTED), (90, 5, 5))[0]
            t = time.perf_counter()
            ledger.finish(act_id, outcome)
            finishes.append(time.perf_counter() - t)
            floors.append(timed(floor.commit_one)[0])
            betweens.append(timed(ledger.checkpoint_wal)[0])  # the journey has ended
        verdict = ledger.verify()
        assert verdict.ok, verdict
        assert verdict.entries == 2 * n, verdict
    floor.conn.close()
    b, f, fl = summary(begins), summary(finishes), summary(floors)
    return {
        "begin": b,
        "finish": f,
        "floor_sqlite_commit": fl,
        "between_patients": summary(betweens),
        "ratio_begin_median": round(b["median_ms"] / fl["median_ms"], 2),
        "ratio_begin_p99": round(b["p99_ms"] / fl["p99_ms"], 2),
        "ratio_finish_median": round(f["median_ms"] / fl["median_ms"], 2),
        "ratio_finish_p99": round(f["p99_ms"] / fl["p99_ms"], 2),
        "target_p99_ratio": 2.0,
        "met": max(b["p99_ms"], f["p99_ms"]) <= 2.0 * fl["p99_ms"],
    }


# -- large ledgers --------------------------------------------------------------------


class BulkLedger(Ledger):
    """The product's ledger, with many journeys per transaction (see :meth:`batch`)."""

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        assert self._conn.in_transaction, "BulkLedger writes only inside batch()"
        yield self._conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


class Builder:
    """Grows one ledger with a realistic mix of journeys, one entry count at a time."""

    def __init__(self, path: Path, keys: KioskKeys, largest: int) -> None:
        self.ledger = BulkLedger(path, keys)
        self.rng = random.Random(7)
        self.step = SPAN / max(1, largest // 2)  # about two entries per journey
        self.clock = START
        self.entries = 0
        self.journeys = 0
        self.month = START.strftime("%Y-%m")
        self.patients = max(1000, largest // 2)

    def _tick(self) -> dt.datetime:
        self.clock += self.step
        return self.clock

    def _maybe_pay(self) -> None:
        """A new month: the previous month's payment arrives (one entry)."""
        month = self.clock.strftime("%Y-%m")
        if month == self.month:
            return
        first = dt.date.fromisoformat(f"{self.month}-01")
        last = dt.date.fromisoformat(f"{month}-01") - dt.timedelta(days=1)
        payment = Payment(
            paid_on=(last + dt.timedelta(days=10)).isoformat(),
            reference=f"VIR-{self.month}",
            amount_cents=self.rng.randrange(1000, 50000),
            period_start=first.isoformat(),
            period_end=last.isoformat(),
        )
        self.entries += self.ledger.import_payments([payment], at=self.clock)
        self.month = month

    def _journey(self, room: int) -> None:
        ledger, rng = self.ledger, self.rng
        at = self._tick()
        rpps = PHARMACISTS[rng.randrange(3)]
        if room == 1 or rng.random() < 0.04:
            ledger.record_refusal(DMP_OPEN, rpps, CONSENT, at=at)
            self.entries += 1
            return
        code = DMP_OPEN if rng.random() < 0.9 else DMP_REACTIVATE
        ins = f"{185017512345600 + rng.randrange(self.patients):015d}"  # some come back
        act_id = ledger.begin(code, rpps, ins, CONSENT, at=at)
        later = at + self.step / 2
        if room >= 3 and rng.random() < 0.01:
            ledger.finish(act_id, UNCERTAIN, at=later)
            ledger.finish(act_id, CONFIRMED, at=later + self.step / 4)
            self.entries += 3
            return
        outcome = rng.choices((CONFIRMED, FAILED, ALREADY_EXISTED), (88, 6, 6))[0]
        ledger.finish(act_id, outcome, at=later)
        self.entries += 2

    def grow_to(self, size: int) -> float:
        """Append journeys until the ledger holds exactly ``size`` entries; seconds."""
        t = time.perf_counter()
        while self.entries < size:
            with self.ledger.batch():
                for _ in range(BATCH):
                    if self.entries >= size:
                        break
                    if size - self.entries > 1:
                        self._maybe_pay()
                    self._journey(size - self.entries)
                    self.journeys += 1
        self.ledger._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count = self.ledger._conn.execute("SELECT MAX(seq) FROM entries").fetchone()[0]
        assert count == size, (count, size)
        return time.perf_counter() - t


def hash_inputs(path: Path, n: int) -> list[str]:
    """Up to :data:`POOL` real entries' canonical fields (what follows ``prev_hash`` and
    the link in a hash input), spread over the ledger."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    fields = ", ".join(HASHED)
    rows = conn.execute(
        f"SELECT format('{chr(0x1F).join(['%s'] * len(HASHED))}', {fields}) FROM entries"
        " WHERE seq % ? = 0 ORDER BY seq",
        (max(1, n // POOL),),
    ).fetchall()
    conn.close()
    return [str(row[0]) for row in rows]


def chain_floor(n: int, pool: list[str]) -> float:
    """Re-hash a SHA-256 chain of ``n`` hash inputs (``pool`` cycled) in pure Python,
    as :func:`~kiosk.billing.chain.entry_hash` builds them; seconds."""
    t = time.perf_counter()
    previous = GENESIS
    for text in itertools.islice(itertools.cycle(pool), n):
        previous = hashlib.sha256(f"{previous}\x1e{text}".encode()).hexdigest()
    return time.perf_counter() - t


def random_pool() -> list[str]:
    """The floor used until 2026-12: 200-byte random strings (shorter than entries)."""
    rng = random.Random(3)
    alphabet = string.ascii_lowercase + string.digits
    return ["".join(rng.choices(alphabet, k=200)) for _ in range(POOL)]


def scan_floor(path: Path) -> float:
    """Read every entry, all columns, and do nothing with them; seconds."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    t = time.perf_counter()
    for _row in conn.execute("SELECT * FROM entries ORDER BY seq"):
        pass
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def measure_size(path: Path, keys: KioskKeys, size: int) -> dict[str, Any]:
    reports = []
    for _ in range(REPORT_RUNS):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # as `kiosk ledger report`
        elapsed, figures = timed(functools.partial(report, conn))
        reports.append(elapsed)
        conn.close()
    assert figures["openings"] > 0, figures
    pool = hash_inputs(path, size)
    verifies, floors = [], []
    for _ in range(VERIFY_RUNS):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # as `kiosk ledger verify`
        elapsed, verdict = timed(functools.partial(verify_file, conn, keys.public_key))
        verifies.append(elapsed)
        conn.close()
        assert verdict.ok, verdict
        assert verdict.entries == size, verdict
        assert verdict.checkpoints > 0, verdict
        floors.append(chain_floor(size, pool))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    reference_s, reference = timed(functools.partial(verify_file_reference, conn, keys.public_key))
    conn.close()
    assert reference == verdict, (reference, verdict)
    verify_s, floor_s = statistics.median(verifies), statistics.median(floors)
    floor_200b_s = chain_floor(size, random_pool())
    select_s = scan_floor(path)
    return {
        "entries": size,
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "report_s": {
            "first": round(reports[0], 4),
            "median": round(statistics.median(reports), 4),
            "n": REPORT_RUNS,
        },
        "verify_s": round(verify_s, 3),
        "verify_runs": VERIFY_RUNS,
        "verify_all_s": [round(v, 3) for v in verifies],
        "verify_reference_s": round(reference_s, 3),
        "checkpoints": verdict.checkpoints,
        "floor_chain_rehash_s": round(floor_s, 3),
        "floor_chain_rehash_all_s": [round(v, 3) for v in floors],
        "floor_hash_input_bytes": round(65 + statistics.mean(map(len, pool)), 1),
        "floor_chain_rehash_200b_s": round(floor_200b_s, 3),
        "floor_select_all_entries_s": round(select_s, 3),
        "ratio_verify_to_chain_floor": round(verify_s / floor_s, 2),
        "ratio_reference_to_chain_floor": round(reference_s / floor_s, 2),
        # Reading every entry through sqlite3, doing nothing: what verify cannot avoid.
        "ratio_select_all_to_chain_floor": round(select_s / floor_s, 2),
        "verify_us_per_entry": round(verify_s / size * 1e6, 2),
    }


def bench_sizes(directory: Path, sizes: list[int]) -> dict[str, Any]:
    keys = make_keys()
    path = directory / "ledger.sqlite"
    builder = Builder(path, keys, max(sizes))
    results = []
    for size in sorted(sizes):
        build_s = builder.grow_to(size)
        results.append({**measure_size(path, keys, size), "build_s": round(build_s, 1)})
    builder.ledger.close()
    out: dict[str, Any] = {"by_size": results}
    smallest, largest = results[0], results[-1]
    if len(results) > 1:
        out["growth"] = {
            "from": smallest["entries"],
            "to": largest["entries"],
            "entries_x": round(largest["entries"] / smallest["entries"], 1),
            "report_x": round(largest["report_s"]["median"] / smallest["report_s"]["median"], 1),
            "verify_x": round(largest["verify_s"] / smallest["verify_s"], 1),
        }
    if largest["entries"] >= 1_000_000:
        out["targets_at_1m"] = {
            "report_s": 0.5,
            "verify_ratio": 3.0,
            "report_met": largest["report_s"]["median"] <= 0.5,
            "verify_met": largest["ratio_verify_to_chain_floor"] <= 3.0,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        directory = Path(tmp)
        result: dict[str, Any] = {"bench": "ledger", "note": NOTE}
        result["append"] = bench_append(directory, args.appends)
        result.update(bench_sizes(directory, sizes))
    result["wall_s"] = round(time.perf_counter() - t, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
