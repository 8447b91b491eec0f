"""The kiosk's journey in a process of its own, for the crash tests: the real journey
core (:class:`kiosk.core.journey.Journey`), the real DMP client over TLS to the parent's
sandbox, the real ledger file, the real receipt printer (its renderer given by the job).
The job comes as JSON on stdin (no patient data in argv); progress goes to stdout, one
line each, flushed:

``AT point``   the journey reached a kill point (when it is the job's ``stop_at``, the
               process then waits there for the parent's SIGKILL);
``END outcome`` a journey ended (its flow outcome, or the screen it stopped on);
``UNRESOLVED n`` acts left pending or uncertain (mode ``recover``);
``VISIT id``   a patient's journey starts (the job's number for them, never their data);
``READY``      start-up recovery has run (mode ``journeys``).

Kill points, in the order a creation reaches them: ``before_pending``, ``checkpoint``
(inside the statement of the day's first checkpoint, which the pending entry's commit
triggers), ``after_pending``, ``after_outcome``, ``printing`` (the renderer runs), and, in
mode ``import``, ``payment_import`` (inside the import's transaction). The sandbox's own
points (TD1.1 in flight, committed but unanswered, TD1.5a) are held by the parent
through :data:`kiosk.sim.sandbox.server.Hook`.

Modes: ``journeys`` (each patient of the job in turn, after recovery), ``loop`` (random
patients of the job for ever: the random kills), ``recover`` (start-up recovery with the
CPS's PIN not yet typed, then typed; then the job's patients come back), ``import`` (a
payment file)."""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

from kiosk.billing.chain import Entry
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger, Payment
from kiosk.config import DmpConfig, KioskConfig
from kiosk.core import flow as f
from kiosk.core.code_gate import CodeGate
from kiosk.core.journey import Journey, Services
from kiosk.core.lazy import Lazy
from kiosk.core.pharmacist_code import hash_code, hashed_code_checker
from kiosk.dmp.client_factory import client_from_config
from kiosk.dmp.models import Practitioner
from kiosk.dmp.traits import practitioner_from_cps
from kiosk.documents.facts import ReceiptFacts
from kiosk.documents.printing import ReceiptPrinter
from kiosk.hardware.cards import Beneficiary, VitaleCard, cps_from_profile
from kiosk.sim.data import CARDS_DIR

CODE = "2468"
KIOSK_ID = "kiosk-crash"
CPS = cps_from_profile(json.loads((CARDS_DIR / "cps-dupont-titulaire.json").read_text()))[0]
SCREEN_WAIT = 20.0


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Points:
    """Where the journey is; at the job's ``stop_at`` (a point's name), or at the
    ``stop_after``-th point reached (the random kills), it stops there for good."""

    def __init__(self, stop_at: str | None, stop_after: int | None) -> None:
        self.stop_at = stop_at
        self.left = stop_after
        self._lock = threading.Lock()

    def reached(self, point: str) -> None:
        with self._lock:
            if self.left is not None:
                self.left -= 1
            stop = point == self.stop_at or self.left == 0
            say(f"AT {point}")
        if stop:
            while True:  # the parent's SIGKILL ends this
                time.sleep(60)


class CrashLedger(Ledger):
    """The real ledger, telling where it is. The checkpoint and the payment import are
    recognised by their statements (sqlite3's trace callback, called as a statement
    starts) and held inside them: the checkpoint's from SQLite's progress handler, as the
    statement runs; the import's at its third insert, two done in the open transaction."""

    def __init__(self, path: Path, points: Points) -> None:
        super().__init__(path, load_or_create_keys(path.parent, KIOSK_ID))
        self.points = points
        self._payments = 0
        self._in_checkpoint = False
        self._conn.set_trace_callback(self._statement)
        self._conn.set_progress_handler(self._running, 1)

    def _running(self) -> int:
        if self._in_checkpoint:
            self._in_checkpoint = False
            self.points.reached("checkpoint")
        return 0  # go on

    def _statement(self, sql: str) -> None:
        if sql.startswith("INSERT INTO checkpoints"):
            self._in_checkpoint = True
        elif sql.startswith("INSERT INTO payments"):
            self._payments += 1
            if self._payments == 3:  # two payments inserted, the transaction open
                self.points.reached("payment_import")

    def begin(
        self,
        act_code: str,
        rpps: str,
        ins: str,
        consent: ConsentRecord,
        at: dt.datetime | None = None,
    ) -> str:
        self.points.reached("before_pending")
        act = super().begin(act_code, rpps, ins, consent, at)
        self.points.reached("after_pending")
        return act

    def finish(self, act_id: str, status: str, at: dt.datetime | None = None) -> Entry:
        entry = super().finish(act_id, status, at)
        self.points.reached("after_outcome")
        return entry


def vitale(patient: dict[str, str]) -> VitaleCard:
    holder = Beneficiary(
        "0", patient["nir"], patient["last"], patient["last"], patient["first"],
        patient["birth"], 1,
    )  # fmt: skip
    serial = "00" + patient["nir"][:8]
    return VitaleCard(serial, "20200101", patient["nir"], "01", "751", "0001", (holder,))


class Kiosk:
    def __init__(self, job: dict[str, Any]) -> None:
        state = Path(job["state"])
        self.points = Points(job.get("stop_at"), job.get("stop_after"))
        self.ledger = CrashLedger(state / "ledger.db", self.points)
        self.client = client_from_config(DmpConfig(**job["dmp"]))
        self.printer = ReceiptPrinter(
            KioskConfig(pharmacy_name="Pharmacie du test", spool=str(state / "spool")),
            command=job["renderer"], purge_every=None,
        )  # fmt: skip
        self._printing = self.printer.journey_callback()
        self.card: VitaleCard | None = None
        self.pin_typed = job.get("pin_typed", True)
        self.changed = threading.Condition()
        self.outcomes: list[f.Outcome] = []
        services = Services(
            read_vitale=self._read,
            client=Lazy.of(self.client),
            ledger=Lazy.of(self.ledger),
            practitioner=self._practitioner,
            rpps=lambda: CPS.rpps,
            check_code=CodeGate(hashed_code_checker(hash_code(CODE))).try_code,
            print_receipt=self._print,
        )
        self.journey = Journey(services, on_change=self._changed, on_finished=self.outcomes.append)

    def _read(self) -> VitaleCard:
        assert self.card is not None
        return self.card

    def _practitioner(self) -> Practitioner | None:
        return practitioner_from_cps(CPS) if self.pin_typed else None

    def _print(self, facts: ReceiptFacts) -> None:
        self.points.reached("printing")
        self._printing(facts)  # in the background, as the device prints

    def _changed(self, _flow: f.Flow) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait(self, *screens: f.Screen) -> f.Screen:
        deadline = time.monotonic() + SCREEN_WAIT
        with self.changed:
            while self.journey.flow.screen not in screens:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"stuck on {self.journey.flow.screen}, wanted {screens}")
                self.changed.wait(left)
            return self.journey.flow.screen

    def tap(self, action: str, value: object = None) -> None:
        self.journey.dispatch(f.Tap(action, value))  # type: ignore[arg-type]

    def visit(self, patient: dict[str, Any]) -> str:
        """One patient's journey, as the screens would drive it; its outcome."""
        self.card = vitale(patient)
        self.journey.dispatch(f.CardInserted("vitale"))
        self.wait(f.Screen.CHOOSE)
        self.tap("choose", 0)
        screen = self.wait(f.Screen.INFORMATION, f.Screen.EXISTS, f.Screen.CLOSED, f.Screen.ERROR)
        if screen in (f.Screen.EXISTS, f.Screen.ERROR):
            self.tap("done")
        else:
            if screen is f.Screen.CLOSED:
                self.tap("reactivate", True)
                self.wait(f.Screen.INFORMATION)
            self.tap("next")
            self.wait(f.Screen.CONSENT)
            if not patient.get("consent", True):
                self.tap("refuse")
                self.tap("confirm")
            else:
                self.tap("toggle", "consent")
                self.tap("next")
                self.wait(f.Screen.CONTACT)
                if patient.get("mobile"):
                    self.tap("mobile", patient["mobile"])
                    self.tap("next")
                    self.tap("next")
                else:
                    self.tap("skip")
                self.wait(f.Screen.ATTESTATION)
                self.tap("attest", CODE)
                self.wait(f.Screen.DONE, f.Screen.ERROR)
                self.tap("done")
        self.wait(f.Screen.WELCOME)
        self.journey.wait_idle(SCREEN_WAIT)
        outcome = self.outcomes[-1].value if self.outcomes else "none"
        self.outcomes.clear()
        return outcome

    def start(self) -> None:
        """Start-up as the device does it: services loaded, then recovery, on the worker."""
        done = threading.Event()
        self.journey.warm_up(then=lambda _up: done.set())
        if not done.wait(SCREEN_WAIT):
            raise SystemExit("start-up recovery did not finish")


def main() -> None:
    job = json.loads(sys.stdin.read())
    mode = job["mode"]
    kiosk = Kiosk(job)
    if mode == "recover":  # the PIN not typed yet: nothing can be resolved; then typed
        kiosk.pin_typed = False
        kiosk.start()
        say(f"UNRESOLVED {len(kiosk.ledger.unresolved())}")
        kiosk.pin_typed = True
        kiosk.start()  # as the device does once the PIN is verified
        say(f"UNRESOLVED {len(kiosk.ledger.unresolved())}")
        for patient in job.get("patients", []):  # the patient of the journey comes back
            say(f"END {kiosk.visit(patient)}")
    elif mode == "import":
        kiosk.ledger.import_payments([Payment(**p) for p in job["payments"]])
        say("END imported")
    else:
        kiosk.start()
        say("READY")
        patients = job["patients"]
        rng = random.Random(job.get("seed", 0))
        visits = iter(lambda: rng.choice(patients), None) if mode == "loop" else iter(patients)
        for patient in visits:
            say(f"VISIT {patient['id']}")
            say(f"END {kiosk.visit(patient)}")
    kiosk.journey.close()
    kiosk.printer.close()
    kiosk.ledger.close()


if __name__ == "__main__":
    main()
