"""``deploy/install.sh`` and ``deploy/uninstall.sh`` on a scratch root (``--root``, with
``--no-apt``): the kiosk user and its groups, the venv under /opt (built from a copy of
this checkout, its dependencies from the package index through pip's cache), the
directories with their owners and modes, the unit and its enable link, the rules.

Then the kiosk is given a config, certificates and a ledger, and installed again from a
newer version: the venv is replaced (the previous one kept for a rollback) while every
file of /etc/kiosk and /var/lib/kiosk keeps its bytes, mode, owner and mtime. A broken
upgrade changes nothing. Uninstall keeps the data and the user; ``--purge`` removes them.

Runs as root (``useradd --root``, ``chown``), as CI does; no card, no pcscd. Most of its
time is pip installing the dependencies into the two venvs (~15 s each with a warm
cache).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.timeout(1200),
    pytest.mark.skipif(os.geteuid() != 0, reason="install.sh runs as root (useradd, chown)"),
]

CHECKOUT = Path(__file__).resolve().parents[2]
INSTALL = CHECKOUT / "deploy" / "install.sh"
UNINSTALL = CHECKOUT / "deploy" / "uninstall.sh"
NOT_SOURCE = (".git", ".venv", "build", "dist", "out", "*.egg-info", "__pycache__",
              ".*_cache", ".hypothesis")  # fmt: skip
ACCOUNT_FILES = ("passwd", "group", "shadow", "gshadow", "login.defs")
DEVICE_GROUPS = ("video", "render", "input", "audio", "lp", "dialout", "plugdev")
PCSC_POLICY = "usr/share/polkit-1/actions/org.debian.pcsc-lite.policy"


def run(command: list[str | Path], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    venv_bin = str(Path(os.environ.get("VIRTUAL_ENV", "/nonexistent")) / "bin")
    env["PATH"] = ":".join(p for p in env.get("PATH", "").split(":") if p != venv_bin)
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True, text=True, timeout=timeout, env=env, check=False,
        stdin=subprocess.DEVNULL,  # no terminal, as over `ssh host sudo …`
        cwd="/",  # not the checkout, whose borne_dmp.egg-info would be imported
    )  # fmt: skip


def checked(command: list[str | Path], what: str) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    result = run(command)
    print(f"{what}: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}"
    return result


def accounts(root: Path, file: str) -> dict[str, list[str]]:
    lines = (root / "etc" / file).read_text(encoding="utf-8").splitlines()
    return {line.split(":")[0]: line.split(":") for line in lines if line}


def members(root: Path, group: str) -> set[str]:
    return set(filter(None, accounts(root, "group")[group][3].split(",")))


def snapshot(*trees: Path) -> dict[str, tuple[object, ...]]:
    """Every entry's type, mode, owner, mtime and (files) SHA-256."""
    seen: dict[str, tuple[object, ...]] = {}
    for tree in trees:
        for path in [tree, *sorted(tree.rglob("*"))]:
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            seen[str(path)] = (stat.filemode(info.st_mode), info.st_uid, info.st_gid,
                               info.st_mtime_ns, digest)  # fmt: skip
    return seen


def owner_mode(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def write(path: Path, data: bytes, mode: int, uid: int, gid: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chown(path, uid, gid)
    path.chmod(mode)


def installed_version(root: Path) -> str:
    python = root / "opt/borne-dmp/venv/bin/python"
    code = "import importlib.metadata as m; print(m.version('borne-dmp'))"
    return checked([python, "-I", "-c", code], "the venv's version").stdout.strip()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A root with the host's account files (what useradd --root reads and edits),
    /usr/sbin/nologin, and pcscd's polkit policy (as a pcscd built with polkit ships)."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for name in ACCOUNT_FILES:
        shutil.copy2(Path("/etc") / name, root / "etc" / name)
    (root / "usr/sbin").mkdir(parents=True)
    if Path("/usr/sbin/nologin").exists():  # else useradd only warns
        shutil.copy2("/usr/sbin/nologin", root / "usr/sbin/nologin")
    (root / PCSC_POLICY).parent.mkdir(parents=True)
    (root / PCSC_POLICY).write_text("<policyconfig/>\n", encoding="utf-8")
    return root


def test_install_upgrade_uninstall_purge(scratch: Path, tmp_path: Path) -> None:
    root = scratch
    assert "kiosk" not in accounts(root, "passwd")
    source = tmp_path / "source"
    shutil.copytree(CHECKOUT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    first = checked([INSTALL, "--root", root, "--source", source, "--no-apt"], "install (first)")
    assert "--root" not in first.stdout

    # The user, its own group, the device groups that exist, no login.
    user = accounts(root, "passwd")["kiosk"]
    uid, gid = int(user[2]), int(user[3])
    assert 0 < uid < 1000, user  # a system user
    assert accounts(root, "group")["kiosk"][2] == str(gid)
    assert user[5:] == ["/var/lib/kiosk", "/usr/sbin/nologin"], user
    assert accounts(root, "shadow")["kiosk"][1].startswith("!"), "no password"
    host_groups = accounts(Path("/"), "group")
    for group in DEVICE_GROUPS:
        if group in host_groups:
            assert "kiosk" in members(root, group), group
        else:
            assert group not in accounts(root, "group"), f"{group} was created"

    # Directories: owners and modes.
    etc, state = root / "etc/kiosk", root / "var/lib/kiosk"
    assert owner_mode(etc) == (0, gid, 0o750)
    assert owner_mode(etc / "certs") == (0, gid, 0o750)
    assert owner_mode(state) == (uid, gid, 0o700)
    for sub in ("receipts", "kivy", "cache"):
        assert owner_mode(state / sub) == (uid, gid, 0o700), sub
    assert owner_mode(root / "media/kiosk") == (uid, gid, 0o700)
    assert sorted(p.name for p in etc.iterdir()) == ["certs"]  # no config made up

    # The venv behind its symlink, the command, the unit and its enable link, the rules.
    opt = root / "opt/borne-dmp"
    link = os.readlink(opt / "venv")
    assert re.fullmatch(r"venvs/\d[^/]*-\d{8}T\d{6}Z", link), link
    first_version = installed_version(root)
    declared = re.search(r'(?m)^version = "([^"]+)"', (source / "pyproject.toml").read_text())
    assert declared, "no version in pyproject.toml"
    assert first_version == declared.group(1)
    marker = json.loads((opt / "venv/borne-dmp-install.json").read_text(encoding="utf-8"))
    assert marker["version"] == first_version
    # Every module installed compiled (pip does it, whatever PYTHONDONTWRITEBYTECODE):
    # the unit's read-only /opt would otherwise have the kiosk compile itself at each
    # start (180 ms of a cold start here); bench/ measures the kiosk so compiled.
    package = next((opt / "venv").glob("lib/python3*/site-packages/kiosk"))
    sources = {p.relative_to(package).with_suffix("") for p in package.rglob("*.py")}
    compiled = {
        p.relative_to(package).parent.parent / p.name.split(".")[0]
        for p in package.rglob("__pycache__/*.pyc")
    }
    assert sources
    assert sources <= compiled, sorted(map(str, sources - compiled))[:5]
    help_text = checked([opt / "venv/bin/kiosk", "--help"], "kiosk --help").stdout
    assert "run" in help_text
    assert os.readlink(root / "usr/local/bin/kiosk") == "/opt/borne-dmp/venv/bin/kiosk"
    assert (opt / "uninstall.sh").stat().st_mode & 0o111
    unit = root / "etc/systemd/system/kiosk.service"
    assert unit.read_bytes() == (CHECKOUT / "systemd/kiosk.service").read_bytes()
    assert owner_mode(unit) == (0, 0, 0o644)
    wants = root / "etc/systemd/system/multi-user.target.wants/kiosk.service"
    assert os.readlink(wants) == "/etc/systemd/system/kiosk.service"
    printer_rule = root / "etc/udev/rules.d/60-borne-dmp-printer.rules"
    polkit_rule = root / "etc/polkit-1/rules.d/50-borne-dmp-pcscd.rules"
    assert 'GROUP="lp"' in printer_rule.read_text(encoding="utf-8")
    assert 'subject.user == "kiosk"' in polkit_rule.read_text(encoding="utf-8")

    # A provisioned kiosk: config, certificates, ledger and keys, a receipt, Kivy's
    # config; a site drop-in for the unit. Their mtimes set in the past, to be seen.
    write(etc / "kiosk.toml", b'[ledger]\nkiosk_id = "k1"\n', 0o640, 0, gid)
    write(etc / "certs/auth.pem", b"certificate\n", 0o640, 0, gid)
    write(etc / "certs/auth.key", b"private key\n", 0o600, uid, gid)
    write(state / "ledger.db", os.urandom(4096), 0o600, uid, gid)
    write(state / "ledger.secret", os.urandom(32), 0o600, uid, gid)
    write(state / "ledger-signing.key", os.urandom(32), 0o600, uid, gid)
    write(state / "receipts/r1.pdf", b"%PDF-1.4\n", 0o600, uid, gid)
    write(state / "kivy/config.ini", b"[kivy]\n", 0o600, uid, gid)
    dropin = root / "etc/systemd/system/kiosk.service.d/site.conf"
    write(dropin, b"[Service]\nEnvironment=SDL_VIDEO_KMSDRM_NODE=/dev/dri/card1\n", 0o644, 0, 0)
    for path in [*etc.rglob("*"), *state.rglob("*"), etc, state]:
        os.utime(path, (1_700_000_000, 1_700_000_000), follow_symlinks=False)
    data = snapshot(etc, state, dropin)

    # Upgrade to a newer version, in place.
    pyproject = source / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    newer = f"{first_version}.post1"
    pyproject.write_text(
        re.sub(r'(?m)^version = "[^"]+"', f'version = "{newer}"', text, count=1),
        encoding="utf-8",
    )
    time.sleep(1.1)  # venvs are named by the second
    checked([INSTALL, "--root", root, "--source", source, "--no-apt"], "install (upgrade)")
    assert snapshot(etc, state, dropin) == data, "the upgrade touched the kiosk's data"
    assert installed_version(root) == newer
    upgraded = os.readlink(opt / "venv")
    assert upgraded != link
    assert sorted(p.name for p in (opt / "venvs").iterdir()) == sorted(
        [Path(link).name, Path(upgraded).name]
    ), "the previous venv is kept for a rollback, nothing else"
    assert json.loads((opt / "venv/borne-dmp-install.json").read_text())["version"] == newer
    assert owner_mode(etc) == (0, gid, 0o750)
    assert accounts(root, "passwd")["kiosk"] == user  # the same user, not a second one

    # A broken upgrade (a wheel pip cannot install) leaves everything as it was.
    bogus = tmp_path / "borne_dmp-99.0-py3-none-any.whl"
    bogus.write_bytes(b"not a wheel")
    failed = run([INSTALL, "--root", root, "--wheel", bogus, "--no-apt"])
    assert failed.returncode != 0
    assert "installed kiosk is unchanged" in failed.stderr, failed.stderr[-2000:]
    assert os.readlink(opt / "venv") == upgraded
    assert len(list((opt / "venvs").iterdir())) == 2
    assert snapshot(etc, state, dropin) == data

    # Uninstall (the copy installed under /opt): the software goes, the data stays.
    checked([opt / "uninstall.sh", "--root", root], "uninstall")
    for gone in (opt, unit, wants, root / "usr/local/bin/kiosk", printer_rule, polkit_rule):
        assert not os.path.lexists(gone), gone
    assert snapshot(etc, state, dropin) == data, "uninstall touched the kiosk's data"
    assert accounts(root, "passwd")["kiosk"] == user

    # --purge: the data, the drop-in and the user go too.
    checked([UNINSTALL, "--root", root, "--purge", "--yes"], "uninstall --purge")
    for gone in (etc, state, dropin.parent, root / "media/kiosk"):
        assert not gone.exists(), gone
    for file in ("passwd", "group", "shadow", "gshadow"):
        assert "kiosk" not in accounts(root, file), file
    for group in DEVICE_GROUPS:
        if group in host_groups:
            assert "kiosk" not in members(root, group), group


def test_bad_arguments_are_refused(scratch: Path) -> None:
    result = run([INSTALL, "--root", scratch, "--bogus"])
    assert result.returncode == 2
    assert "unknown argument: --bogus" in result.stderr
    result = run([INSTALL, "--root", scratch / "absent", "--no-apt"])
    assert result.returncode == 1
    assert "no such directory" in result.stderr
    result = run([UNINSTALL, "--root", scratch, "--everything"])
    assert result.returncode == 2
    assert not (scratch / "opt").exists()


def test_purge_without_a_terminal_needs_yes(scratch: Path) -> None:
    """`ssh host sudo uninstall.sh --purge`: no terminal to type "purge" in, so nothing is
    deleted without --yes."""
    ledger = scratch / "var/lib/kiosk/ledger.db"
    write(ledger, b"the pharmacy's record\n", 0o600, 0, 0)
    write(scratch / "etc/kiosk/kiosk.toml", b"[ledger]\n", 0o640, 0, 0)
    before = snapshot(scratch)
    result = run([UNINSTALL, "--root", scratch, "--purge"])
    assert result.returncode == 1
    assert "give --yes too" in result.stderr
    assert "nothing removed" in result.stderr
    assert snapshot(scratch) == before
    assert run([UNINSTALL, "--root", scratch, "--purge", "--yes"]).returncode == 0
    assert not ledger.exists()


@pytest.mark.parametrize("sub", ["receipts", "kivy", "cache"])
def test_a_symbolic_link_in_the_state_directory_is_refused(scratch: Path, sub: str) -> None:
    """/var/lib/kiosk is the kiosk user's: a link it made there must not have install.sh
    chown and chmod its target (/etc here) for it."""
    target = scratch / "etc"
    state = scratch / "var/lib/kiosk"
    state.mkdir(parents=True)
    (state / sub).symlink_to(target)
    before = snapshot(target)
    result = run([INSTALL, "--root", scratch, "--no-apt"])
    assert result.returncode == 1, result.stderr
    assert f"{state / sub} is a symbolic link" in result.stderr
    assert snapshot(target) == before
    assert (state / sub).is_symlink()
    assert not (scratch / "opt").exists()  # refused before anything changed
