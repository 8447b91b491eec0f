"""The parent's side of the crash tests: the sandbox (its state outlives every kill), the
kiosk process (:mod:`tests.resilience.crash_kiosk`) started, read and SIGKILLed, and the
checks made after each restart: ledger and sandbox agree, nothing stays open, the ledger
verifies, nobody is paid twice."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.billing.keys import PUBLIC_KEY_FILE, load_or_create_keys
from kiosk.billing.ledger import read_only_connection
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE, TariffSchedule
from kiosk.dmp.models import Consent
from kiosk.hardware.nir import with_key
from kiosk.sim.sandbox.pki import load_pharmacy
from kiosk.sim.sandbox.server import SandboxServer
from tests.conftest import ROOT, run_kiosk
from tests.resilience.crash_kiosk import KIOSK_ID

KIOSK = "tests.resilience.crash_kiosk"
STAND_IN_RENDERER = Path(__file__).with_name("crash_renderer.py")
RENDERER = [sys.executable, "-m", "kiosk.documents.render"]
LINE_WAIT = 30.0
DMP_OPEN_CENTS = TariffSchedule().cents(DMP_OPEN, dt.date.today())


def patient(number: int, **extra: object) -> dict[str, Any]:
    """A made-up patient the sandbox knows (any valid NIR); ``number`` keeps them apart."""
    nir = with_key(f"170017512{number:04d}")
    return {
        "id": number,
        "nir": nir,
        "last": f"CRASH{number}",
        "first": "Test",
        "birth": "19700101",
    } | extra


class Hold:
    """A sandbox hook that holds ``operation`` at ``phase`` until released, once; then
    lets it go on (``go_on``) or drops it unanswered."""

    def __init__(self, operation: str, phase: str, go_on: bool) -> None:
        self.at = (operation, phase)
        self.go_on = go_on
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, operation: str, phase: str) -> bool:
        if (operation, phase) != self.at or self.reached.is_set():
            return True
        self.reached.set()
        self.release.wait(LINE_WAIT)
        return self.go_on


class KioskProcess:
    """One run of the kiosk process, its stdout read line by line on a thread; as a
    context manager, SIGKILLed on the way out whatever happened (never left running)."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.child = subprocess.Popen(
            [sys.executable, "-m", KIOSK], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        assert self.child.stdin is not None
        self.child.stdin.write(json.dumps(job))
        self.child.stdin.close()
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, wanted: str, also: threading.Event | None = None) -> str:
        """Read until a line starting with ``wanted`` (or ``also`` is set): that line."""
        deadline = time.monotonic() + LINE_WAIT
        while time.monotonic() < deadline:
            if also is not None and also.is_set():
                return "(sandbox)"
            try:
                line = self.lines.get(timeout=0.02)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the kiosk ended before {wanted!r}: {self.error()}")
            self.seen.append(line)
            if line.startswith(wanted):
                return line
        raise AssertionError(f"no {wanted!r} within {LINE_WAIT} s; saw {self.seen[-5:]}")

    def __enter__(self) -> KioskProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.kill()

    def kill(self) -> None:
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGKILL)
        self.child.wait(10)

    def finish(self) -> list[str]:
        """Wait for a clean end; every line it printed."""
        try:
            while (line := self.lines.get(timeout=LINE_WAIT)) is not None:
                self.seen.append(line)
            assert self.child.wait(LINE_WAIT) == 0, self.error()
        finally:
            self.kill()
        return self.seen

    def drain(self) -> list[str]:
        """After a kill: every line it printed."""
        while (line := self.lines.get(timeout=LINE_WAIT)) is not None:
            self.seen.append(line)
        return self.seen

    def error(self) -> str:
        self.child.wait(10)
        assert self.child.stderr is not None
        return self.child.stderr.read()[-2000:]


@dataclass
class Site:
    """The sandbox the kiosk talks to, and the state directories of the kiosks tried."""

    server: SandboxServer

    def dmp(self) -> dict[str, object]:
        pki = self.server.pki
        return {
            "endpoint": self.server.url, "ca": str(pki.ca), "auth_cert": str(pki.auth),
            "auth_key": str(pki.auth_key), "sign_cert": str(pki.sign),
            "sign_key": str(pki.sign_key), "structure_id": load_pharmacy(pki.root).structure_id,
            "deadline": 10.0,  # a loaded machine's call must not end on the error screen
        }  # fmt: skip

    def job(self, state: Path, mode: str, **extra: object) -> dict[str, Any]:
        return {
            "state": str(state), "mode": mode, "dmp": self.dmp(), "renderer": RENDERER,
        } | extra  # fmt: skip

    def opened_before(self, who: dict[str, Any]) -> None:
        """``who``'s DMP, opened by this pharmacy before this kiosk's ledger began."""
        structure = load_pharmacy(self.server.pki.root).structure_id
        self.server.store.create(who["nir"], "10001234567", structure, Consent(True), None)

    def ours(self) -> set[str]:
        """The INS of every active DMP this pharmacy created or reactivated."""
        structure = load_pharmacy(self.server.pki.root).structure_id
        return {
            d["ins"] for d in self.server.store.list()
            if d["status"] == "active" and d["structure_id"] == structure
        }  # fmt: skip


def statuses(state: Path) -> Counter[str]:
    """The acts' statuses, read without writing (as a power cut left the file)."""
    conn = read_only_connection(state / "ledger.db")
    try:
        return Counter(dict(conn.execute("SELECT status, COUNT(*) FROM acts GROUP BY status")))
    finally:
        conn.close()


def confirmed(state: Path) -> dict[str, list[tuple[str, int]]]:
    """The confirmed acts (duplicates included) by patient key: (act code, amount)."""
    conn = read_only_connection(state / "ledger.db")
    try:
        rows = conn.execute(
            "SELECT patient_key, act_code, amount_cents FROM acts WHERE status = 'confirmed'"
        ).fetchall()
    finally:
        conn.close()
    acts: dict[str, list[tuple[str, int]]] = {}
    for key, code, amount in rows:
        acts.setdefault(key, []).append((code, amount))
    return acts


def verified(state: Path) -> bool:
    """``kiosk ledger verify`` itself, with the kiosk's public key."""
    done = run_kiosk(
        "ledger", "verify", "--ledger", str(state / "ledger.db"),
        "--public-key", str(state / PUBLIC_KEY_FILE),
    )  # fmt: skip
    assert done.returncode in (0, 2, 3), done.stderr
    return done.returncode == 0


def agree(site: Site, state: Path, patients: list[dict[str, Any]]) -> str:
    """Every DMP of these patients that the sandbox holds as ours has exactly one
    confirmed act: an opening paid once, or an (unpaid) reactivation; no other act is
    confirmed. A summary, or an AssertionError naming the patient."""
    keys = load_or_create_keys(state, KIOSK_ID)
    holds = site.ours()
    acts = confirmed(state)
    by_key = {keys.patient_key(p["nir"]): p for p in patients}
    assert acts.keys() <= by_key.keys(), "an act is confirmed for a patient never seen"
    for key, p in by_key.items():
        theirs = acts.get(key, [])
        if p["nir"] not in holds or p.get("ours_before"):  # none, or opened before
            assert not theirs, f"patient {p['id']}: confirmed, but no DMP in the sandbox"
            continue
        wanted = (DMP_REACTIVATE, 0) if p.get("closed") else (DMP_OPEN, DMP_OPEN_CENTS)
        assert theirs == [wanted], f"patient {p['id']}: {theirs}, wanted [{wanted}]"
    paid_acts = sum(amount > 0 for theirs in acts.values() for _code, amount in theirs)
    opened = sum(p["nir"] in holds and not p.get("ours_before") for p in patients)
    return f"{opened} DMP, {paid_acts} paid"


def renderer_alive(pid_file: Path) -> bool:
    """Whether the stand-in renderer whose pid is in ``pid_file`` still runs."""
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, only not yet reaped
        return stat.read().split(")")[-1].split()[0] != "Z"
