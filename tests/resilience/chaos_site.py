"""A pharmacy for the chaos tests: ``kiosk run``'s own :class:`DeviceKiosk`, built from a
config as on a device and started as its first frame starts it (card monitor, ledger, DMP
client, recovery), without a window: taps go to its journey as the screens send them.

Around it, the real parts: pcscd with the pharmacist's CPS in the reader the config pins
to it and patients' Vitale emulators in the other; the DMP sandbox over mutual TLS behind
a :class:`~tests.resilience.chaos_links.Relay`; the ledger on a small tmpfs of its own;
a raw-TCP ticket printer behind another relay.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.appliance.device import DeviceKiosk
from kiosk.billing.ledger import Ledger
from kiosk.config import Config, parse_config
from kiosk.core import flow as f
from kiosk.core.cps_session import CpsState, PinEntry
from kiosk.core.pharmacist_code import hash_code
from kiosk.hardware.nir import with_key
from kiosk.sim.emulators.profiles import emulator_for
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
from kiosk.sim.sandbox.pki import load_pharmacy
from kiosk.sim.sandbox.server import SandboxServer
from tests.conftest import READERS, Pcscd, load_profile, wait_for
from tests.integration.escpos_printer import LoopbackPrinter
from tests.resilience.chaos_links import Relay, free_port

CODE = "2468"
CPS_PROFILE = load_profile("cps-dupont-titulaire.json")
CPS_PIN = str(CPS_PROFILE["pin"])
DEADLINE = 2.0  # the DMP client's deadline per call ([dmp] deadline)
LEDGER_FS = "32m"  # the ledger's own tmpfs


def patient(number: int) -> dict[str, Any]:
    """A one-person Carte Vitale nobody else has: a DMP to open for each journey."""
    nir = with_key(f"1700175{100000 + number:06d}")
    person = {"quality": "0", "nir": nir, "last_name": "CHAOS", "birth_name": "CHAOS",
              "first_name": f"Patient{number}", "birth_date": "19700101",
              "birth_rank": 1}  # fmt: skip
    return {"card": "vitale", "serial": f"{number:010d}", "valid_from": "20200101",
            "holder_nir": nir, "regime": "01", "caisse": "751", "centre": "0001",
            "beneficiaries": [person]}  # fmt: skip


class Sandbox:
    """The DMP service: stopped and started again on its port, its data kept."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.server = self._start()

    def _start(self) -> SandboxServer:
        return SandboxServer(self.data, port=self.port, fault_delay=DEADLINE + 1).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def restart(self) -> None:
        self.stop()
        self.server = self._start()

    def held(self) -> int:
        return len(self.server.store.list())


@dataclass
class Seen:
    """What the patient saw: each screen the journey showed, with its message's key."""

    screens: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, flow: f.Flow) -> None:
        shown = flow.screen.value + (f"[{flow.message.key}]" if flow.message else "")
        with self.lock:
            if not self.screens or self.screens[-1] != shown:
                self.screens.append(shown)

    def since(self, mark: int) -> list[str]:
        with self.lock:
            return self.screens[mark:]

    def mark(self) -> int:
        with self.lock:
            return len(self.screens)


class Site:
    def __init__(self, root: Path, pcscd: Pcscd) -> None:
        self.root = root
        self.pcscd = pcscd
        self.state = root / "state"
        self.state.mkdir(parents=True)
        self.tmpfs = mount_tmpfs(self.state)
        self.sandbox = Sandbox(root / "sandbox")
        self.dmp = Relay(("127.0.0.1", self.sandbox.port)).up()
        self.printer = LoopbackPrinter().__enter__()
        self.printer_link = Relay(("127.0.0.1", self.printer.port)).up()
        self.config = self._config()
        self.cps: VpcdCard | None = None
        self.patients = 0
        self.seen = Seen()
        self.printed: list[tuple[str, ...]] = []  # the printer's messages, per receipt
        self.cps_states: list[CpsState] = []
        self.kiosk = DeviceKiosk(self.config)
        app: Any = self.kiosk.app  # never built: what it would show is recorded instead
        app.show_printer_notice = lambda messages: self.printed.append(
            tuple(m.key for m in messages)
        )
        app.show_cps_notice = lambda status: self.cps_states.append(
            CpsState.READY if status is None else status.state
        )
        self.kiosk.journey.on_change = self.seen
        self.insert_cps()
        self.kiosk.start_services()
        self.enter_pin()

    def _config(self) -> Config:
        pki = self.sandbox.server.pki
        return parse_config({
            "readers": {"patient": READERS[0], "professional": READERS[1]},
            "dmp": {"endpoint": f"https://127.0.0.1:{self.dmp.port}/si-dmp-server/v2/services",
                    "ca": str(pki.ca), "auth_cert": str(pki.auth), "auth_key": str(pki.auth_key),
                    "sign_cert": str(pki.sign), "sign_key": str(pki.sign_key),
                    "structure_id": load_pharmacy(pki.root).structure_id, "deadline": DEADLINE},
            "ledger": {"path": str(self.state / "ledger.db"), "kiosk_id": "kiosk-chaos"},
            "kiosk": {"pharmacist_code_hash": hash_code(CODE), "spool": str(self.root / "spool"),
                      "exchange": str(self.root / "exchange")},
            "printer": {"kind": "network", "host": "127.0.0.1", "port": self.printer_link.port},
        })  # fmt: skip

    # -- the pharmacist's CPS ---------------------------------------------------------------

    def insert_cps(self) -> None:
        self.cps = VpcdCard(emulator_for(CPS_PROFILE), slot_port(1)).insert()
        wait_for(lambda: self.pcscd.present(READERS[1]), 5, "the CPS in its reader")

    def pull_cps(self) -> None:
        if self.cps is not None:
            self.cps.pull()
            self.cps = None
        wait_for(lambda: self.pcscd.absent(READERS[1]), 5, "the CPS pulled")
        wait_for(lambda: self.cps_state() is CpsState.ABSENT, 5, "the kiosk to see it gone")

    def cps_state(self) -> CpsState:
        return self.kiosk.cps.status.state

    def enter_pin(self) -> None:
        """The pharmacist types the PIN on the admin screen, once the CPS is seen."""
        wait_for(lambda: self.cps_state() is CpsState.NEEDS_PIN, 10, "the CPS to ask its PIN")
        assert self.kiosk.enter_cps_pin(CPS_PIN).result(10) is PinEntry.ACCEPTED
        wait_for(self.kiosk.ready.is_set, 10, "the kiosk ready")

    # -- patients ------------------------------------------------------------------------------

    def new_card(self, slot: int = 0, **options: Any) -> VpcdCard:
        self.patients += 1
        return VpcdCard(emulator_for(patient(self.patients)), slot_port(slot), **options)

    def wait(self, screen: f.Screen, timeout: float = 10.0) -> f.Flow:
        deadline = time.monotonic() + timeout
        while (flow := self.kiosk.journey.flow).screen is not screen:
            if time.monotonic() > deadline:
                raise AssertionError(f"still on {flow.screen.value}, wanted {screen.value}")
            time.sleep(0.01)
        return flow

    def tap(self, action: str, value: object = None) -> None:
        self.kiosk.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    def choose_holder(self, card: VpcdCard) -> None:
        """Insert ``card`` and choose its holder: the DMP's status is asked next."""
        card.insert()
        self.wait(f.Screen.CHOOSE)
        self.tap("choose", 0)

    def to_error(self, card: VpcdCard) -> f.Flow:
        """Insert ``card``, choose its holder, and wait for the error the check ends on."""
        self.choose_holder(card)
        return self.wait(f.Screen.ERROR)

    def to_consent(self, card: VpcdCard) -> None:
        self.choose_holder(card)
        self.wait(f.Screen.INFORMATION)
        self.tap("next")
        self.wait(f.Screen.CONSENT)

    def consent_and_attest(self) -> None:
        self.tap("toggle", "consent")
        self.tap("next")
        self.wait(f.Screen.CONTACT)
        self.tap("skip")
        self.wait(f.Screen.ATTESTATION)
        self.tap("attest", CODE)

    def leave(self, card: VpcdCard) -> None:
        """The patient takes the card back: welcome, nothing of them left."""
        card.pull()
        wait_for(lambda: self.pcscd.absent(READERS[0]), 5, "the patient's card pulled")
        assert not self.wait(f.Screen.WELCOME).holds_patient_data()

    def serve(self) -> f.Outcome | None:
        """A whole journey for a new patient: their DMP opened, the receipt printed."""
        card = self.new_card()
        receipts = len(self.printed)
        try:
            self.to_consent(card)
            self.consent_and_attest()
            done = self.wait(f.Screen.DONE, timeout=15)
            wait_for(lambda: len(self.printed) > receipts, 20, "the receipt")
            self.tap("done")
            self.wait(f.Screen.WELCOME)
            return done.outcome
        finally:
            self.leave(card)

    # -- the ledger ---------------------------------------------------------------------------

    @property
    def ledger(self) -> Ledger:
        return self.kiosk.ledger()

    def statuses(self) -> list[str]:
        rows = self.ledger.read(
            lambda conn: conn.execute("SELECT status FROM acts ORDER BY opened_utc").fetchall()
        )
        return [str(status) for (status,) in rows]

    def checkpoints(self) -> list[str]:
        rows = self.ledger.read(
            lambda conn: conn.execute("SELECT day FROM checkpoints ORDER BY day").fetchall()
        )
        return [str(day) for (day,) in rows]

    def close(self) -> None:
        self.kiosk.journey.wait_idle(30)
        self.kiosk.close()
        if self.cps is not None:
            self.cps.pull()
        wait_for(lambda: self.pcscd.absent(READERS[1]), 5, "the CPS pulled at the end")
        self.dmp.down()
        self.printer_link.down()
        self.sandbox.stop()
        self.printer.__exit__(None, None, None)
        if self.tmpfs:
            subprocess.run(["umount", str(self.state)], check=False)


def mount_tmpfs(where: Path) -> bool:
    """The ledger's own small file system (root only); False when it cannot be mounted."""
    with contextlib.suppress(OSError):
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={LEDGER_FS},mode=0700", "tmpfs", str(where)],
            capture_output=True,
            check=False,
        )
        return done.returncode == 0
    return False


def fill(where: Path) -> Path:
    """Fill ``where``'s file system to the last byte: a disk full."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler
