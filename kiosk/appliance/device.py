"""``kiosk run``: the kiosk on its real parts, wired from the config.

Start-up draws the welcome screen first and loads the rest behind it: on the first
frame the card monitor starts, and the ledger, the DMP client (TLS, XML signing) and the
recovery of any act a crash left pending load on the journey's worker, so a patient sees
the kiosk as soon as Kivy can draw it. A card inserted meanwhile is read once that is done
(the worker runs jobs in order); the monitor reports cards already present.

The pharmacist's CPS sits in the second reader; its PIN is typed on the admin screen
(:mod:`kiosk.core.cps_session`). The demo (:mod:`kiosk.sim.demo`) runs this same code on
emulated cards and a sandbox, its "pharmacist" typing the demo card's PIN.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import Config, ConfigError
from kiosk.core import flow as f
from kiosk.core.card_events import PatientCardEvents
from kiosk.core.cps_session import CpsState, CpsStatus, pcsc_cps_session
from kiosk.core.journey import Journey, Services
from kiosk.core.lazy import Lazy
from kiosk.core.pharmacist_code import hashed_code_checker
from kiosk.dmp.models import WebAccess
from kiosk.hardware.card_errors import WrongCard
from kiosk.hardware.cards import VitaleCard
from kiosk.hardware.roles import Role

if TYPE_CHECKING:
    from kiosk.billing.ledger import Ledger
    from kiosk.dmp.client import DmpClient
    from kiosk.documents.printing import PrintResult, ReceiptPrinter
    from kiosk.hardware.pcsc import CardMonitor
    from kiosk.sim.plan import Plan
    from kiosk.ui.app import KioskApp

log = logging.getLogger(__name__)
DEFAULT_SHOTS = Path("out/shots")


@dataclass
class RunOptions:
    autopilot: Path | None = None
    shots: Path | None = None
    size: tuple[int, int] | None = None  # None: the display's own size, full screen
    cps_pin: str | None = None  # the demo's (or an autopilot plan's) pharmacist types it once
    # services up and the CPS PIN entered (the demo's patient arrives then)
    when_ready: Callable[[], None] | None = None


def check_config(config: Config) -> None:
    """What the kiosk cannot run without, named before any window opens."""
    config.dmp.require()
    for key in ("ca", "auth_cert", "auth_key", "sign_cert", "sign_key"):
        path = Path(getattr(config.dmp, key))
        if not path.is_file():
            raise ConfigError(f"{config.source} [dmp] {key}: no such file {path}")
    if not config.kiosk.pharmacist_code_hash:
        raise ConfigError(
            f"{config.source} [kiosk] pharmacist_code_hash is not set (`kiosk provision` sets it)"
        )


def open_ledger(config: Config) -> Ledger:
    from kiosk.billing.keys import load_or_create_keys
    from kiosk.billing.ledger import Ledger

    path = Path(config.ledger.path)
    return Ledger(path, load_or_create_keys(path.parent, config.ledger.kiosk_name()))


def dmp_client(config: Config) -> DmpClient:
    from kiosk.dmp.client_factory import client_from_config

    return client_from_config(config.dmp)


def patient_reader(config: Config) -> Callable[[], VitaleCard]:
    overrides = _overrides(config)

    def read() -> VitaleCard:
        from kiosk.hardware.reading import INSERTION_GRACE, read_when_present

        # a just-inserted card gets a short grace period instead of "no card"
        card = read_when_present(Role.PATIENT, None, overrides, timeout=INSERTION_GRACE)
        if not isinstance(card, VitaleCard):
            raise WrongCard("the patient reader does not hold a Carte Vitale")
        return card

    return read


def receipt_printer(config: Config) -> ReceiptPrinter:
    """The receipts: PDF into the spool and, when configured, the ESC/POS ticket, made
    by a child process (fpdf2 and escpos never load in the kiosk)."""
    from kiosk.documents.printing import ReceiptPrinter

    return ReceiptPrinter.from_config(config)


def print_callback(
    printer: ReceiptPrinter, on_problem: Callable[[str], None] = lambda _problem: None
) -> Callable[[f.Outcome, str, WebAccess | None], None]:
    """The journey's hook: returns at once (the printer logs what came out);
    ``on_problem`` gets the French message for the pharmacist, or "" when all went well."""

    def printed(result: PrintResult) -> None:
        on_problem(result.error or "")

    return printer.journey_callback(printed)


def _overrides(config: Config) -> dict[Role, str]:
    readers = config.readers
    pinned = {Role.PATIENT: readers.patient, Role.PROFESSIONAL: readers.professional}
    return {role: name for role, name in pinned.items() if name}


class DeviceKiosk:
    """Everything ``kiosk run`` starts, built from one config; :meth:`run` runs it."""

    def __init__(self, config: Config, options: RunOptions) -> None:
        from kiosk.core.admin_actions import AdminActions, AdminGate
        from kiosk.ui.app import AdminContext, KioskApp

        self.config, self.options = config, options
        self.cps = pcsc_cps_session(_overrides(config), self._cps_changed)
        gate = AdminGate(hashed_code_checker(config.kiosk.pharmacist_code_hash))
        self.ledger: Lazy[Ledger] = Lazy(lambda: open_ledger(config))
        self.client: Lazy[DmpClient] = Lazy(lambda: dmp_client(config))
        self.printer = receipt_printer(config)
        self.services = Services(
            read_vitale=patient_reader(config),
            client=self.client,
            ledger=self.ledger,
            practitioner=self.cps.practitioner,
            rpps=self.cps.rpps,
            pharmacist_code_ok=gate.checker(time.monotonic),
            print_receipt=print_callback(self.printer, lambda text: self._notice("printer", text)),
        )
        self.journey = Journey(self.services, language=config.kiosk.language)
        state_dir = Path(config.ledger.path).parent
        admin = AdminContext(
            gate=gate,
            actions=AdminActions(self.ledger, Path(config.kiosk.exchange), state_dir),
            cps_state=lambda: self.cps.status.text(),
            enter_cps_pin=lambda pin: self.cps.enter_pin(pin)[1],
        )
        self.app: KioskApp = KioskApp(
            self.journey, size=options.size, admin=admin, on_first_frame=self.start_services
        )
        self.services.speak = self.app.speak
        self._notices = {"cps": f"Pharmacien : {self.cps.status.text()}", "printer": ""}
        self.app.staff_notice = self._notices["cps"]  # until the CPS is read
        self._cps_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cps")
        self._state = threading.Lock()
        self._cps_ready = False
        self._warmed_up = False
        self._auto_pin = options.cps_pin
        self.monitor: CardMonitor | None = None
        self.ready = threading.Event()  # services up and the pharmacist authenticated

    # -- start-up, behind the first frame ------------------------------------------------

    def start_services(self) -> None:
        """Called on the first frame: cards, ledger, DMP client, recovery."""
        from kiosk.hardware.pcsc import CardMonitor

        self.journey.warm_up(then=self._warm)
        events = PatientCardEvents(self.journey.dispatch, self._cps_event)
        self.monitor = CardMonitor(events).start()

    def _warm(self) -> None:
        with self._state:
            self._warmed_up = True
        self._maybe_ready()

    def _maybe_ready(self) -> None:
        """Once, when the services are up and the CPS is ready: ``options.when_ready``."""
        with self._state:
            if self.ready.is_set() or not (self._warmed_up and self._cps_ready):
                return
            self.ready.set()
        if self.options.when_ready is not None:
            self.options.when_ready()

    def _notice(self, kind: str, text: str) -> None:
        """The pharmacist's line on the welcome screen: the CPS, then the printer."""
        from kivy.clock import Clock

        with self._state:
            self._notices[kind] = text
            notice = " · ".join(line for line in self._notices.values() if line)
        Clock.schedule_once(lambda _dt: setattr(self.app, "staff_notice", notice), 0)

    def _cps_event(self, inserted: bool) -> None:  # monitor thread: card I/O goes elsewhere
        self._cps_job(self.cps.inserted if inserted else self.cps.removed)

    def _cps_job(self, job: Callable[[], object]) -> None:
        def logged(done: Future[object]) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.error("CPS job failed: %s", type(done.exception()).__name__)

        with contextlib.suppress(RuntimeError):  # shutting down: the card no longer matters
            self._cps_worker.submit(job).add_done_callback(logged)

    def _cps_changed(self, status: CpsStatus) -> None:
        ready = status.state is CpsState.READY
        self._notice("cps", "" if ready else f"Pharmacien : {status.text()}")
        with self._state:
            became_ready, self._cps_ready = ready and not self._cps_ready, ready
            pin = self._auto_pin if status.state is CpsState.NEEDS_PIN else None
            if pin is not None:
                self._auto_pin = None  # typed once, as a person would
        if became_ready:
            self.journey.warm_up()  # acts left uncertain can be resolved now
            self._maybe_ready()
        if pin is not None:
            self._cps_job(lambda: self.cps.enter_pin(pin))

    # -- run ------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self.app.run()
        finally:
            self.close()

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        self.journey.close()  # its last job may still ask the CPS: the CPS worker after it
        self._cps_worker.shutdown(wait=True)
        self.cps.removed()  # let go of the card
        self.printer.close()  # the last receipt is finished, not cut short
        if self.ledger.built:
            self.ledger().close()


def configure_kivy(size: tuple[int, int] | None) -> None:
    """Before Kivy's window exists: no argv parsing, logs through ``logging``, a fixed
    size (demo, tests, shots) or the whole screen (a kiosk)."""
    import os

    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.config import Config as KivyConfig

    if size is None:
        KivyConfig.set("graphics", "fullscreen", "auto")
    else:
        KivyConfig.set("graphics", "width", str(size[0]))
        KivyConfig.set("graphics", "height", str(size[1]))
    KivyConfig.set("kivy", "exit_on_escape", "0")


def run_device(config: Config, options: RunOptions) -> dict[str, Any] | None:
    """``kiosk run`` (and, with a demo config, ``kiosk run --demo``). With an autopilot
    plan, returns its JSON summary once the journey is over. Headless with a plan, it
    runs under its own Xvfb; a device's own screen is used as SDL2 finds it."""
    from kiosk.sim.plan import Plan
    from kiosk.sim.xvfb import ensure_display

    plan = Plan.load(options.autopilot) if options.autopilot is not None else None
    if plan is not None and options.cps_pin is None:
        options.cps_pin = plan.cps_pin
    xvfb = ensure_display() if plan is not None else None
    if xvfb is not None and options.size is None:
        options.size = (800, 480)
    configure_kivy(options.size)
    try:
        return _run(config, options, plan)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)


def _run(config: Config, options: RunOptions, plan: Plan | None) -> dict[str, Any] | None:
    from kiosk.sim.autopilot import attach_autopilot

    kiosk = DeviceKiosk(config, options)
    result: dict[str, Any] | None = None
    if plan is not None:
        shots = options.shots or DEFAULT_SHOTS
        result = attach_autopilot(kiosk.app, kiosk.journey, plan, shots)
    kiosk.run()
    if result is not None:
        result["ledger_entry"] = last_entry(config)
    return result


def last_entry(config: Config) -> dict[str, Any] | None:
    """The last act entry, without any patient key (the autopilot's summary)."""
    import sqlite3

    path = Path(config.ledger.path)
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT seq, act_code, status, amount_cents, hash FROM entries"
            " WHERE kind = 'act' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    seq, act_code, status, amount, digest = row
    return {"seq": seq, "act_code": act_code, "status": status, "amount_cents": amount,
            "hash": digest}  # fmt: skip
