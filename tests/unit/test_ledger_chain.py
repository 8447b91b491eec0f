"""chain.py, pure: the hash chain names the first removed, inserted, reordered or altered
entry; the status table allows exactly the documented transitions."""

from __future__ import annotations

import dataclasses
from itertools import product
from typing import Any

import pytest

from kiosk.billing.chain import (
    ALREADY_EXISTED,
    COLUMNS,
    CONFIRMED,
    FAILED,
    GENESIS,
    PENDING,
    RECEIVED,
    REFUSED,
    SEP,
    UNCERTAIN,
    Entry,
    LedgerError,
    canonical,
    check_transition,
    checkpoint_message,
    entry_hash,
    verify_chain,
)

Row = tuple[object, ...]


def make_chain(n: int) -> list[Entry]:
    entries: list[Entry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        payment = seq % 5 == 0
        entry = Entry(
            seq=seq,
            kind="payment" if payment else "act",
            ref=f"ref-{seq // 2:04d}",
            act_code="" if payment else "DMP_OPEN",
            status=RECEIVED if payment else (PENDING if seq % 2 else CONFIRMED),
            amount_cents=4100 if payment else (0 if seq % 2 else 100),
            at_utc=f"2024-03-{1 + seq % 28:02d}T10:00:00.000000Z",
            kiosk_id="kiosk-test",
            rpps="" if payment else "10001234567",
            patient_key="" if payment else f"{seq // 2:064x}",
            consent="" if payment else '{"consent":true}',
            paid_on="2025-04-15" if payment else "",
            period_start="2024-01-01" if payment else "",
            period_end="2024-12-31" if payment else "",
            duplicate_of="",
            prev_hash=prev,
        )
        entry = dataclasses.replace(entry, hash=entry_hash(entry))
        entries.append(entry)
        prev = entry.hash
    return entries


def rows(entries: list[Entry]) -> list[Row]:
    return [tuple(getattr(e, name) for name in COLUMNS) for e in entries]


CHAIN = make_chain(12)


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    verdict = verify_chain(rows(CHAIN))
    assert verdict.ok
    assert verdict.entries == 12
    assert verdict.head == CHAIN[-1].hash
    assert verdict.bad_seq is None


def test_an_empty_chain_is_intact_with_the_genesis_head() -> None:
    verdict = verify_chain([])
    assert (verdict.ok, verdict.entries, verdict.head) == (True, 0, GENESIS)


def test_the_first_entry_must_follow_genesis() -> None:
    first = dataclasses.replace(CHAIN[0], prev_hash="1" * 64)
    first = dataclasses.replace(first, hash=entry_hash(first))
    verdict = verify_chain(rows([first, *CHAIN[1:]]))
    assert not verdict.ok
    assert verdict.bad_seq == 1


@pytest.mark.parametrize("seq", [1, 2, 6, 11])
def test_removal_names_the_missing_seq(seq: int) -> None:
    tampered = [e for e in CHAIN if e.seq != seq]
    verdict = verify_chain(rows(tampered))
    assert not verdict.ok
    assert verdict.bad_seq == seq
    assert verdict.reason == f"entry {seq} is missing"
    assert verdict.entries == seq - 1


def test_removing_the_last_entry_alone_is_not_visible_in_the_chain() -> None:
    """Truncation is caught by the signed checkpoints and derived tables, not here."""
    verdict = verify_chain(rows(CHAIN[:-1]))
    assert verdict.ok
    assert verdict.head == CHAIN[-2].hash


@pytest.mark.parametrize("seq", [1, 5, 12])
def test_renumbered_removal_names_the_entry_that_no_longer_follows(seq: int) -> None:
    """An entry removed and the rest renumbered: the next one names its lost predecessor."""
    kept = [e for e in CHAIN if e.seq != seq]
    renumbered = [dataclasses.replace(e, seq=i) for i, e in enumerate(kept, start=1)]
    verdict = verify_chain(rows(renumbered))
    if seq == 12:
        assert verdict.ok  # the tail: again a matter for the checkpoints
        return
    assert not verdict.ok
    assert verdict.bad_seq == seq


def _forged(after: Entry, seq: int) -> Entry:
    forged = dataclasses.replace(
        after, seq=seq, ref="forged", status=CONFIRMED, amount_cents=100, prev_hash=after.hash
    )
    return dataclasses.replace(forged, hash=entry_hash(forged))


@pytest.mark.parametrize("position", [1, 4, 11])
def test_insertion_with_a_valid_hash_names_the_next_entry(position: int) -> None:
    """A forged entry with a correct hash at seq ``position + 1``, the rest renumbered."""
    forged = _forged(CHAIN[position - 1], position + 1)
    tail = [dataclasses.replace(e, seq=e.seq + 1) for e in CHAIN[position:]]
    verdict = verify_chain(rows([*CHAIN[:position], forged, *tail]))
    assert not verdict.ok
    assert verdict.bad_seq == position + 2
    assert verdict.reason == f"entry {position + 2} does not follow entry {position + 1}"


@pytest.mark.parametrize("position", [1, 4, 11])
def test_insertion_without_renumbering_names_the_displaced_seq(position: int) -> None:
    forged = _forged(CHAIN[position - 1], position + 1)
    verdict = verify_chain(rows([*CHAIN[:position], forged, *CHAIN[position:]]))
    assert not verdict.ok
    assert verdict.bad_seq == position + 2
    assert "out of order" in verdict.reason


def test_insertion_at_the_start_names_entry_one() -> None:
    forged = dataclasses.replace(CHAIN[0], ref="forged")
    forged = dataclasses.replace(forged, hash=entry_hash(forged))
    tail = [dataclasses.replace(e, seq=e.seq + 1) for e in CHAIN]
    verdict = verify_chain(rows([forged, *tail]))
    assert verdict.bad_seq == 2


@pytest.mark.parametrize(("i", "j"), [(0, 1), (3, 4), (2, 9), (10, 11)])
def test_reorder_names_the_first_displaced_seq(i: int, j: int) -> None:
    swapped = list(CHAIN)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    verdict = verify_chain(rows(swapped))
    assert not verdict.ok
    assert verdict.bad_seq == i + 1


@pytest.mark.parametrize(("i", "j"), [(0, 1), (3, 4), (2, 9)])
def test_swapped_contents_with_seqs_kept_name_the_first(i: int, j: int) -> None:
    swapped = list(CHAIN)
    swapped[i] = dataclasses.replace(CHAIN[j], seq=i + 1)
    swapped[j] = dataclasses.replace(CHAIN[i], seq=j + 1)
    verdict = verify_chain(rows(swapped))
    assert not verdict.ok
    assert verdict.bad_seq == i + 1


ALTERATIONS: list[tuple[str, Any]] = [
    ("kind", "payment"),
    ("ref", "ref-9999"),
    ("act_code", "DMP_REACTIVATE"),
    ("status", FAILED),
    ("amount_cents", 1),
    ("at_utc", "2024-03-02T10:00:00.000001Z"),
    ("kiosk_id", "kiosk-other"),
    ("rpps", "10009999999"),
    ("patient_key", "f" * 64),
    ("consent", '{"consent":false}'),
    ("paid_on", "2025-04-16"),
    ("period_start", "2023-01-01"),
    ("period_end", "2025-12-31"),
    ("duplicate_of", "ref-0001"),
    ("hash", "0" * 64),
]


@pytest.mark.parametrize("seq", [1, 6, 12])
@pytest.mark.parametrize(("name", "value"), ALTERATIONS, ids=[a[0] for a in ALTERATIONS])
def test_alteration_of_any_field_names_that_entry(seq: int, name: str, value: Any) -> None:
    tampered = list(CHAIN)
    tampered[seq - 1] = dataclasses.replace(CHAIN[seq - 1], **{name: value})
    verdict = verify_chain(rows(tampered))
    assert not verdict.ok
    assert verdict.bad_seq == seq
    assert verdict.reason == f"entry {seq} was altered"
    assert verdict.entries == seq - 1
    assert verdict.head == (CHAIN[seq - 2].hash if seq > 1 else GENESIS)


@pytest.mark.parametrize("seq", [2, 7])
def test_a_changed_prev_hash_names_the_entry(seq: int) -> None:
    tampered = list(CHAIN)
    tampered[seq - 1] = dataclasses.replace(CHAIN[seq - 1], prev_hash="a" * 64)
    verdict = verify_chain(rows(tampered))
    assert verdict.bad_seq == seq
    assert verdict.reason == f"entry {seq} does not follow entry {seq - 1}"


def test_an_altered_entry_with_a_recomputed_hash_breaks_the_next_one() -> None:
    tampered = list(CHAIN)
    altered = dataclasses.replace(CHAIN[4], amount_cents=999_999)
    tampered[4] = dataclasses.replace(altered, hash=entry_hash(altered))
    verdict = verify_chain(rows(tampered))
    assert verdict.bad_seq == 6


def test_a_separator_in_a_stored_field_is_an_alteration_not_a_crash() -> None:
    tampered = list(CHAIN)
    tampered[2] = dataclasses.replace(CHAIN[2], rpps=f"1000{SEP}1234567")
    verdict = verify_chain(rows(tampered))
    assert verdict.bad_seq == 3
    assert verdict.reason == "entry 3 was altered"


@pytest.mark.parametrize("bad", [("x",), tuple(range(30)), ("nope", *rows(CHAIN)[0][1:])])
def test_an_unreadable_row_is_named(bad: Row) -> None:
    verdict = verify_chain([*rows(CHAIN[:3]), bad])
    assert not verdict.ok
    assert verdict.bad_seq == 4
    assert verdict.reason == "entry 4 is unreadable"


def test_the_seq_is_hashed_and_the_hashes_chain() -> None:
    assert canonical(CHAIN[0]).split(SEP)[0] == "1"
    moved = dataclasses.replace(CHAIN[0], seq=2)
    assert entry_hash(moved) != CHAIN[0].hash
    relinked = dataclasses.replace(CHAIN[1], prev_hash="b" * 64)
    assert entry_hash(relinked) != CHAIN[1].hash


@pytest.mark.parametrize("separator", [SEP, "\x1e"])
def test_canonical_refuses_separators(separator: str) -> None:
    with pytest.raises(LedgerError, match="separator"):
        canonical(dataclasses.replace(CHAIN[0], ref=f"a{separator}b"))


def test_checkpoint_message_binds_every_part() -> None:
    base = checkpoint_message("kiosk-test", "2024-03-01", 12, "a" * 64)
    assert base.startswith(b"borne-dmp-checkpoint")
    others = {
        checkpoint_message("kiosk-other", "2024-03-01", 12, "a" * 64),
        checkpoint_message("kiosk-test", "2024-03-02", 12, "a" * 64),
        checkpoint_message("kiosk-test", "2024-03-01", 13, "a" * 64),
        checkpoint_message("kiosk-test", "2024-03-01", 12, "b" * 64),
    }
    assert base not in others
    assert len(others) == 4


# -- status transitions ----------------------------------------------------------------

STATUSES = [PENDING, CONFIRMED, FAILED, ALREADY_EXISTED, REFUSED, UNCERTAIN, RECEIVED]
ALLOWED = {
    (None, PENDING),
    (None, REFUSED),
    (PENDING, CONFIRMED),
    (PENDING, FAILED),
    (PENDING, ALREADY_EXISTED),
    (PENDING, UNCERTAIN),
    (UNCERTAIN, CONFIRMED),
    (UNCERTAIN, FAILED),
    (UNCERTAIN, ALREADY_EXISTED),
}


@pytest.mark.parametrize(("previous", "status"), list(product([None, *STATUSES], STATUSES)))
def test_check_transition_table(previous: str | None, status: str) -> None:
    if (previous, status) in ALLOWED:
        check_transition(previous, status)
    else:
        with pytest.raises(LedgerError, match=f"to {status}"):
            check_transition(previous, status)
