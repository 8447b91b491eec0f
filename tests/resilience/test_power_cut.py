"""Power cuts at the storage level: a writer child appends acts, outcomes, payment
imports and checkpoints to a real ledger file (WAL, ``synchronous=FULL``) while the
parent takes images of it, and every image must open with the kiosk's own code, verify
intact, hold every entry whose commit had returned before the image (the writer's fsynced
log says which), keep the INS of each act still open sealed, and be settled by recovery
(TD0.2 against the sandbox over TLS).

Images (``test_power_cut_images_of_the_files``): the three files (``ledger.db``, its
``-wal`` and ``-shm``) copied byte for byte, with the writer stopped (SIGSTOP: the bytes
as they are at one instant) or running (the copy races the writes). A copy sees the page
cache, which a power cut may lose, so each frozen image also gives the images a cut could
leave of the bytes written since the last fsync: the ``-wal`` cut at a frame boundary or
at any byte past the last durable commit, its last partial frame zeroed or scrambled; and
a database page torn as an interrupted checkpoint would leave it (a page whose newer copy
is in the durable part of the WAL). Cutting the WAL inside its fsynced part is no state a
power cut leaves under ``synchronous=FULL``; it is tried too, where it keeps the file
consistent (past the frames already checkpointed), and must still verify.

Block level (``test_power_cut_images_of_a_block_device``): the ledger on an ext4 file
system on a loop device; the image is the loop device's backing file, copied with the
writer stopped (what reached the "disk", without the file system's page cache: a power
cut) or with the file system frozen (``fsfreeze``), then mounted again (ext4 replays its
journal) and checked the same way. Skipped where no loop device can be set up. There is
no device-mapper here (no ``dm-flakey``).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pytest

from kiosk.billing.chain import CONFIRMED, FAILED, PENDING, UNCERTAIN, LedgerError
from kiosk.billing.keys import PUBLIC_KEY_FILE, KioskKeys, load_keys
from kiosk.billing.ledger import Ledger
from kiosk.core.ledger_policy import LedgerPolicy
from kiosk.core.recovery import recover
from kiosk.dmp.client import DmpSession
from kiosk.dmp.models import CertifiedIdentity, Consent, DmpState, DmpStatus
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    PHARMACIST_RPPS,
    CountingSandbox,
    DmpClients,
    Sandboxes,
    dmp_clients_fixture,
    dmp_pki_fixture,
    sandboxes_fixture,
)
from tests.resilience.power_cut_writer import KIOSK_ID, PATIENTS, patient_ins
from tests.resilience.tables import table

WRITER = Path(__file__).with_name("power_cut_writer.py")
ROOT = Path(__file__).resolve().parents[2]
DB, WAL, SHM = "ledger.db", "ledger.db-wal", "ledger.db-shm"
WAL_HEADER, FRAME_HEADER = 32, 24
WRITE_SECONDS = 2.5  # the writer's run; it stops by itself
CLI_SAMPLE = 6  # images also checked by `kiosk ledger verify` in a subprocess
SANDBOX_EVERY = 12  # 1 snapshot in 12 recovered over TLS, the others by the same rule
MIN_IMAGES = 200
OURS = frozenset(range(0, PATIENTS, 2))  # patients whose DMP this pharmacy created


# -- what the writer says it committed ---------------------------------------------------


@dataclass
class Durable:
    """What the writer's log holds: commits that had returned (and the log fsynced)."""

    entries: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # kind, ref, status
    patients: dict[str, int] = field(default_factory=dict)  # act id -> patient
    head: int = 0
    mx_frame: int = 0  # the WAL's last committed frame after the last logged commit
    salt: bytes = b""  # of that WAL generation


def read_log(path: Path) -> Durable:
    durable = Durable()
    if not path.exists():
        return durable
    lines = path.read_text().split("\n")
    complete = max((i for i, line in enumerate(lines) if line.startswith("K ")), default=-1)
    for line in lines[: complete + 1]:
        word = line.split()
        if word[0] == "E":
            durable.entries[int(word[1])] = (word[2], word[3], word[4])
        elif word[0] == "N":
            durable.patients[word[1]] = int(word[2])
        elif word[0] == "K":
            durable.head, durable.mx_frame = int(word[1]), int(word[2])
            durable.salt = bytes.fromhex(word[3])
    return durable


# -- the WAL and wal-index, as SQLite lays them out (https://sqlite.org/fileformat.html) --


@dataclass(frozen=True)
class WalFile:
    page_size: int
    salt: bytes
    frames: int  # complete frames in the file

    def offset(self, frame: int) -> int:
        """Where frame ``frame`` (0-based) starts; ``offset(frames)``: the end."""
        return WAL_HEADER + frame * (FRAME_HEADER + self.page_size)

    def page_of(self, data: bytes, frame: int) -> int:
        start = self.offset(frame)
        return int.from_bytes(data[start : start + 4], "big")


def read_wal(data: bytes) -> WalFile | None:
    if len(data) < WAL_HEADER or data[:4] not in (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83"):
        return None
    page_size = int.from_bytes(data[8:12], "big")
    frames = (len(data) - WAL_HEADER) // (FRAME_HEADER + page_size)
    return WalFile(page_size, data[16:24], frames)


def read_shm(data: bytes) -> tuple[bytes, int, int] | None:
    """(salt, nBackfill, nBackfillAttempted): the WAL generation the index describes, how
    many of its frames are copied into the database file, and up to which frame a
    checkpoint has begun writing there (more than nBackfill: one is under way)."""
    if len(data) < 132:
        return None
    native = sys.byteorder
    return data[32:40], int.from_bytes(data[96:100], native), int.from_bytes(data[128:132], native)


# -- the writer and the images -------------------------------------------------------------


class Writer:
    def __init__(self, state: Path, log: Path, seconds: float) -> None:
        self.state, self.log = state, log
        self.child = subprocess.Popen(
            [sys.executable, str(WRITER), str(state), str(log), str(seconds)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )

    def running(self) -> bool:
        return self.child.poll() is None

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """The writer frozen between two instructions, wherever it was."""
        self.child.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.child.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
        _out, err = self.child.communicate(timeout=10)
        assert self.child.returncode in (0, -signal.SIGKILL), err


def keys_when_ready(state: Path, writer: Writer) -> KioskKeys:
    deadline = time.monotonic() + 20
    while not (state / "ledger.db-wal").exists() or not (state / "ledger.secret").exists():
        assert writer.running(), writer.child.communicate()[1]
        assert time.monotonic() < deadline, "the writer did not start"
        time.sleep(0.01)
    time.sleep(0.05)
    return load_keys(state, KIOSK_ID)


def copy_files(state: Path, image: Path) -> bool:
    """``cp`` of the three files, byte for byte (not SQLite's backup API); False when the
    writer has closed the ledger (its WAL is gone)."""
    image.mkdir()
    try:
        for name in (DB, WAL, SHM):
            with open(state / name, "rb") as source, open(image / name, "wb") as target:
                shutil.copyfileobj(source, target)
    except FileNotFoundError:
        shutil.rmtree(image)
        return False
    shutil.copyfile(state / PUBLIC_KEY_FILE, image / PUBLIC_KEY_FILE)
    return True


@dataclass(frozen=True)
class Image:
    """An image to check: its directory, what was durable when it was taken, and whether
    it is a state a power cut can leave (then nothing durable may be missing)."""

    path: Path
    kind: str
    durable: Durable
    power_cut: bool = True


def variants(image: Path, durable: Durable, rng: random.Random, kind: str) -> Iterator[Image]:
    """The copied image, then what a cut could leave of its unsynced bytes."""
    yield Image(image, f"{kind}: as copied", durable)
    wal_bytes = (image / WAL).read_bytes()
    wal = read_wal(wal_bytes)
    index = read_shm((image / SHM).read_bytes())
    if wal is None or index is None or index[0] != wal.salt:
        return  # no WAL yet, or an index of another generation (never seen frozen)
    backfilled, attempted = index[1], max(index[1], index[2])
    durable_frames = durable.mx_frame if durable.salt == wal.salt else 0
    bound = min(max(attempted, durable_frames), wal.frames)

    def derived(suffix: str, wal_data: bytes, db_page: int | None = None) -> Path:
        target = image.with_name(f"{image.name}-{suffix}")
        shutil.copytree(image, target)
        (target / WAL).write_bytes(wal_data)
        if db_page is not None:
            with open(target / DB, "r+b") as db:
                db.seek((db_page - 1) * wal.page_size)
                torn = wal.page_size // 2
                db.write(bytes(torn) if rng.random() < 0.5 else rng.randbytes(torn))
        return target

    frame = rng.randint(bound, wal.frames)
    yield Image(derived("frame", wal_bytes[: wal.offset(frame)]), f"{kind}: wal cut at a frame",
                durable)  # fmt: skip
    cut = rng.randint(wal.offset(bound), len(wal_bytes))
    torn = bytearray(wal_bytes[:cut])
    partial_start = wal.offset((cut - WAL_HEADER) // (FRAME_HEADER + wal.page_size))
    if partial_start < cut:  # the last partial frame: zeroed or scrambled
        length = cut - partial_start
        torn[partial_start:cut] = bytes(length) if rng.random() < 0.5 else rng.randbytes(length)
    yield Image(derived("torn", bytes(torn)), f"{kind}: wal torn at a byte", durable)
    db_size = (image / DB).stat().st_size // wal.page_size
    pages = [
        page
        for page in (wal.page_of(wal_bytes, f) for f in range(backfilled, bound))
        if page <= db_size
    ]
    if pages:
        yield Image(derived("ckpt", wal_bytes, rng.choice(pages)),
                    f"{kind}: checkpoint torn", durable)  # fmt: skip
    if bound > attempted:  # inside the fsynced part (no power cut leaves this), past
        frame = rng.randint(attempted, bound - 1)  # what a checkpoint wrote to the file
        synced = derived("synced", wal_bytes[: wal.offset(frame)])
        yield Image(synced, f"{kind}: wal cut inside its fsynced part", durable, power_cut=False)


class SandboxRule:
    """TD0.2 as the sandbox answers it (this pharmacy's DMP for even patients, none for
    odd ones), without TLS: recovery through the same ``recover``, for most images."""

    def recovered_identity(self, ins: str) -> CertifiedIdentity:
        return CertifiedIdentity(ins, "", "", "", session_id="rule:recovered")

    def status_of_recovered(self, identity: CertifiedIdentity) -> DmpStatus:
        patient = int(identity.ins[8:13])
        if patient in OURS:
            return DmpStatus(DmpState.EXISTS, authorized=True)
        return DmpStatus(DmpState.NOT_FOUND, authorized=False)


RULE = cast(DmpSession, SandboxRule())


# -- the checks ---------------------------------------------------------------------------


@dataclass
class Tally:
    images: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    lost: int = 0  # images missing an entry committed before them (power-cut states)
    beyond_log: int = 0  # images holding a commit the log did not yet tell
    resolved: Counter[str] = field(default_factory=Counter)
    cli: int = 0
    restarts: int = 0

    def table(self) -> str:
        width = max(map(len, self.images), default=10)
        rows = [f"  {kind:<{width}}  {count:>5}" for kind, count in sorted(self.images.items())]
        return "\n".join(
            [f"  {'image':<{width}}  {'count':>5}", *rows,
             f"  {'total':<{width}}  {sum(self.images.values()):>5}",
             f"refused: {len(self.refused)} {self.refused[:3]}; committed then lost: {self.lost};"
             f" images ahead of the log: {self.beyond_log}; copies spanning a WAL restart:"
             f" {self.restarts}; verified by the CLI: {self.cli};"
             f" recovery: {dict(self.resolved)}"]
        )  # fmt: skip


def cli_verify(image: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "ledger", "verify", "--ledger", str(image / DB)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{image}: {done.stdout}{done.stderr}"
    assert done.stdout.startswith("ledger intact: "), done.stdout
    assert "signed checkpoints" in done.stdout
    return done.stdout


def check(
    image: Image, keys: KioskKeys, session: DmpSession, tally: Tally, *, cli: bool = False
) -> None:
    where = f"{image.kind} ({image.path.name})"
    if cli:
        cli_verify(image.path)
        tally.cli += 1
    try:
        book = Ledger(image.path / DB, keys, create=False, check_keys=True)
    except LedgerError as exc:  # refused: one line naming the file, never a traceback
        message = str(exc)
        assert "\n" not in message, message
        assert str(image.path / DB) in message, message
        tally.refused.append(f"{where}: {message}")
        return
    with book:
        verdict = book.verify()
        assert verdict.ok, f"{where}: {verdict.message}"
        rows = book.read(
            lambda c: c.execute("SELECT seq, kind, ref, status FROM entries").fetchall()
        )
        entries = {int(seq): (kind, ref, status) for seq, kind, ref, status in rows}
        durable = image.durable.entries
        if image.power_cut:
            missing = [seq for seq in durable if entries.get(seq) != durable[seq]]
            tally.lost += bool(missing)
            assert not missing, f"{where}: committed entries {missing[:5]} lost"
        else:  # an older state, but a consistent one: what it holds is what was written
            assert all(durable[s] == e for s, e in entries.items() if s in durable), where
        tally.beyond_log += max(entries, default=0) > image.durable.head
        unresolved = book.unresolved()
        sealed = book.read(lambda c: {r[0] for r in c.execute("SELECT act_id FROM pending_ins")})
        assert sealed == {act.act_id for act in unresolved}, f"{where}: INS kept for {sealed}"
        expected: dict[str, str] = {}
        for act in unresolved:
            assert act.status in (PENDING, UNCERTAIN)
            patient = image.durable.patients.get(act.act_id)
            ins = book.pending_ins(act.act_id)
            assert ins is not None, where
            assert ins.startswith("28005751"), where
            if patient is not None:
                assert ins == patient_ins(patient), where
                expected[act.act_id] = CONFIRMED if patient in OURS else FAILED
        policy = LedgerPolicy(lambda: book)
        assert recover(policy, lambda: session) == len(unresolved), where
        assert book.unresolved() == []
        assert book.read(lambda c: c.execute("SELECT COUNT(*) FROM pending_ins").fetchone()[0]) == 0
        statuses = dict(
            book.read(lambda c: c.execute("SELECT act_id, status FROM acts").fetchall())
        )
        for act_id, status in expected.items():
            assert statuses[act_id] == status, where
        over = "sandbox" if session is not RULE else "rule"
        for act in unresolved:
            tally.resolved[f"{act.status}->{statuses[act.act_id]} ({over})"] += 1
        after = book.verify()
        assert after.ok, f"{where} after recovery: {after.message}"
    tally.images[image.kind] += 1


def check_straddled(image: Path, keys: KioskKeys, tally: Tally) -> None:
    """A live copy during which the WAL was checkpointed and restarted: the database file
    copied before, the WAL after, a mix no disk ever held. It must open or be refused in
    one line, and verify must answer (intact or naming the damage), never raise."""
    try:
        book = Ledger(image / DB, keys, create=False, check_keys=True)
    except LedgerError as exc:
        message = str(exc)
        tally.refused.append(f"live, WAL restarted: {message}")
        assert "\n" not in message, message
        assert str(image / DB) in message, message
        return
    with book:
        verdict = book.verify()
    tally.images[f"live, WAL restarted: {'intact' if verdict.ok else 'damaged'}"] += 1


@pytest.fixture(name="recovery_session")
def recovery_session_fixture(sandboxes: Sandboxes, dmp_clients: DmpClients) -> DmpSession:
    """The sandbox over TLS, holding the DMPs this pharmacy created (even patients)."""
    server: CountingSandbox = sandboxes.start()
    for patient in OURS:
        server.store.create(
            patient_ins(patient), PHARMACIST_RPPS, server.structure_id, Consent(True), None
        )
    return dmp_clients.session(server)


@pytest.fixture(name="scratch")
def scratch_fixture(tmp_path: Path) -> Iterator[Path]:
    """Where the images are checked: a tmpfs when there is one (their fsyncs cost nothing
    there; the writer's ledger stays on the disk, under ``tmp_path``)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    place = Path(tempfile.mkdtemp(prefix="borne-power-cut-", dir=shm))
    try:
        yield place
    finally:
        shutil.rmtree(place, ignore_errors=True)


def test_power_cut_images_of_the_files(
    tmp_path: Path, scratch: Path, recovery_session: DmpSession
) -> None:
    rng = random.Random(0xC0FFEE)
    state, images = tmp_path / "state", scratch / "images"
    state.mkdir()
    images.mkdir()
    writer = Writer(state, tmp_path / "committed.log", WRITE_SECONDS)
    taken: list[tuple[Path, Durable, str]] = []
    try:
        keys = keys_when_ready(state, writer)
        while writer.running():
            time.sleep(rng.uniform(0, 0.012))
            target = images / f"{len(taken):04d}"
            if rng.random() < 0.75:
                with writer.stopped():
                    if not writer.running():
                        break
                    durable = read_log(writer.log)
                    copied = copy_files(state, target)
                if copied:
                    taken.append((target, durable, "frozen"))
            else:
                durable = read_log(writer.log)
                salt = (state / WAL).read_bytes()[16:24] if (state / WAL).exists() else b""
                if not copy_files(state, target):
                    continue
                consistent = (target / WAL).read_bytes()[16:24] == salt
                taken.append((target, durable, "live" if consistent else "live, WAL restarted"))
    finally:
        writer.close()
    tally = Tally()
    started = time.monotonic()
    cli_every = max(1, len(taken) // CLI_SAMPLE)
    for number, (target, durable, kind) in enumerate(taken):
        session = recovery_session if number % SANDBOX_EVERY == 0 else RULE
        if kind == "frozen":
            for image in list(variants(target, durable, rng, kind)):  # all cut before opening
                sample = number % cli_every == 0 and image.kind.endswith("as copied")
                check(image, keys, session, tally, cli=sample)
        elif kind == "live":
            check(Image(target, kind, durable), keys, session, tally)
        else:  # the copy straddled a checkpoint and restart: no state of the disk
            tally.restarts += 1
            check_straddled(target, keys, tally)
    print(f"\npower cuts, file images ({len(taken)} snapshots, checked in"
          f" {time.monotonic() - started:.1f} s):\n{tally.table()}")  # fmt: skip
    cuts = table(
        "power_cuts", f"Power cuts: {len(taken)} snapshots of the ledger files, each image opened",
        "image", "count", "refused (not a ledger)",
    )  # fmt: skip
    for image_kind, count in sorted(tally.images.items()):
        cuts.add(image_kind, count, sum(r.startswith(image_kind) for r in tally.refused))
    cuts.add("**total**", sum(tally.images.values()), len(tally.refused))
    cuts.add(f"committed entries lost: {tally.lost}", "", "")
    cuts.add(f"open acts settled by recovery: {dict(tally.resolved)}", "", "")
    assert sum(tally.images.values()) >= MIN_IMAGES, tally.table()
    assert tally.lost == 0
    # Refused only where the image is no power cut's: a straddled copy, or a WAL cut inside
    # its fsynced part before the first checkpoint (an empty file: not a ledger yet).
    allowed = ("live, WAL restarted", "frozen: wal cut inside its fsynced part")
    assert not [r for r in tally.refused if not r.startswith(allowed)], tally.refused
    assert tally.resolved, "no image had an act left open"
