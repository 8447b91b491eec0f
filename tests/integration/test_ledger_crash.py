"""kill -9 a ledger writer at random points, many times: the ledger always opens and
verifies, keeps every entry the writer acknowledged, lists the act whose outcome was lost
as unresolved, and a payment file is imported all or nothing."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk.billing.chain import PENDING
from tests.integration.ledger_writer import INS_PREFIX, open_ledger

WRITER = Path(__file__).with_name("ledger_writer.py")
ITERATIONS, BUDGET_S = 60, 15.0  # at least MIN_ITERATIONS, however slow the machine
MIN_ITERATIONS = 30


def run_and_kill(rng: random.Random, *args: str) -> list[list[str]]:
    """Start the writer, wait for it to be ready, SIGKILL it after a random short delay;
    return the lines it completed (each one acknowledges a commit)."""
    child = subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = []
        while True:
            line = child.stdout.readline()
            assert line, f"the writer died before it was ready: {child.communicate()[1]}"
            lines.append(line)
            if line == "R\n":
                break
        time.sleep(rng.uniform(0, 0.06))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, err
    complete = "".join(lines) + out
    return [line.split() for line in complete.splitlines(keepends=True) if line.endswith("\n")]


def test_kill_9_while_writing_acts_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(0x5EED)
    acknowledged: dict[int, tuple[str, str]] = {}  # seq -> (kind of line, act id / reference)
    caught_between = 0
    started = time.monotonic()
    iteration = 0
    while iteration < ITERATIONS and (
        iteration < MIN_ITERATIONS or time.monotonic() - started < BUDGET_S
    ):
        iteration += 1
        lines = run_and_kill(rng, "acts", str(tmp_path))
        finished = {line[2] for line in lines if line[0] == "F"}
        begun = [line[2] for line in lines if line[0] == "B"]
        for line in lines:
            if line[0] in "BFP":
                acknowledged[int(line[1])] = (line[0], line[2])
        with open_ledger(tmp_path) as book:
            verdict = book.verify()
            assert verdict.ok, f"iteration {iteration}: {verdict.message}"
            assert verdict.entries >= max(acknowledged, default=0)
            entries = {
                seq: (kind, ref, status)
                for seq, kind, ref, status in book._conn.execute(
                    "SELECT seq, kind, ref, status FROM entries"
                )
            }
            for seq, (what, ref) in acknowledged.items():
                assert seq in entries, f"iteration {iteration}: acknowledged entry {seq} lost"
                kind, stored_ref, status = entries[seq]
                assert stored_ref == ref
                assert kind == ("payment" if what == "P" else "act")
                assert (status == PENDING) == (what == "B")
            unresolved = book.unresolved()
            # The writer resolved the earlier leftovers before "R": one act at most is open,
            # the last one begun (acknowledged or not).
            assert len(unresolved) <= 1, unresolved
            last_acked = max((s for s, (w, _r) in acknowledged.items()), default=0)
            for act in unresolved:
                patient = book.pending_ins(act.act_id)
                assert patient is not None
                assert patient.startswith(INS_PREFIX)
                assert act.act_id in begun[-1:] or entries_seq(entries, act.act_id) > last_acked
            if begun and begun[-1] not in finished:
                status = book._conn.execute(
                    "SELECT status FROM acts WHERE act_id = ?", (begun[-1],)
                ).fetchone()[0]
                if status == PENDING:  # the finish did not commit before the kill
                    caught_between += 1
                    assert [a.act_id for a in unresolved] == [begun[-1]]
    assert iteration >= MIN_ITERATIONS
    assert caught_between > 0, "no kill landed between a begin and its finish"
    # A last clean start resolves the leftover, and all is well.
    lines = run_and_kill(rng, "acts", str(tmp_path))
    with open_ledger(tmp_path) as book:
        assert book.verify().ok
        assert len(book.unresolved()) <= 1
    assert any(line[0] == "R" for line in lines)


def entries_seq(entries: dict[int, tuple[str, str, str]], act_id: str) -> int:
    return min(seq for seq, (_kind, ref, _status) in entries.items() if ref == act_id)


def test_kill_9_during_import_payments_is_all_or_nothing(tmp_path: Path) -> None:
    rng = random.Random(0xFACE)
    size = 300
    started = time.monotonic()
    files_seen: dict[str, set[int]] = {}
    for iteration in range(12):
        if iteration >= 6 and time.monotonic() - started > 8:
            break
        token = f"T{iteration:02d}"
        lines = run_and_kill(rng, "import", str(tmp_path), token, str(size))
        acknowledged = {int(line[1]) for line in lines if line[0] == "I"}
        with open_ledger(tmp_path) as book:
            verdict = book.verify()
            assert verdict.ok, verdict.message
            counts: dict[int, int] = {}
            for (reference,) in book._conn.execute(
                "SELECT reference FROM payments WHERE reference LIKE ?", (f"{token}-%",)
            ):
                number = int(reference.split("-")[1])
                counts[number] = counts.get(number, 0) + 1
            chained = book._conn.execute(
                "SELECT COUNT(*) FROM entries WHERE kind = 'payment' AND ref LIKE ?",
                (f"{token}-%",),
            ).fetchone()[0]
        assert set(counts.values()) <= {size}, f"a file was imported in part: {counts}"
        assert acknowledged <= counts.keys()
        assert set(counts) == set(range(len(counts)))  # files in order, none skipped
        assert chained == sum(counts.values())
        files_seen[token] = set(counts)
    assert sum(len(files) for files in files_seen.values()) > 0
