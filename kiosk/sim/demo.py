"""``kiosk run --demo``: the device's own code (:mod:`kiosk.appliance.device`) on emulated parts.

pcscd (reused or started) with our emulated CPS in slot 1 and Vitale in slot 0, the DMP
sandbox on loopback with its own PKI, a demo ledger and a config written for them; then
exactly what ``kiosk run`` does on a kiosk, the demo's pharmacist typing the demo CPS's
PIN. Without a display it runs under its own Xvfb and, unless a plan is given, the
autopilot follows ``config/journeys/holder-creates.json``.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.appliance.device import DEFAULT_SHOTS, RunOptions, run_device
from kiosk.config import load_config
from kiosk.sim.data import CARDS_DIR, DEMO_CPS, DEMO_VITALE
from kiosk.sim.emulators.profiles import load_emulator, read_profile
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
from kiosk.sim.pcscd import ensure_pcscd

JOURNEYS_DIR = CARDS_DIR.parent / "journeys"
DEFAULT_PLAN = JOURNEYS_DIR / "holder-creates.json"
DEMO_PHARMACIST_CODE = "2468"
PATIENT_ARRIVES = 1.0  # seconds after the kiosk is ready


@dataclass
class DemoOptions:
    autopilot: Path | None = None
    shots: Path | None = None
    vitale: Path = DEMO_VITALE
    cps: Path = DEMO_CPS
    size: tuple[int, int] = (800, 480)


def run_kiosk_demo(options: DemoOptions) -> dict[str, Any] | None:
    if not os.environ.get("DISPLAY") and options.autopilot is None:
        options.autopilot = DEFAULT_PLAN  # headless: nobody to tap, the autopilot does
    if options.autopilot is not None and options.shots is None:
        options.shots = DEFAULT_SHOTS
    pin = str(read_profile(options.cps)["pin"])
    from kiosk.sim.sandbox.server import SandboxServer

    daemon = ensure_pcscd()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="kiosk-demo-") as tmp,
            VpcdCard(load_emulator(options.cps), slot_port(1)),
        ):
            vitale = VpcdCard(load_emulator(options.vitale), slot_port(0))
            # the demo's patient walks up a moment after the kiosk is ready
            arrive = threading.Timer(PATIENT_ARRIVES, vitale.insert)
            arrive.daemon = True
            server = SandboxServer(Path(tmp) / "sandbox", port=0).start()
            try:
                out = options.shots if options.shots else Path(tmp)
                config = load_config(demo_config(Path(tmp), server.url, server.pki.root, out))
                run = RunOptions(
                    options.autopilot, options.shots, options.size, pin, when_ready=arrive.start
                )
                return run_device(config, run)
            finally:
                arrive.cancel()
                vitale.pull()
                server.shutdown()
                server.server_close()
    finally:
        daemon.stop()


def demo_config(work: Path, url: str, pki_dir: Path, out: Path) -> Path:
    """A kiosk config for the sandbox at ``url``: its PKI, a demo ledger, the demo code."""
    from kiosk.core.pharmacist_code import hash_code
    from kiosk.sim.sandbox.client_config import write_client_config

    # next to the sandbox's client config, whose certificate paths are relative to it
    dmp = write_client_config(pki_dir, url).read_text(encoding="utf-8")
    path = pki_dir / "kiosk-demo.toml"
    path.write_text(
        dmp + "\n[ledger]\n"
        f'path = "{work / "state" / "ledger.db"}"\n'
        'kiosk_id = "kiosk-demo"\n'
        "\n[kiosk]\n"
        f'pharmacy_name = "{_pharmacy_name(pki_dir)}"\n'
        f'pharmacist_code_hash = "{hash_code(DEMO_PHARMACIST_CODE)}"\n'
        f'spool = "{out.resolve() / "receipts"}"\n'
        f'exchange = "{out.resolve() / "admin"}"\n',
        encoding="utf-8",
    )
    return path


def _pharmacy_name(pki_dir: Path) -> str:
    from kiosk.sim.sandbox.pki import load_pharmacy

    return load_pharmacy(pki_dir).name
