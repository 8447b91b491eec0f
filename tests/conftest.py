"""Shared fixtures: pcscd (reused when running, started when absent) and card slots.

Cards are real emulators speaking APDUs over vpcd to the real pcscd; nothing of
pyscard or PC/SC is mocked. Every card a test inserts is pulled at teardown, and the
teardown waits until pcscd sees the reader empty, so tests never leak a card.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kiosk.sim.data import CARDS_DIR
from kiosk.sim.emulators.emulated_card import EmulatedCard
from kiosk.sim.emulators.profiles import emulator_for
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port

ROOT = Path(__file__).resolve().parent.parent
CARDS = CARDS_DIR
READERS = ("Virtual PCD 00 00", "Virtual PCD 00 01")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The resilience tables (step x outcome, fault x outcome, ...) in the CI log."""
    from tests.resilience.tables import write_tables

    for written in write_tables():
        terminalreporter.section(written.title, sep="-")
        terminalreporter.write(written.markdown())


def load_profile(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CARDS / name).read_text(encoding="utf-8"))
    return data


def shipped_profiles(kind: str) -> list[str]:
    return sorted(p.name for p in CARDS.glob(f"{kind}-*.json"))


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class Pcscd:
    """The daemon under test; ``restart`` kills it (whoever started it) and starts ours."""

    def __init__(self) -> None:
        from kiosk.sim.pcscd import ensure_pcscd

        self.handle = ensure_pcscd()

    def kill(self) -> None:
        if self.handle.started_here:
            self.handle.stop()
        else:
            subprocess.run(["pkill", "-x", "pcscd"], check=False)
        from kiosk.sim.pcscd import pcscd_running

        wait_for(lambda: not pcscd_running(), 10, "pcscd to stop")

    def start(self) -> None:
        from kiosk.sim.pcscd import PcscdHandle, start_pcscd

        self.handle = PcscdHandle(start_pcscd())

    def absent(self, reader: str) -> bool:
        return not self.present(reader)

    def present(self, reader: str) -> bool:
        from kiosk.hardware.pcsc import PcscContext

        context = PcscContext()
        try:
            return context.card_atrs().get(reader) is not None
        finally:
            context.close()


@pytest.fixture(scope="session")
def pcscd() -> Iterator[Pcscd]:
    daemon = Pcscd()
    yield daemon
    daemon.handle.stop()


InsertCard = Callable[..., VpcdCard]


@pytest.fixture
def insert_card(pcscd: Pcscd) -> Iterator[InsertCard]:
    """``insert_card(profile_or_emulator, slot=0, wait=True, **vpcd_options)``."""
    inserted: list[tuple[VpcdCard, int]] = []

    def insert(
        card: dict[str, Any] | EmulatedCard, slot: int = 0, wait: bool = True, **options: Any
    ) -> VpcdCard:
        emulator = emulator_for(card) if isinstance(card, dict) else card
        session = VpcdCard(emulator, slot_port(slot), **options).insert()
        inserted.append((session, slot))
        if wait:
            wait_for(lambda: pcscd.present(READERS[slot]), 5, f"card in {READERS[slot]}")
        return session

    yield insert
    for session, _slot in inserted:
        session.pull()
    for reader in {READERS[slot] for _session, slot in inserted}:
        wait_for(partial(pcscd.absent, reader), 5, f"the card in {reader} to be pulled")


def fresh_modules(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``code`` (from the checkout,
    with a bare environment)."""
    checkout = Path(__file__).resolve().parent.parent
    program = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=checkout, capture_output=True, text=True,
        check=True, timeout=120, env={"PATH": "/usr/bin:/bin", "KIVY_NO_ARGS": "1",
                                      "KIVY_LOG_MODE": "PYTHON", "PYTHONPATH": str(checkout)},
    )  # fmt: skip
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def run_kiosk(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``kiosk`` CLI as a field technician would, in a subprocess (in ``cwd``:
    the demo keeps its state in ``out/demo`` there)."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
        cwd=cwd,
    )
