"""``kiosk run --demo``: the whole kiosk on emulated parts, real stacks.

pcscd (reused or started) with our emulated Vitale in slot 0 and CPS in slot 1, the DMP
sandbox on loopback with its own PKI, a demo ledger, then the Kivy UI. Without a
display it runs under its own Xvfb and, unless a plan is given, the autopilot follows
``config/journeys/holder-creates.json``. With ``--autopilot`` it prints a JSON summary
and exits.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.card_events import PatientCardEvents
from kiosk.demo import CARDS_DIR, DEMO_CPS, DEMO_VITALE, read_when_present
from kiosk.display import ensure_display
from kiosk.dmp.client import DmpClient
from kiosk.dmp.models import WebAccess
from kiosk.dmp.sandbox.pki import load_pharmacy
from kiosk.dmp.sandbox.server import SandboxServer
from kiosk.dmp.setup import sandbox_client
from kiosk.dmp.traits import practitioner_from_cps
from kiosk.flow import Outcome
from kiosk.hardware.cards import CpsCard, VitaleCard
from kiosk.hardware.emulators.profiles import load_emulator, read_profile
from kiosk.hardware.emulators.vpcd import VpcdCard, slot_port
from kiosk.hardware.errors import WrongCard
from kiosk.hardware.pcsc import CardMonitor
from kiosk.hardware.pcscd import ensure_pcscd
from kiosk.journey import Journey, Services, pharmacist_code_checker

log = logging.getLogger(__name__)
JOURNEYS_DIR = CARDS_DIR.parent / "journeys"
DEFAULT_PLAN = JOURNEYS_DIR / "holder-creates.json"
DEMO_PHARMACIST_CODE = "2468"
DEFAULT_SHOTS = Path("out/shots")


@dataclass
class DemoOptions:
    autopilot: Path | None = None
    shots: Path | None = None
    vitale: Path = DEMO_VITALE
    cps: Path = DEMO_CPS
    size: tuple[int, int] = (800, 480)


def read_patient_card() -> VitaleCard:
    # The insertion event can come a moment before the card answers a connect: a
    # just-inserted card gets a short grace period instead of "no card".
    card = read_when_present("patient", None, timeout=1.5)
    if not isinstance(card, VitaleCard):
        raise WrongCard("the patient reader does not hold a Carte Vitale")
    return card


def run_kiosk_demo(options: DemoOptions) -> dict[str, Any] | None:
    xvfb = ensure_display()
    if xvfb is not None and options.autopilot is None:
        options.autopilot = DEFAULT_PLAN  # headless: nobody to tap, the autopilot does
    if options.autopilot is not None and options.shots is None:
        options.shots = DEFAULT_SHOTS
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(options.size[0]))
    Config.set("graphics", "height", str(options.size[1]))
    Config.set("kivy", "exit_on_escape", "0")
    pin = str(read_profile(options.cps)["pin"])
    daemon = ensure_pcscd()
    try:
        with (
            VpcdCard(load_emulator(options.cps), slot_port(1)),
            tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp,
        ):
            cps = read_when_present("professional", pin)
            if not isinstance(cps, CpsCard):
                raise WrongCard("the pharmacist reader does not hold a CPS")
            return _run(options, Path(tmp), cps)
    finally:
        daemon.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)


def _run(options: DemoOptions, tmp: Path, cps: CpsCard) -> dict[str, Any] | None:
    from kiosk.admin import AdminActions, AdminGate
    from kiosk.app import AdminContext, KioskApp
    from kiosk.autopilot import Autopilot, Plan

    server = SandboxServer(tmp / "sandbox", port=0).start()
    spool = (options.shots if options.shots else tmp) / "receipts"
    ledger = Ledger(tmp / "state" / "ledger.db", load_or_create_keys(tmp / "state", "kiosk-demo"))
    services = sandbox_services(
        sandbox_client(server), server, ledger, cps, DEMO_PHARMACIST_CODE, spool
    )
    result: dict[str, Any] = {}
    autopilot: Autopilot | None = None
    journey = Journey(services)
    admin = AdminContext(
        gate=AdminGate(DEMO_PHARMACIST_CODE),
        actions=AdminActions(ledger, (options.shots or tmp) / "admin", tmp / "state"),
        cps_state=lambda: f"CPS de {cps.first_name} {cps.last_name} : insérée, code saisi",
    )
    app = KioskApp(journey, size=options.size, admin=admin)
    services.speak = app.speak
    if options.autopilot is not None and options.shots is not None:

        def done(summary: dict[str, Any]) -> None:
            result.update(summary)
            app.stop()

        autopilot = Autopilot(Plan.load(options.autopilot), options.shots, done)
        journey.on_finished = autopilot.finished
        app.on_rendered = autopilot.rendered
    monitor = CardMonitor(PatientCardEvents(journey.dispatch)).start()
    try:
        journey.recover()
        with VpcdCard(load_emulator(options.vitale), slot_port(0)):
            app.run()
    finally:
        monitor.stop()
        journey.close()
        result["ledger_entry"] = _last_entry(ledger)
        ledger.close()
        server.shutdown()
        server.server_close()
    return result if autopilot is not None else None


def sandbox_services(
    client: DmpClient,
    server: SandboxServer,
    ledger: Ledger,
    cps: CpsCard,
    pharmacist_code: str,
    spool: Path,
) -> Services:
    """The journey's services on emulated cards and a sandbox (demo, UI tests)."""
    practitioner = practitioner_from_cps(cps)
    pharmacy = load_pharmacy(server.pki.root).name

    def print_receipt(outcome: Outcome, language: str, access: WebAccess | None) -> None:
        from kiosk.documents.receipt import write_receipt  # fpdf2 loads only when printing

        path = write_receipt(spool, outcome.value, language, pharmacy, access)
        log.info("receipt spooled: %s", path.name)

    return Services(
        read_vitale=read_patient_card,
        client=client,
        ledger=ledger,
        practitioner=lambda: practitioner,
        rpps=lambda: cps.rpps,
        pharmacist_code_ok=pharmacist_code_checker(pharmacist_code),
        print_receipt=print_receipt,
    )


def _last_entry(ledger: Ledger) -> dict[str, Any] | None:
    """The last act entry, without any patient key."""
    acts = ledger.db.execute(
        "SELECT seq, act_code, status, amount_cents, hash FROM entries"
        " WHERE kind = 'act' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if acts is None:
        return None
    seq, act_code, status, amount, digest = acts
    return {"seq": seq, "act_code": act_code, "status": status, "amount_cents": amount,
            "hash": digest}  # fmt: skip
