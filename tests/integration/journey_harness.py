"""A journey on real services for the integration tests: the sandbox over TLS, a real
ledger file, the pharmacist's CPS from its profile; the patient's card read as each test
says (through pcscd, or from its profile). Taps are dispatched as the screens dispatch
them, and a test waits for a screen the way the UI would see it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.core import flow as f
from kiosk.core.code_gate import CodeGate
from kiosk.core.journey import Journey, Services
from kiosk.core.lazy import Lazy
from kiosk.core.pharmacist_code import hash_code, hashed_code_checker
from kiosk.dmp.traits import practitioner_from_cps
from kiosk.documents.facts import ReceiptFacts
from kiosk.hardware.cards import VitaleCard, cps_from_profile
from kiosk.sim.sandbox.client_config import sandbox_client
from kiosk.sim.sandbox.server import SandboxServer
from tests.conftest import load_profile

CODE = "2468"
CPS = cps_from_profile(load_profile("cps-dupont-titulaire.json"))[0]


class JourneyHarness:
    def __init__(
        self,
        tmp: Path,
        read_vitale: Callable[[], VitaleCard],
        faults: dict[str, str] | None = None,
        fault_delay: float = 30,
    ) -> None:
        self.server = SandboxServer(
            tmp / "sandbox", port=0, faults=faults, fault_delay=fault_delay
        ).start()
        self.client = sandbox_client(self.server, deadline=2.0)
        self.ledger = Ledger(
            tmp / "state" / "ledger.db", load_or_create_keys(tmp / "state", "kiosk-test")
        )
        self.changed = threading.Condition()
        self.outcomes: list[f.Outcome] = []
        self.receipts: list[ReceiptFacts] = []
        services = Services(
            read_vitale=read_vitale,
            client=Lazy.of(self.client),
            ledger=Lazy.of(self.ledger),
            practitioner=lambda: practitioner_from_cps(CPS),
            rpps=lambda: CPS.rpps,
            check_code=CodeGate(hashed_code_checker(hash_code(CODE))).try_code,
            print_receipt=self.receipts.append,
        )
        self.journey = Journey(services, on_change=self._changed, on_finished=self.outcomes.append)

    def _changed(self, _flow: f.Flow) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait(self, screen: f.Screen, timeout: float = 8.0) -> f.Flow:
        deadline = time.monotonic() + timeout
        with self.changed:
            while self.journey.flow.screen is not screen:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"still on {self.journey.flow.screen}, wanted {screen}")
                self.changed.wait(left)
        return self.journey.flow

    def tap(self, action: str, value: object = None) -> None:
        self.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    def close(self) -> None:
        self.journey.close()
        self.ledger.close()
        self.server.shutdown()
        self.server.server_close()
