"""What the service user may do with a file, judged from its owner, group and mode bits.

Doctor runs as root (``sudo kiosk doctor``), and root may read and write anything:
``os.access`` and a successful ``open`` say nothing of what ``kiosk.service`` (``User=``
:data:`SERVICE_USER`) will be allowed. So when that user exists here, access is judged
for it: its uid, its primary group and the groups that list it in ``/etc/group`` (the
unit's supplementary groups: systemd calls ``initgroups`` for ``User=``), against the
file's owner bits when it owns the file, else the group bits when it is in the file's
group, else the other bits, as the kernel does. Each directory above the file must let it
through (search). POSIX ACLs are not read: the kiosk's files use none. When the user does
not exist (a development machine), the caller's own access is what can be said.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

SERVICE_USER = "kiosk"
READ, WRITE, SEARCH = os.R_OK, os.W_OK, os.X_OK  # 4, 2, 1: the order of the mode bits
_VERBS = {READ: "read", WRITE: "write", SEARCH: "enter"}


def service_user(name: str | None = None) -> pwd.struct_passwd | None:
    """The service user (:data:`SERVICE_USER` unless ``name``), None when it does not exist."""
    try:
        return pwd.getpwnam(name or SERVICE_USER)
    except KeyError:
        return None


def group_ids(user: pwd.struct_passwd) -> frozenset[int]:
    """The user's primary group and every group listing it as a member."""
    return frozenset({user.pw_gid, *(g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem)})


def allowed(info: os.stat_result, user: pwd.struct_passwd, want: int) -> bool:
    """May ``user`` do ``want`` (READ | WRITE | SEARCH bits) on a file with this stat?"""
    if user.pw_uid == 0:
        return True
    mode = stat.S_IMODE(info.st_mode)
    if info.st_uid == user.pw_uid:
        bits = mode >> 6
    elif info.st_gid in group_ids(user):
        bits = mode >> 3
    else:
        bits = mode
    return bits & want == want


def name_of_user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def name_of_group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def owner_and_mode(info: os.stat_result) -> str:
    """``root:kiosk 0640``."""
    return (
        f"{name_of_user(info.st_uid)}:{name_of_group(info.st_gid)} {stat.S_IMODE(info.st_mode):04o}"
    )


def verbs(want: int) -> str:
    """``read and write``."""
    return " and ".join(verb for bit, verb in _VERBS.items() if want & bit)


def denied(path: Path, user: pwd.struct_passwd | None, want: int) -> str | None:
    """Why ``user`` (None: the caller) cannot ``want`` on ``path``, None when it can (or
    ``path`` does not exist: that is the calling check's to say)."""
    if user is None:
        if not path.exists() or os.access(path, want):
            return None
        return f"{path} ({_stat_text(path)}): {name_of_user(os.geteuid())} cannot {verbs(want)} it"
    try:
        info = path.stat()
    except OSError:
        return None
    for parent in path.absolute().parents:
        try:
            above = parent.stat()
        except OSError:
            continue
        if not allowed(above, user, SEARCH):
            return (
                f"{path}: {user.pw_name} cannot enter {parent} ({owner_and_mode(above)}) above it"
            )
    if not allowed(info, user, want):
        return f"{path} ({owner_and_mode(info)}): {user.pw_name} cannot {verbs(want)} it"
    return None


def _stat_text(path: Path) -> str:
    try:
        return owner_and_mode(path.stat())
    except OSError:
        return "cannot stat"
