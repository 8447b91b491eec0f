"""``state_dir``, ``spool``, ``disk``: where the kiosk writes, and the room left there.

The ledger's directory and the receipts' spool belong to the service user (``kiosk``,
when it exists here) and no one else: mode 0700, the ledger's secrets 0600; any group or
other access is a ``fail`` (the secrets pseudonymise patients and sign the ledger; the
ledger file takes the process's umask, the directory keeps it private). Doctor runs as
root, who may read anything: so every file the service opens there (the ledger and its
``-wal``/``-shm``, the secrets, ``code-gate.json``) is judged for the service user's own
access (:mod:`.access`), never the caller's. The
free space of the ledger's file system: under ``FAIL_BELOW`` a ``fail`` (a full disk
stops the ledger, so every act), under ``WARN_BELOW`` a ``warn``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

from kiosk.appliance.doctor.access import (
    READ,
    SEARCH,
    SERVICE_USER,
    WRITE,
    allowed,
    denied,
    name_of_group,
    service_user,
    verbs,
)
from kiosk.appliance.doctor.report import Check, Name, Run, fail, ok, skipped, warn
from kiosk.billing.keys import SECRET_FILE, SIGNING_KEY_FILE
from kiosk.core.code_gate import STATE_FILE as CODE_GATE_FILE

__all__ = ["NAMES", "SERVICE_USER", "directory_check", "disk_check", "probe", "state_files"]
MIB = 1024 * 1024
FAIL_BELOW = 100 * MIB
WARN_BELOW = 1024 * MIB
NAMES = (Name.STATE_DIR, Name.SPOOL, Name.DISK)
# The secrets: created 0600 (billing.keys). The ledger file itself is created with the
# process's umask; the 0700 directory is what keeps it private.
_PRIVATE_FILES = (SECRET_FILE, SIGNING_KEY_FILE)


def probe(run: Run) -> list[Check]:
    if run.config is None:
        return [skipped(name, Name.CONFIG, "no usable config") for name in NAMES]
    ledger = Path(run.config.ledger.path)
    state = ledger.parent
    spool = Path(run.config.kiosk.spool)
    user = service_user()
    return [
        directory_check(
            Name.STATE_DIR, state, user, _PRIVATE_FILES, must_exist=True, used=state_files(ledger)
        ),
        directory_check(Name.SPOOL, spool, user, (), must_exist=False),
        disk_check(state),
    ]


def state_files(ledger: Path) -> dict[str, int]:
    """The files of the state directory the service opens, and what it needs of each: the
    ledger and SQLite's journal files read and write, the secrets and the code gate's
    state read (the gate replaces its file, which needs the directory only)."""
    name = ledger.name
    return {
        name: READ | WRITE,
        f"{name}-wal": READ | WRITE,
        f"{name}-shm": READ | WRITE,
        SECRET_FILE: READ,
        SIGNING_KEY_FILE: READ,
        CODE_GATE_FILE: READ,
    }


def _owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def directory_check(
    name: Name,
    path: Path,
    user: pwd.struct_passwd | None,
    private: tuple[str, ...],
    *,
    must_exist: bool,
    used: Mapping[str, int] | None = None,
) -> Check:
    """``path`` and, inside it, the ``private`` files (no group or other access) and the
    ``used`` ones (name -> READ/WRITE the service needs), judged for ``user`` (None: no
    service user here, the caller's access only)."""
    owner = user.pw_name if user else SERVICE_USER
    make = f"`install -d -m 0700 -o {owner} -g {owner} {path}`"
    try:
        info = path.stat()
    except FileNotFoundError:
        if must_exist:
            return fail(name, f"{path}: no such directory", f"run `kiosk provision`, or {make}")
        return ok(name, f"{path}: absent; the kiosk creates it 0700 at its first receipt")
    except OSError as exc:
        return fail(name, f"{path}: cannot be read ({exc.strerror})", make)
    if not stat.S_ISDIR(info.st_mode):
        return fail(name, f"{path}: not a directory", f"move it away, then {make}")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return fail(
            name, f"{path}: mode {mode:04o}: its group or others can get in", f"`chmod 0700 {path}`"
        )
    loose = [item for item in (path / file for file in private) if _shared(item)]
    if loose:
        listed = ", ".join(f"{item.name} {stat.S_IMODE(item.stat().st_mode):04o}" for item in loose)
        return fail(
            name,
            f"{path}: readable by group or others: {listed}",
            f"`chmod 0600 {' '.join(str(item) for item in loose)}`",
        )
    facts = f"{path}: mode {mode:04o}, owner {_owner_name(info.st_uid)}"
    if user is None:
        if not os.access(path, os.W_OK | os.X_OK):
            return fail(
                name,
                f"{facts}: not writable by {_owner_name(os.geteuid())}",
                f"`chown {_owner_name(os.geteuid())} {path}`",
            )
        return warn(
            name,
            f"{facts}; no `{SERVICE_USER}` user here: the service's owner not checked",
            "on the kiosk, deploy/install.sh creates the kiosk user",
        )
    if info.st_uid != user.pw_uid:
        return fail(
            name,
            f"{facts}: the service runs as {user.pw_name}",
            f"`chown -R {user.pw_name}:{user.pw_name} {path}`",
        )
    way_in = denied(path, user, READ | WRITE | SEARCH)
    if way_in is not None:
        return fail(
            name,
            way_in,
            f"`chmod 0700 {path}`, and let {user.pw_name} through every directory above it"
            " (`chmod o+x DIR`; /var/lib is 0755)",
        )
    group = name_of_group(user.pw_gid)
    blocked = []
    for file, need in (used or {}).items():
        item = path / file
        try:
            info = item.stat()
        except FileNotFoundError:
            continue  # made by the kiosk when it needs it (-wal, -shm, code-gate.json)
        except OSError as exc:
            blocked.append((item, f"{file} (cannot stat: {exc.strerror})"))
            continue
        if not allowed(info, user, need):
            blocked.append(
                (item, f"{file} ({_owner_name(info.st_uid)} {stat.S_IMODE(info.st_mode):04o}:"
                       f" {verbs(need)} refused)")
            )  # fmt: skip
    if blocked:
        files = " ".join(str(item) for item, _ in blocked)
        return fail(
            name,
            f"{facts}; the service user {user.pw_name} cannot use:"
            f" {', '.join(text for _, text in blocked)}",
            f"`chown {user.pw_name}:{group} {files}` and `chmod 0600 {files}`",
        )
    return ok(name, facts)


def _shared(item: Path) -> bool:
    """A file its group or others may read or write."""
    try:
        return item.is_file() and bool(stat.S_IMODE(item.stat().st_mode) & 0o077)
    except OSError:
        return False


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_check(path: Path, fail_below: int = FAIL_BELOW, warn_below: int = WARN_BELOW) -> Check:
    where = _existing(path)
    try:
        usage = shutil.disk_usage(where)
    except OSError as exc:
        return fail(
            Name.DISK,
            f"{where}: cannot read its file system ({exc.strerror})",
            "check the storage (`df -h`, `dmesg`)",
        )
    free = usage.free / MIB
    facts = f"{free:.0f} MiB free of {usage.total / MIB:.0f} MiB on the file system of {where}"
    fix = (
        f"free space: `journalctl --vacuum-size=100M`, `apt-get clean`, remove old files;"
        f" `du -xh {where} | sort -h | tail` shows what is big"
    )
    if usage.free < fail_below:
        return fail(
            Name.DISK, f"{facts}: the ledger cannot write below {fail_below // MIB} MiB", fix
        )
    if usage.free < warn_below:
        return warn(Name.DISK, f"{facts}: under {warn_below // MIB} MiB", fix)
    return ok(Name.DISK, facts)
