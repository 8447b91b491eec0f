"""What the ledger itself tells about an act whose outcome was lost (a crash between the
``pending`` entry and the outcome), before or instead of asking the service.

- An act with no consent only recorded a DMP that already existed: nothing was ever
  sent for it, so its outcome is known (``already_existed``) without any call.
- An act superseded by a later one: a later act of the same patient was confirmed. That
  act checked the DMP after this one began and found it still to open (or closed, to
  reactivate), so this call did not leave it open and ours, and TD0.2's "exists, ours"
  may be the later act's doing: it is not claimed, and is resolved failed.

Each act's pending entry is found by walking back from its last entry on the chain's
primary key (the two are close: an outcome follows its pending entry), never by a scan
of the entries: recovery runs at every start-up, on ledgers of a million entries.
"""

from __future__ import annotations

import json
import sqlite3

from kiosk.billing.chain import CONFIRMED, PENDING

_BEGUN = (
    "(SELECT seq FROM entries WHERE seq <= {act}.last_seq AND ref = {act}.act_id"
    " AND status = :pending ORDER BY seq DESC LIMIT 1)"
)
_PENDING_ENTRY = f"""
SELECT e.seq, e.consent FROM acts AS lost JOIN entries AS e ON e.seq = {_BEGUN.format(act="lost")}
WHERE lost.act_id = :act
"""  # noqa: S608 - no value in the text
_LATER_CONFIRMED = f"""
SELECT 1 FROM acts AS lost JOIN acts AS later ON later.patient_key = lost.patient_key
WHERE lost.act_id = :act AND later.act_id != :act AND later.status = :confirmed
  AND later.last_seq > :begun AND {_BEGUN.format(act="later")} > :begun
LIMIT 1
"""  # noqa: S608 - begun later in the chain: the entries' order, not a clock that may jump


def _pending_entry(conn: sqlite3.Connection, act_id: str) -> tuple[int, str] | None:
    row = conn.execute(_PENDING_ENTRY, {"act": act_id, "pending": PENDING}).fetchone()
    return None if row is None else (int(row[0]), str(row[1] or ""))


def confirmed_later(conn: sqlite3.Connection, act_id: str) -> bool:
    """Whether an act of the same patient (either act code), begun after ``act_id``, is
    confirmed."""
    found = _pending_entry(conn, act_id)
    if found is None:
        return False
    values = {"act": act_id, "begun": found[0], "confirmed": CONFIRMED, "pending": PENDING}
    return conn.execute(_LATER_CONFIRMED, values).fetchone() is not None


def records_an_existing_dmp(conn: sqlite3.Connection, act_id: str) -> bool:
    """Whether ``act_id`` was begun without consent: the record of a DMP found existing
    (a DMP is never opened or reactivated without consent: the ledger policy, the client
    and the service each refuse it, so nothing was sent)."""
    found = _pending_entry(conn, act_id)
    if found is None or not found[1]:
        return False
    try:
        record = json.loads(found[1])
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("consent") is False
