"""``ledger`` and ``ledger_unresolved``: the remuneration ledger, read without a write.

The doctor changes nothing: it never creates a ledger or its keys (``Ledger()`` and
``load_or_create_keys`` would), and opens the file read-only. SQLite's ``mode=ro`` still
creates the ``-wal`` and ``-shm`` files of a WAL database and leaves them, so a ledger
without a ``-wal`` (no kiosk has it open, nothing left uncommitted) is read
``immutable``; one with a ``-wal`` (a kiosk running, or a crash) is read ``mode=ro``,
which sees what the WAL holds.

A ledger intact but with entries that no checkpoint has signed for over
``CHECKPOINT_WARN`` is a ``warn``: one checkpoint is signed on the first write of each
day, so a chain head left unsigned that long means the kiosk stopped writing them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.appliance.doctor.report import Check, Name, Run, fail, ok, skipped, warn
from kiosk.billing.chain import PENDING, UNCERTAIN
from kiosk.billing.keys import PUBLIC_KEY_FILE, SECRET_FILE, SIGNING_KEY_FILE, public_key_beside
from kiosk.billing.ledger import unresolved_acts
from kiosk.billing.ledger_verify import verify_file

NAMES = (Name.LEDGER, Name.LEDGER_UNRESOLVED)
CHECKPOINT_WARN = dt.timedelta(days=2)
PROVISION = "run `kiosk provision` (it writes the ledger's secret and signing key)"


def probe(run: Run) -> list[Check]:
    if run.config is None:
        return [skipped(name, Name.CONFIG, "no usable config") for name in NAMES]
    path = Path(run.config.ledger.path)
    state = path.parent
    absent = [name for name in (SECRET_FILE, SIGNING_KEY_FILE) if not (state / name).is_file()]
    if absent:
        why = f"{state}: no {' or '.join(absent)}: this kiosk was not provisioned"
        return [
            fail(Name.LEDGER, why, PROVISION),
            skipped(Name.LEDGER_UNRESOLVED, Name.LEDGER, "no ledger"),
        ]
    if not path.is_file():
        why = f"{path}: no ledger yet (keys present): `kiosk run` creates it when it starts"
        return [
            warn(Name.LEDGER, why, "start the kiosk: `systemctl start kiosk`"),
            ok(Name.LEDGER_UNRESOLVED, "no ledger yet: no act waiting"),
        ]
    try:
        public = public_key_beside(state)
        if public is None:  # present a moment ago (checked above)
            raise FileNotFoundError(f"no {SIGNING_KEY_FILE}")
    except (OSError, ValueError, TypeError) as exc:
        why = f"{state}: the ledger's signing key cannot be read ({exc})"
        return [
            fail(
                Name.LEDGER,
                why,
                f"restore {SIGNING_KEY_FILE} and {PUBLIC_KEY_FILE} from"
                " the kiosk's backup (never make new ones for an existing ledger)",
            ),
            skipped(Name.LEDGER_UNRESOLVED, Name.LEDGER, "ledger unreadable"),
        ]
    try:
        conn = read_only(path)
    except sqlite3.Error as exc:
        return [
            fail(Name.LEDGER, f"{path}: cannot open ({exc})", _DAMAGED),
            skipped(Name.LEDGER_UNRESOLVED, Name.LEDGER, "ledger unreadable"),
        ]
    try:
        try:
            book = ledger_check(conn, path, public, run.now)
        except sqlite3.Error as exc:
            book = fail(
                Name.LEDGER,
                f"{path}: the ledger file is damaged ({exc})",
                _DAMAGED.replace("PATH", str(path)),
            )
        return [book, unresolved_check(conn)]
    finally:
        conn.close()


_DAMAGED = (
    "stop taking acts on this kiosk and keep the file as evidence; `kiosk ledger verify"
    " --ledger PATH` names the first broken entry; restore the ledger from its backup"
)


def read_only(path: Path) -> sqlite3.Connection:
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "immutable=1"
    return sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True, timeout=2)


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _age(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def ledger_check(
    conn: sqlite3.Connection, path: Path, public: Ed25519PublicKey, now: dt.datetime
) -> Check:
    verdict = verify_file(conn, public)
    if not verdict.ok:
        return fail(
            Name.LEDGER,
            f"{path}: NOT intact: {verdict.message}",
            _DAMAGED.replace("PATH", str(path)),
        )
    if verdict.entries == 0:
        return ok(Name.LEDGER, f"{path}: intact, empty (no act yet)")
    facts = f"{path}: intact, {verdict.entries} entries, {verdict.checkpoints} signed checkpoints"
    last = conn.execute(
        "SELECT seq, signed_utc FROM checkpoints ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    covered = int(last[0]) if last else 0
    first_unsigned = conn.execute(
        "SELECT at_utc FROM entries WHERE seq > ? ORDER BY seq LIMIT 1", (covered,)
    ).fetchone()
    if last:
        facts += f", the last signed {_age(now - _utc(last[1]))} ago"
    if first_unsigned and now - _utc(first_unsigned[0]) > CHECKPOINT_WARN:
        since = _utc(first_unsigned[0]).date().isoformat()
        return warn(
            Name.LEDGER,
            f"{facts}; entries since {since} are not signed",
            f"sign the chain head now: `kiosk ledger checkpoint --ledger {path}`",
        )
    return ok(Name.LEDGER, facts)


def unresolved_check(conn: sqlite3.Connection) -> Check:
    try:
        acts = unresolved_acts(conn)
    except sqlite3.Error as exc:
        return skipped(Name.LEDGER_UNRESOLVED, Name.LEDGER, f"acts unreadable ({exc})")
    if not acts:
        return ok(Name.LEDGER_UNRESOLVED, "no act left pending or uncertain")
    pending = sum(act.status == PENDING for act in acts)
    uncertain = sum(act.status == UNCERTAIN for act in acts)
    oldest = min(act.opened_utc for act in acts)[:10]
    return warn(
        Name.LEDGER_UNRESOLVED,
        f"{pending} act(s) pending and {uncertain} uncertain since {oldest} (a crash or a lost"
        " DMP answer): their outcome is not known yet",
        "the pharmacist types the CPS PIN on the admin: recovery resolves them with the DMP"
        " (TD0.2); `kiosk ledger pending` lists them",
    )
