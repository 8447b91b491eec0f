"""``kiosk doctor`` benchmark on a healthy sandbox kiosk: the command's wall time and each
check's, beside floors measured in the same run.

Prints one JSON object. The kiosk: a ``SandboxServer`` on 127.0.0.1 (fresh PKI in a
temporary directory), a ledger and its keys written by the real code, the pharmacist
code's hash, a network printer listening on loopback, a Carte Vitale in vpcd slot 0
and the pharmacist's CPS in slot 1 (emulators through the real pcscd, started when
absent). Run it under the card-stack lock: ``flock /tmp/borne-pcsc.lock python
bench/bench_doctor.py``.

- ``cli``: ``python -m kiosk.cli doctor --config … --json`` in a fresh interpreter, as a
  technician runs it (target: ≤ 3 s), vs ``python -m kiosk.cli --help`` (the CLI's own
  start-up) and ``python -c pass``.
- ``in_process``: ``diagnose()`` called in this process (no interpreter start-up): its
  wall time, and each check's time (the probe that made it; probes run concurrently, so
  the wall time is about the slowest probe, not the sum).
- ``probes_alone``: each probe by itself, in turn (what it costs without the others
  competing for the GIL).
- ``dmp_round_trip_floor``: DNS + TCP + TLS handshake with the client certificate + one
  GET with ``http.client``, nothing of the doctor: what the ``dmp_endpoint`` check costs
  at least.

Usage: python bench/bench_doctor.py [--runs N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kiosk.appliance.doctor import PROBES, diagnose
from kiosk.appliance.doctor.config_checks import load
from kiosk.appliance.doctor.report import Run
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.core.pharmacist_code import hash_code
from kiosk.sim.data import CARDS_DIR
from kiosk.sim.emulators.profiles import load_emulator
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
from kiosk.sim.pcscd import ensure_pcscd
from kiosk.sim.sandbox.pki import load_pharmacy
from kiosk.sim.sandbox.server import SandboxServer

TARGET_SECONDS = 3.0
ENV = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": ""}


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def wall(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=ENV, check=False, timeout=60)
        times.append(time.perf_counter() - started)
    return times


def make_site(root: Path, server: SandboxServer, printer_port: int) -> Path:
    certs, state = root / "certs", root / "state"
    certs.mkdir(parents=True)
    state.mkdir(mode=0o700)
    pki = server.pki
    for source in (pki.ca, pki.auth, pki.auth_key, pki.sign, pki.sign_key):
        shutil.copy(source, certs / source.name)
    consent = ConsentRecord("v1", "ab" * 32, True, True, False, False, "fr", "10001234567")
    with Ledger(state / "ledger.db", load_or_create_keys(state, "kiosk-bench")) as book:
        for n in range(50):
            act = book.begin("DMP_OPEN", "10001234567", f"2990175{n:08d}", consent)
            book.finish(act, "confirmed")
        book.checkpoint()
    (state / "receipts").mkdir(mode=0o700)
    config = root / "kiosk.toml"
    config.write_text(
        f'[dmp]\nendpoint = "{server.url}"\nca = "certs/ca.pem"\nauth_cert = "certs/auth.pem"\n'
        'auth_key = "certs/auth.key"\nsign_cert = "certs/sign.pem"\nsign_key = "certs/sign.key"\n'
        f'structure_id = "{load_pharmacy(pki.root).structure_id}"\n'
        '[ledger]\npath = "state/ledger.db"\nkiosk_id = "kiosk-bench"\n'
        f'[kiosk]\npharmacist_code_hash = "{hash_code("4321")}"\nspool = "state/receipts"\n'
        f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = {printer_port}\n',
        encoding="utf-8",
    )
    return config


def probes_alone(config: Path, runs: int) -> dict[str, list[float]]:
    """Each probe run by itself (the checks it waits for already made): its own cost,
    without the other probes' threads competing for the GIL."""
    loaded, _ = load(config)
    made = diagnose(config)
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        for probe in PROBES:
            run = Run(loaded)
            run.publish(made)
            started = time.perf_counter()
            probe.run(run)
            times.setdefault("+".join(probe.names), []).append(time.perf_counter() - started)
    return times


def round_trip(server: SandboxServer) -> float:
    """DNS + TCP + TLS with the client certificate + one GET, bare."""
    pki = server.pki
    started = time.perf_counter()
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.load_cert_chain(str(pki.auth), str(pki.auth_key))
    host, port = server.server_address[:2]
    conn = http.client.HTTPSConnection(str(host), int(port), context=context, timeout=5)
    conn.request("GET", "/si-dmp-server/v2/services")
    conn.getresponse().read()
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    pcscd = ensure_pcscd()
    cards = [
        VpcdCard(load_emulator(CARDS_DIR / name), slot_port(slot)).insert()
        for slot, name in ((0, "vitale-famille-martin.json"), (1, "cps-dupont-titulaire.json"))
    ]
    printer = socket.create_server(("127.0.0.1", 0))
    root = Path(tempfile.mkdtemp(prefix="bench-doctor-"))
    server = SandboxServer(root / "sandbox", port=0).start()
    try:
        config = make_site(root / "site", server, printer.getsockname()[1])
        time.sleep(0.5)  # pcscd sees both cards
        doctor = [sys.executable, "-m", "kiosk.cli", "doctor", "--config", str(config), "--json"]
        check = subprocess.run(doctor, capture_output=True, text=True, env=ENV, check=False)
        statuses = {c["name"]: c["status"] for c in json.loads(check.stdout)["checks"]}
        cli = wall(doctor, args.runs)
        help_floor = wall([sys.executable, "-m", "kiosk.cli", "--help"], args.runs)
        python_floor = wall([sys.executable, "-c", "pass"], args.runs)
        per_check: dict[str, list[float]] = {}
        in_process = []
        for _ in range(args.runs):
            started = time.perf_counter()
            for item in diagnose(config):
                per_check.setdefault(item.name, []).append(item.seconds)
            in_process.append(time.perf_counter() - started)
        alone = probes_alone(config, args.runs)
        floor = [round_trip(server) for _ in range(args.runs)]
    finally:
        server.shutdown()
        server.server_close()
        for card in cards:
            card.pull()
        printer.close()
        pcscd.stop()
        shutil.rmtree(root, ignore_errors=True)
    result: dict[str, Any] = {
        "runs": args.runs,
        "statuses": statuses,
        "exit_code": check.returncode,
        "cli": {
            "median_ms": median_ms(cli),
            "max_ms": round(max(cli) * 1000, 1),
            "target_ms": TARGET_SECONDS * 1000,
            "within_target": max(cli) <= TARGET_SECONDS,
            "kiosk_help_median_ms": median_ms(help_floor),
            "python_start_median_ms": median_ms(python_floor),
        },
        "in_process": {
            "median_ms": median_ms(in_process),
            "checks_median_ms": {name: median_ms(times) for name, times in per_check.items()},
        },
        "probes_alone_median_ms": {name: median_ms(times) for name, times in alone.items()},
        "dmp_round_trip_floor_median_ms": median_ms(floor),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
