"""systemd's notify protocol around `kiosk run` itself: a datagram socket stands in for
systemd's (``$NOTIFY_SOCKET``), with a watchdog of 1 s (``$WATCHDOG_USEC``).

READY=1 comes once, after the first frame and the services (the log's ``kiosk.started``
line); WATCHDOG=1 every half interval from the Kivy loop, also while the journey's worker
waits 3 s on a DMP call that does not answer; the pings stop while the autopilot
deliberately blocks the Kivy loop for 3 s, and resume after; STOPPING=1 at the end."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.appliance.journey_report import parse_line
from kiosk.config import load_config
from kiosk.sim.data import JOURNEYS_DIR
from kiosk.sim.demo import demo_config
from kiosk.sim.notify_socket import NotifySocket
from kiosk.sim.sandbox.server import SandboxServer
from tests.conftest import InsertCard, load_profile, run_kiosk

pytestmark = pytest.mark.pcsc

CPS = load_profile("cps-dupont-titulaire.json")
MARTIN = load_profile("vitale-famille-martin.json")
WATCHDOG_USEC = 1_000_000  # pings every 0.5 s
DMP_WAIT = 3.0  # TD1.1 unanswered for this long: the worker is busy, the UI is not
FREEZE = 3.0  # the Kivy loop blocked for this long on the end screen


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    with NotifySocket(tmp_path / "notify.sock") as listener:
        yield listener


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(
        tmp_path / "sandbox", port=0, faults={"create": "timeout"}, fault_delay=DMP_WAIT
    ).start()
    yield server
    server.shutdown()
    server.server_close()


def test_ready_after_the_first_frame_and_a_watchdog_that_only_a_frozen_ui_stops(
    tmp_path: Path, sandbox: SandboxServer, notify: NotifySocket, insert_card: InsertCard
) -> None:
    config = demo_config(tmp_path, sandbox.url, sandbox.pki.root, tmp_path / "out")
    plan = json.loads((JOURNEYS_DIR / "holder-creates.json").read_text(encoding="utf-8"))
    journey = tmp_path / "plan.json"
    journey.write_text(json.dumps({**plan, "cps_pin": CPS["pin"], "freeze_ui": FREEZE}))
    insert_card(CPS, slot=1)
    insert_card(MARTIN, slot=0)
    env = {"DISPLAY": "", "NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": str(WATCHDOG_USEC)}
    result = run_kiosk(
        "run", "--config", str(config), "--autopilot", str(journey),
        "--shots", str(tmp_path / "shots"), env=env, timeout=120,
    )  # fmt: skip
    time.sleep(0.3)  # the last datagrams
    assert json.loads(result.stdout)["outcome"] == "error", result.stderr[-3000:]
    records = [r for r in map(parse_line, result.stderr.splitlines()) if r is not None]

    def logged(name: str, **match: object) -> float:
        (line,) = [
            r for r in records
            if r.get("event") == name and all(r.get(k) == v for k, v in match.items())
        ]  # fmt: skip
        return dt.datetime.fromisoformat(line["ts"]).timestamp()

    (ready,) = notify.when("READY=1")
    assert ready.wall >= logged("kiosk.started") - 0.01  # after the first frame and services
    assert any(state.startswith("STATUS=") for state in ready.states)
    pings = [message.wall for message in notify.when("WATCHDOG=1")]
    gaps = [(later - earlier, earlier) for earlier, later in itertools.pairwise(pings)]

    call = logged("dmp.call", transaction="TD1.1")  # logged when TD1.1 gave up
    # the gaps that start and end while TD1.1 waits (one ping's slack at the end): a ping
    # just before the call gives up may be followed by the end screen's freeze
    during_call = [gap for gap, at in gaps if call - DMP_WAIT <= at and at + gap <= call + 0.6]
    assert during_call, gaps
    assert max(during_call) < 0.9, gaps  # the worker waits, the UI pings

    frozen = [gap for gap, _ in gaps if gap >= FREEZE - 0.2]
    assert len(frozen) == 1, gaps  # the pings stopped while the loop was blocked…
    others = [gap for gap, _ in gaps if gap < FREEZE - 0.2]
    assert max(others) < 0.9, gaps  # …and only then
    assert pings[-1] > max(at + gap for gap, at in gaps if gap in frozen) - 0.01  # resumed
    assert notify.when("STOPPING=1")
    assert len(pings) >= 8


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An Xvfb of our own for a `kiosk run` without autopilot (no display here)."""
    from kiosk.sim.xvfb import ensure_display

    monkeypatch.delenv("DISPLAY", raising=False)
    xvfb = ensure_display()
    assert xvfb is not None
    try:
        yield os.environ["DISPLAY"]  # monkeypatch removes it again
    finally:
        xvfb.terminate()
        xvfb.wait(5)


def test_systemctl_stop_stops_the_kiosk_cleanly(
    tmp_path: Path, sandbox: SandboxServer, notify: NotifySocket, display: str
) -> None:
    """SIGTERM, as `systemctl stop` sends it: SDL would turn it into a window-close
    request, which the kiosk refuses; the kiosk stops within seconds, says STOPPING=1 and
    closes its ledger (SQLite removes the WAL file on a clean close)."""
    config = demo_config(tmp_path, sandbox.url, sandbox.pki.root, tmp_path / "out")
    env = {**os.environ, "DISPLAY": display, "NOTIFY_SOCKET": str(notify.path),
           "KIVY_NO_ARGS": "1"}  # fmt: skip
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not notify.when("READY=1") and time.monotonic() < deadline:
            assert kiosk.poll() is None, kiosk.communicate()[1][-3000:]
            time.sleep(0.05)
        assert notify.when("READY=1")
        ledger = Path(load_config(config).ledger.path)
        assert ledger.with_name(ledger.name + "-wal").exists()  # open, in WAL mode
        sent = time.monotonic()
        kiosk.send_signal(signal.SIGTERM)
        _out, err = kiosk.communicate(timeout=10)
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait()
    assert kiosk.returncode == 0, err[-3000:]
    assert time.monotonic() - sent < 5
    assert notify.when("STOPPING=1")
    assert '"event": "kiosk.stopping"' in err
    assert not ledger.with_name(ledger.name + "-wal").exists()
