"""Whether the ledger can record a journey before one starts: its file system must be
writable and keep room to spare (a journey writes a few kilobytes, but SQLite's WAL grows
up to its 4 MiB auto-checkpoint before it shrinks). A kiosk that cannot record an act
must not begin one: the patient is told at once, not after typing everything."""

from __future__ import annotations

import os
from pathlib import Path

MIB = 1024 * 1024
ROOM_NEEDED = 8 * MIB  # free bytes on the ledger's file system before a journey starts


def no_room(path: Path, needed: int = ROOM_NEEDED) -> str | None:
    """Why the ledger at ``path`` cannot record a journey now (for the log: no patient
    data in it), or None when it can."""
    where = path.parent
    try:
        fs = os.statvfs(where)
    except OSError as exc:
        return f"its directory cannot be read ({type(exc).__name__})"
    if fs.f_flag & os.ST_RDONLY:
        return "its file system is read-only"
    if not os.access(where, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "it is not writable by the kiosk"
    free = fs.f_bavail * fs.f_frsize
    if free < needed:
        return f"{free // 1024} KiB free on its file system, under {needed // MIB} MiB"
    return None
