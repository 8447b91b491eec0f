"""Card-layer benchmark: our Vitale read vs a bare pyscard loop, and insertion latency.

Prints one JSON object. Both sides of each comparison run in the same process, against
the same emulator, interleaved, so the ratio holds on a shared machine:

- ``vitale_read``: ``read_vitale`` on an open connection (holder + 4 dependants) vs
  ``scard.SCardTransmit`` replaying exactly the APDUs it sent (the floor of docs/architecture.md §4:
  the bare APDU loop). Target: ratio ≤ 1.3.
- ``card_read_cli_path``: ``read_card("patient")`` (context, role by ATR, connect, read)
  vs bare establish + connect + the same APDUs.
- ``insertion``: time from the emulator's connection to our ``CardMonitor`` event vs a
  bare ``SCardGetStatusChange`` loop watching the same insertion. Insertions happen at
  a random moment, as a person's would; pcscd polls vpcd every 400 ms, which is the
  bulk of both figures. Target: median ≤ 300 ms.

Usage: python bench/bench_cards.py [--reads N] [--insertions N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from smartcard import scard

from kiosk.hardware.apdu import Channel
from kiosk.hardware.card_reading import read_card
from kiosk.hardware.pcsc import CardEvent, CardMonitor, PcscContext
from kiosk.hardware.vitale import read_vitale
from kiosk.sim.emulators.profiles import load_emulator
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
from kiosk.sim.pcscd import ensure_pcscd

ROOT = Path(__file__).resolve().parent.parent
PROFILE = ROOT / "kiosk" / "sim" / "data" / "cards" / "vitale-famille-martin.json"
READER = "Virtual PCD 00 00"


class Recorder:
    def __init__(self, inner: Channel) -> None:
        self.inner = inner
        self.sent: list[bytes] = []

    def transmit_raw(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.inner.transmit_raw(apdu)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 3),
        "n": len(ordered),
    }


def bare_connect(context: int) -> tuple[int, int]:
    hresult, hcard, protocol = scard.SCardConnect(
        context, READER, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
    return hcard, protocol


def bare_loop(hcard: int, protocol: int, apdus: list[list[int]]) -> None:
    for apdu in apdus:
        hresult, _response = scard.SCardTransmit(hcard, protocol, apdu)
        assert hresult == scard.SCARD_S_SUCCESS


def bench_reads(n: int) -> dict[str, Any]:
    context = PcscContext()
    with context.connect(READER) as connection:
        recorder = Recorder(connection)
        read_vitale(recorder)
        apdus = [list(a) for a in recorder.sent]
        ours, bare = [], []
        hcard, protocol = bare_connect(context.handle)
        for _ in range(n):
            t = time.perf_counter()
            read_vitale(connection)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            bare_loop(hcard, protocol, apdus)
            bare.append(time.perf_counter() - t)
        scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)
    full_ours, full_bare = [], []
    for _ in range(max(10, n // 4)):
        t = time.perf_counter()
        read_card("patient")
        full_ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        _, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        hcard, protocol = bare_connect(ctx)
        bare_loop(hcard, protocol, apdus)
        scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)
        scard.SCardReleaseContext(ctx)
        full_bare.append(time.perf_counter() - t)
    context.close()
    o, b = summary(ours), summary(bare)
    fo, fb = summary(full_ours), summary(full_bare)
    return {
        "vitale_read": {
            "apdus": len(apdus),
            "ours": o,
            "bare_pyscard_loop": b,
            "ratio": round(o["median_ms"] / b["median_ms"], 3),
            "target_ratio": 1.3,
        },
        "card_read_cli_path": {
            "ours": fo,
            "bare_pyscard": fb,
            "ratio": round(fo["median_ms"] / fb["median_ms"], 3),
        },
    }


class BareWatcher(threading.Thread):
    """The floor: a plain SCardGetStatusChange loop on one reader."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        _, self.context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        self.seen: list[float] = []
        self.stop = False

    def run(self) -> None:
        state = scard.SCARD_STATE_UNAWARE
        while not self.stop:
            hresult, states = scard.SCardGetStatusChange(self.context, 200, [(READER, state)])
            if hresult != scard.SCARD_S_SUCCESS:
                continue
            _name, new, _atr = states[0]
            if new & scard.SCARD_STATE_PRESENT and not state & scard.SCARD_STATE_PRESENT:
                self.seen.append(time.monotonic())
            state = new & ~scard.SCARD_STATE_CHANGED


def bench_insertion(n: int) -> dict[str, Any]:
    emulator = load_emulator(PROFILE)
    events: list[CardEvent] = []
    monitor = CardMonitor(lambda e: events.append(e) if e.inserted else None, poll_ms=200)
    monitor.start()
    bare = BareWatcher()
    bare.start()
    time.sleep(0.5)
    ours_lat, bare_lat = [], []
    rng = random.Random(7)
    for _ in range(n):
        events.clear()
        bare.seen.clear()
        time.sleep(rng.uniform(0.0, 0.4))  # a person does not insert in step with pcscd
        inserted_at = time.monotonic()
        card = VpcdCard(emulator, slot_port(0)).insert()
        deadline = time.monotonic() + 3
        while (not events or not bare.seen) and time.monotonic() < deadline:
            time.sleep(0.001)
        if events and bare.seen:
            ours_lat.append(events[0].at - inserted_at)
            bare_lat.append(bare.seen[0] - inserted_at)
        card.pull()
        time.sleep(0.5)  # let pcscd see the removal
    monitor.stop()
    bare.stop = True
    o, b = summary(ours_lat), summary(bare_lat)
    return {
        "insertion": {
            "ours_monitor": o,
            "bare_getstatuschange": b,
            "overhead_ms": round(o["median_ms"] - b["median_ms"], 3),
            "target_median_ms": 300,
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--insertions", type=int, default=30)
    args = parser.parse_args()
    daemon = ensure_pcscd()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "cards", "emulate", str(PROFILE), "--reader", "0"],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while PcscContext().card_atrs().get(READER) is None:
            if time.monotonic() > deadline:
                raise SystemExit("the emulated card did not appear")
            time.sleep(0.05)
        result: dict[str, Any] = {"bench": "cards", **bench_reads(args.reads)}
    finally:
        emulator.terminate()
        emulator.wait(5)
    time.sleep(0.6)
    result.update(bench_insertion(args.insertions))
    daemon.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
