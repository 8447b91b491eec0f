"""``kiosk run``: the kiosk on its real parts, wired from the config.

Start-up draws the welcome screen first and loads the rest behind it: on the first
frame the card monitor starts, the receipt printer is set up (the spool purged of what
an earlier run left), and the ledger, the DMP client (TLS, XML signing) and the
recovery of any act a crash left pending load on the journey's worker, so a patient sees
the kiosk as soon as Kivy can draw it (loading them while the window is built was
measured: the first frame came 60 ms later and READY no sooner, the two threads sharing
the GIL). A card inserted meanwhile is read once that is done (the worker runs jobs in
order); the monitor reports cards already present. Then systemd hears READY=1
(:mod:`kiosk.appliance.service_notify`) and the log gets the start-up timings.

The pharmacist's CPS sits in the second reader; its PIN is typed on the admin screen
(:mod:`kiosk.core.cps_session`). Whoever watches the kiosk from outside (the autopilot,
the demo, tests) attaches a :class:`kiosk.appliance.observer.KioskObserver`; nothing
here knows of them.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kiosk.appliance import wiring
from kiosk.appliance.observer import KioskObserver
from kiosk.appliance.service_notify import ServiceNotifier
from kiosk.config import Config
from kiosk.core import flow as f
from kiosk.core.code_gate import CodeGate
from kiosk.core.cps_session import CpsState, CpsStatus, PinAnswer, pcsc_cps_session
from kiosk.core.journey import Journey, Services
from kiosk.core.lazy import Lazy
from kiosk.core.pharmacist_code import hashed_code_checker
from kiosk.heap import limit_malloc_arenas
from kiosk.logs import event

if TYPE_CHECKING:
    from kiosk.billing.ledger import Ledger
    from kiosk.core.admin_actions import AdminActions
    from kiosk.dmp.client import DmpClient
    from kiosk.documents.facts import ReceiptFacts
    from kiosk.documents.printing import PrintResult, ReceiptPrinter
    from kiosk.hardware.pcsc import CardMonitor
    from kiosk.ui.app import KioskApp
    from kiosk.ui.screens.base import KioskScreen

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class RunOptions:
    size: tuple[int, int] | None = None  # None: the display's own size, full screen


class DeviceKiosk:
    """Everything ``kiosk run`` starts, built from one config; :meth:`run` runs it."""

    def __init__(self, config: Config, options: RunOptions | None = None) -> None:
        from kiosk.ui.app import AdminContext, KioskApp
        from kiosk.ui.speech import Outputs, Speaker
        from kiosk.ui.widgets import set_key_guard_ms

        options = options or RunOptions()
        limit_malloc_arenas()
        self.config = config
        self.notifier = ServiceNotifier()
        self._times: dict[str, float] = {"built": time.monotonic()}
        self.observers: list[KioskObserver] = []
        self.cps = pcsc_cps_session(
            wiring.reader_overrides(config),
            self._cps_changed,
            structure_id=config.dmp.structure_id,
        )
        state_dir = Path(config.ledger.path).parent
        code = hashed_code_checker(config.kiosk.pharmacist_code_hash, state_dir)
        gate = CodeGate(code, state_dir)
        self.ledger: Lazy[Ledger] = Lazy(lambda: wiring.open_ledger(config))
        self.client: Lazy[DmpClient] = Lazy(lambda: wiring.dmp_client(config))
        # built on the first frame (start_services): fpdf2's wiring and the spool's
        # start-up purge wait behind the welcome screen
        self.printer: Lazy[ReceiptPrinter] = Lazy(lambda: wiring.receipt_printer(config))
        self.services = Services(
            read_vitale=wiring.patient_reader(config),
            client=self.client,
            ledger=self.ledger,
            practitioner=self.cps.practitioner,
            rpps=self.cps.rpps,
            check_code=gate.try_code,
            print_receipt=self._print_receipt,
            ledger_room=wiring.ledger_room(self.ledger),
        )
        site = config.kiosk
        set_key_guard_ms(site.key_guard_ms)  # [kiosk] key_guard_ms: a shaking hand's second press
        self.journey = Journey(
            self.services,
            on_finished=self._finished,
            language=site.language,
            timeouts=f.Timeouts(float(site.idle_warning), float(site.idle_grace)),
        )
        admin = AdminContext(
            gate=gate,
            actions=Lazy(
                lambda: admin_actions(self.ledger, Path(config.kiosk.exchange), state_dir)
            ),
            cps_state=lambda: self.cps.status,
            enter_cps_pin=lambda pin: self.enter_cps_pin(pin).result(),
        )
        self.app: KioskApp = KioskApp(
            self.journey,
            size=options.size,
            admin=admin,
            on_first_frame=self.start_services,
            on_rendered=self._rendered,
            # [speech]: the loudspeaker, and the headset that alone hears personal data
            speaker=Speaker(Outputs(config.speech.speaker_device, config.speech.headset_device)),
            heartbeat=(
                None
                if self.notifier.interval is None
                else (self.notifier.interval, self.notifier.ping)
            ),
        )
        self.services.speak = self.app.speak
        self.services.when_shown = self.app.when_shown
        self.app.show_cps_notice(self.cps.status)  # until the CPS is read
        self._cps_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cps")
        self._state = threading.Lock()
        self._cps_ready = False
        self._warmed_up = False
        self._services_up = True
        self.monitor: CardMonitor | None = None
        self.ready = threading.Event()  # services up and the pharmacist authenticated

    def watch(self, observer: KioskObserver) -> None:
        """Attach ``observer`` (before :meth:`run`)."""
        self.observers.append(observer)

    def enter_cps_pin(self, pin: str) -> Future[PinAnswer]:
        """The pharmacist types the CPS PIN: one VERIFY, on the CPS worker."""
        return self._cps_job(lambda: self.cps.enter_pin(pin)[1])

    # -- start-up, behind the first frame ------------------------------------------------

    def start_services(self) -> None:
        """Called on the first frame: cards, receipt printer, ledger, DMP client, recovery."""
        from kiosk.core.card_events import PatientCardEvents  # pyscard: after the frame
        from kiosk.hardware.pcsc import CardMonitor

        self._started("first_frame")
        self.journey.warm_up(then=self._warm)
        overrides = wiring.reader_overrides(self.config)
        events = PatientCardEvents(self.journey.dispatch, self._cps_event, overrides)
        self.monitor = CardMonitor(events).start()
        self.printer()  # the spool purged of what an earlier run left, its timer started

    def _print_receipt(self, facts: ReceiptFacts) -> None:
        """``Services.print_receipt``: the receipt starts in the background."""
        self.printer().journey_callback(self._printed)(facts)

    def _warm(self, up: bool) -> None:
        with self._state:
            self._warmed_up = True
            self._services_up = up
        self._started("services_up")
        self._maybe_ready()

    def _started(self, step: str) -> None:
        """Once the welcome screen is drawn and then the services are up: systemd hears
        READY, the log gets the start-up timings."""
        with self._state:
            times = self._times
            times[step] = time.monotonic()
            if "first_frame" not in times or "services_up" not in times or "ready" in times:
                return
            times["ready"] = max(times["first_frame"], times["services_up"])
            age, since_frame = process_age(), time.monotonic() - times["first_frame"]
            event(
                log, "kiosk.started", "kiosk started: welcome screen drawn, services loaded",
                process_to_frame_ms=None if age is None else _ms(age - since_frame),
                build_to_frame_ms=_ms(times["first_frame"] - times["built"]),
                build_to_services_ms=_ms(times["services_up"] - times["built"]),
                frame_to_ready_ms=_ms(times["ready"] - times["first_frame"]),
                services_up=self._services_up,
            )  # fmt: skip
            # under the lock: a CPS change cannot slip a newer STATUS in before this one
            self.notifier.ready(self._status())

    def _status(self) -> str:
        """systemd's STATUS= line (``systemctl status kiosk``), under ``_state``."""
        if not self._services_up:
            return "services failed to start: see `journalctl -u kiosk` and `kiosk doctor`"
        return "ready" if self._cps_ready else "waiting for the pharmacist's CPS and its PIN"

    def _maybe_ready(self) -> None:
        """Once, when the services are up and the CPS is ready."""
        with self._state:
            if self.ready.is_set() or not (self._warmed_up and self._cps_ready):
                return
            self.ready.set()
        for observer in self.observers:
            observer.ready()

    def _rendered(self, flow: f.Flow, screen: KioskScreen) -> None:
        for observer in self.observers:
            observer.rendered(flow, screen)

    def _finished(self, outcome: f.Outcome) -> None:
        for observer in self.observers:
            observer.finished(outcome)

    def _printed(self, result: PrintResult) -> None:
        """A receipt problem shows on the pharmacist's line until the next receipt prints."""
        self.app.show_printer_notice(result.messages())

    def _cps_event(self, inserted: bool) -> None:  # monitor thread: card I/O goes elsewhere
        self._cps_job(self.cps.inserted if inserted else self.cps.removed)

    def _cps_job(self, job: Callable[[], T]) -> Future[T]:
        def logged(done: Future[T]) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.error("CPS job failed: %s", type(done.exception()).__name__)

        try:
            future = self._cps_worker.submit(job)
        except RuntimeError as exc:  # shutting down: the card no longer matters
            future = Future()
            future.set_exception(exc)
            return future
        future.add_done_callback(logged)
        return future

    def _cps_changed(self, status: CpsStatus) -> None:
        ready = status.state is CpsState.READY
        self.app.show_cps_notice(None if ready else status)
        with self._state:
            became_ready, self._cps_ready = ready and not self._cps_ready, ready
            if "ready" in self._times:
                self.notifier.status(self._status())
        if became_ready:
            self.journey.warm_up()  # acts left uncertain can be resolved now
            self._maybe_ready()
        for observer in self.observers:
            observer.cps_changed(status)

    # -- run ------------------------------------------------------------------------------

    def run(self) -> None:
        # Before SDL starts (the window is made in the app's build): SDL turns a SIGTERM
        # into a window-close request, which a kiosk refuses; `systemctl stop` must work.
        previous = signal.signal(signal.SIGTERM, self._terminated)
        # What start-up made so far (modules, config, wiring: long-lived) leaves the cyclic
        # collector's sight: its passes while the window and the welcome screen are built,
        # and at every frame after, scan only what came later (first frame 5-30 ms sooner here)
        gc.freeze()
        try:
            self.app.run()
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.close()

    def _terminated(self, _signum: int, _frame: object) -> None:
        """SIGTERM (systemd stopping the kiosk): the app stops, :meth:`close` finishes the
        receipt in progress, lets go of the cards and closes the ledger."""
        event(log, "kiosk.stopping", "SIGTERM: the kiosk stops")
        self.app.stop()

    def close(self) -> None:
        self.notifier.stopping()
        if self.monitor is not None:
            self.monitor.stop()
        self.journey.close()  # its last job may still ask the CPS: the CPS worker after it
        self._cps_worker.shutdown(wait=True)
        self.cps.removed()  # let go of the card
        if self.printer.built:
            self.printer().close()  # the last receipt is finished, not cut short
        if self.ledger.built:
            self.ledger().close()


def admin_actions(ledger: Lazy[Ledger], exchange: Path, state_dir: Path) -> AdminActions:
    """What the admin does (payments import, exports, figures): loaded when it is first
    opened, not before the welcome screen (the ledger's reports and exports come with it)."""
    from kiosk.core.admin_actions import AdminActions

    return AdminActions(ledger, exchange, state_dir)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def process_age() -> float | None:
    """Seconds since this process started (its start time in /proc/self/stat, in clock
    ticks since boot; the unit's ProcSubset=pid hides /proc/uptime), None when unknown."""
    try:
        stat = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(stat[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
    return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)


def run_device(config: Config, options: RunOptions | None = None) -> None:
    """``kiosk run`` on a device: its own screen, as SDL2 finds it."""
    from kiosk.ui.kivy_setup import configure_kivy

    options = options or RunOptions()
    configure_kivy(options.size)
    DeviceKiosk(config, options).run()
