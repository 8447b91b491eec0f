"""What the ledger itself tells about an act whose outcome was lost (a crash between the
``pending`` entry and the outcome), before or instead of asking the service.

- An act with no consent only recorded a DMP that already existed: nothing was ever
  sent for it, so its outcome is known (``already_existed``) without any call.
- An act superseded by a later one: the DMP service opens (or reactivates) a patient's
  DMP once, so a later act of the same patient, which checked the DMP and found it still
  to open, and was confirmed, is the one that did it; the lost call cannot have been,
  and is resolved failed rather than confirmed twice.
"""

from __future__ import annotations

import json
import sqlite3

from kiosk.billing.chain import CONFIRMED, PENDING

_LATER_CONFIRMED = """
SELECT 1 FROM acts AS later JOIN acts AS lost
  ON later.patient_key = lost.patient_key AND later.act_code = lost.act_code
WHERE lost.act_id = :act AND later.act_id != :act AND later.status = :confirmed
  AND (SELECT MIN(seq) FROM entries WHERE ref = later.act_id)
    > (SELECT MIN(seq) FROM entries WHERE ref = :act)
LIMIT 1
"""  # begun later in the chain: the entries' order, not a wall clock that may jump


def confirmed_later(conn: sqlite3.Connection, act_id: str) -> bool:
    """Whether an act begun after ``act_id``, for the same patient and act, is confirmed."""
    row = conn.execute(_LATER_CONFIRMED, {"act": act_id, "confirmed": CONFIRMED}).fetchone()
    return row is not None


def records_an_existing_dmp(conn: sqlite3.Connection, act_id: str) -> bool:
    """Whether ``act_id`` was begun without consent: the record of a DMP found existing
    (a DMP is never opened or reactivated without consent, so nothing was sent)."""
    row = conn.execute(
        "SELECT consent FROM entries WHERE ref = ? AND status = ? ORDER BY seq LIMIT 1",
        (act_id, PENDING),
    ).fetchone()
    if row is None or not row[0]:
        return False
    try:
        record = json.loads(row[0])
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("consent") is False
