"""How `kiosk provision` writes a file: atomically (a temporary file in the same directory,
fsynced, renamed over the old one, the directory fsynced), with its mode and, when running
as root, its owner; so a file is either the old one or the new one, never half of it.

A symbolic link is never followed: the state directory is the service user's, so a link
planted there (``code-gate.json`` -> ``/etc/shadow``) would otherwise hand its target to
that user on the next re-provision as root. :func:`refuse_link` names one before anything
is written; an owner and a mode are set through a descriptor opened ``O_NOFOLLOW``; a new
file is a temporary file renamed (or linked) into place, which replaces or refuses a link
but never writes through it."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path


class LinkRefused(OSError):
    """A path that is a symbolic link (or not the kind of file expected) where provision
    writes: its message is the one line the CLI prints."""


@dataclass(frozen=True, slots=True)
class Owners:
    """Who owns what provision writes. ``service`` (uid, gid) owns the secrets and the state
    directory, the config is root's with the service's group; both None when the files stay
    the current user's (not root, or the service user does not exist): ``note`` says why."""

    service: tuple[int, int] | None
    note: str = ""

    @property
    def config_group(self) -> tuple[int, int] | None:
        return (0, self.service[1]) if self.service is not None else None


def resolve_owners(user: str) -> Owners:
    """The service user's ids when we are root and it exists."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        entry = None
    if os.geteuid() != 0:
        return Owners(None, "not run as root: the files belong to the current user")
    if entry is None:
        return Owners(None, f"no user {user!r} here: the files belong to root")
    return Owners((entry.pw_uid, entry.pw_gid))


def group_name(gid: int) -> str:
    with contextlib.suppress(KeyError):
        return grp.getgrgid(gid).gr_name
    return str(gid)


def fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def refuse_link(path: Path, directory: bool = False) -> bool:
    """Whether ``path`` exists, not following a link; a link, or an entry of the wrong kind
    (a directory expected, or a regular file), raises :class:`LinkRefused` naming it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        raise LinkRefused(
            f"{path}: is a symbolic link; provision never writes through one (remove it)"
        )
    expected = stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)
    if not expected:
        kind = "directory" if directory else "regular file"
        raise LinkRefused(f"{path}: not a {kind}")
    return True


def _fix(path: Path, mode: int, owner: tuple[int, int] | None, directory: bool) -> None:
    """Owner and mode set on what ``path`` is, never on what a link points to."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    if directory:
        flags |= os.O_DIRECTORY
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        refuse_link(path, directory)  # a link swapped in: named
        raise exc from None
    try:
        info = os.fstat(descriptor)
        if not (stat.S_ISDIR(info.st_mode) if directory else stat.S_ISREG(info.st_mode)):
            raise LinkRefused(f"{path}: not a {'directory' if directory else 'regular file'}")
        if not directory and info.st_nlink > 1:  # a hard link to a file elsewhere
            raise LinkRefused(f"{path}: has other hard links; provision never changes its owner")
        if owner is not None:
            os.fchown(descriptor, *owner)
        os.fchmod(descriptor, mode)
    finally:
        os.close(descriptor)


def ensure_directory(path: Path, mode: int, owner: tuple[int, int] | None = None) -> None:
    """Create ``path`` (and its parents) with ``mode`` when absent; set the mode and owner.
    ``path`` itself must not be a symbolic link."""
    refuse_link(path, directory=True)
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    _fix(path, mode, owner, directory=True)


def set_owner(path: Path, mode: int, owner: tuple[int, int] | None) -> None:
    """Mode and owner of the regular file ``path`` (a link is refused, never followed)."""
    _fix(path, mode, owner, directory=False)


def _staged(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None) -> str:
    """A temporary file beside ``path`` holding ``data`` (created ``O_EXCL``: never a link)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            os.fchmod(out.fileno(), mode)
            if owner is not None:
                os.fchown(out.fileno(), *owner)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def write_atomic(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> None:
    """Replace ``path`` by ``data`` with ``mode`` (and owner) set before the rename (a
    rename replaces a link, it never writes through it)."""
    temporary = _staged(path, data, mode, owner)
    try:
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def create_atomic(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> None:
    """Create ``path`` holding ``data``, whole or not at all; never replaces what is there
    (a file or a link: ``FileExistsError``), never follows a link."""
    temporary = _staged(path, data, mode, owner)
    try:
        os.link(temporary, path, follow_symlinks=False)
    finally:
        Path(temporary).unlink(missing_ok=True)
    fsync_directory(path.parent)


def same_content(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False
