"""``kiosk run --demo``: the device's own kiosk (:mod:`kiosk.appliance.device`) on emulated
parts.

pcscd (reused or started) with our emulated CPS in slot 1 and Vitale in slot 0, the DMP
sandbox on loopback with its own PKI, a ledger and a config written for them; then
exactly what ``kiosk run`` does on a kiosk, the demo's pharmacist typing the demo CPS's
PIN. Without a display it runs under its own Xvfb and, unless a plan is given, the
autopilot follows ``kiosk/sim/data/journeys/holder-creates.json``.

The demo keeps its sandbox, ledger and config in ``out/demo/`` between runs, so what a
run did can be looked at afterwards (``kiosk ledger report --config
out/demo/kiosk-demo.toml``) and the next run meets the patient's DMP as already
existing; ``--fresh`` starts from nothing again.
"""

from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.appliance.device import DeviceKiosk
from kiosk.appliance.observer import KioskObserver
from kiosk.config import load_config
from kiosk.hardware.cards import read_profile
from kiosk.sim.data import DEFAULT_PLAN, DEMO_CPS, DEMO_VITALE
from kiosk.sim.drive import DEFAULT_SHOTS, run_autopilot, run_watched
from kiosk.sim.emulators.profiles import load_emulator
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
from kiosk.sim.pcscd import ensure_pcscd
from kiosk.sim.pharmacist import PharmacistTypesPin
from kiosk.sim.plan import Plan

DEMO_HOME = Path("out/demo")  # kept between runs: the sandbox, the ledger, the config
DEMO_CONFIG = "kiosk-demo.toml"
DEMO_PHARMACIST_CODE = "2468"
PATIENT_ARRIVES = 1.0  # seconds after the kiosk is ready


@dataclass
class DemoOptions:
    autopilot: Path | None = None
    shots: Path | None = None
    fresh: bool = False  # forget what earlier demo runs created
    home: Path = DEMO_HOME
    vitale: Path = DEMO_VITALE
    cps: Path = DEMO_CPS
    size: tuple[int, int] = (800, 480)


class PatientArrives(KioskObserver):
    """The demo's patient walks up with the card a moment after the kiosk is ready."""

    def __init__(self, card: VpcdCard) -> None:
        self._timer = threading.Timer(PATIENT_ARRIVES, card.insert)
        self._timer.daemon = True

    def ready(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


def run_kiosk_demo(options: DemoOptions) -> dict[str, Any] | None:
    if not os.environ.get("DISPLAY") and options.autopilot is None:
        options.autopilot = DEFAULT_PLAN  # headless: nobody to tap, the autopilot does
    plan = Plan.load(options.autopilot) if options.autopilot is not None else None
    shots = options.shots or DEFAULT_SHOTS
    pin = str(read_profile(options.cps)["pin"])
    if options.fresh:
        shutil.rmtree(options.home, ignore_errors=True)
    options.home.mkdir(parents=True, exist_ok=True)
    from kiosk.sim.sandbox.server import SandboxServer

    daemon = ensure_pcscd()
    try:
        with VpcdCard(load_emulator(options.cps), slot_port(1)):
            vitale = VpcdCard(load_emulator(options.vitale), slot_port(0))
            patient = PatientArrives(vitale)
            server = SandboxServer(options.home / "sandbox", port=0).start()
            try:
                out = shots if plan is not None else options.home
                config = load_config(demo_config(options.home, server.url, server.pki.root, out))
                if plan is None:  # someone taps: the demo's pharmacist and patient only

                    def people(kiosk: DeviceKiosk) -> list[KioskObserver]:
                        return [PharmacistTypesPin(kiosk, pin), patient]

                    run_watched(config, options.size, people)
                    return None
                return run_autopilot(
                    config, plan, shots, size=options.size, cps_pin=pin,
                    more=lambda _kiosk: [patient],
                )  # fmt: skip
            finally:
                patient.cancel()
                vitale.pull()
                server.shutdown()
                server.server_close()
    finally:
        daemon.stop()


def demo_config(work: Path, url: str, pki_dir: Path, out: Path) -> Path:
    """``work/kiosk-demo.toml``: a kiosk config for the sandbox at ``url`` (its PKI in
    ``pki_dir``), a ledger in ``work/state``, the demo pharmacist code, receipts and
    admin exports under ``out``."""
    from kiosk.core.pharmacist_code import hash_code
    from kiosk.sim.sandbox.client_config import dmp_section
    from kiosk.sim.sandbox.pki import load_pharmacy

    path = work / DEMO_CONFIG
    path.write_text(
        "# Written by `kiosk run --demo`: the demo kiosk's config.\n"
        + dmp_section(pki_dir, url, relative=False)
        + "\n[ledger]\n"
        f'path = "{(work / "state" / "ledger.db").resolve()}"\n'
        'kiosk_id = "kiosk-demo"\n'
        "\n[kiosk]\n"
        f'pharmacy_name = "{load_pharmacy(pki_dir).name}"\n'
        f'pharmacist_code_hash = "{hash_code(DEMO_PHARMACIST_CODE)}"\n'
        f'spool = "{out.resolve() / "receipts"}"\n'
        f'exchange = "{out.resolve() / "admin"}"\n',
        encoding="utf-8",
    )
    return path
