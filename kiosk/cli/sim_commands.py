"""The commands that start the simulation (:mod:`kiosk.sim`): the DMP sandbox
(``kiosk dmp sandbox|list``), an emulated card (``kiosk cards emulate``), and ``kiosk
run --demo`` / ``--autopilot``. The only CLI module that imports the simulation; the
import contracts of pyproject.toml keep the others from it."""

from __future__ import annotations

import signal
import sqlite3
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from kiosk.cli.card_commands import cards_app
from kiosk.cli.dmp_commands import dmp_app
from kiosk.cli.options import JsonOption, emit_rows, fail
from kiosk.config import Config
from kiosk.hardware.cards import ProfileError

DataOption = Annotated[Path, typer.Option("--data", help="Sandbox data directory.")]


@dmp_app.command("sandbox")
def sandbox(
    data: DataOption,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")
    ] = 8443,
    seed: Annotated[
        Path | None, typer.Option(help='JSON list of existing DMPs: [{"ins", "status"}].')
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="Inject OP=KIND[@N|@N-|@N-M] (one per OP): every call of OP, or its Nth,"
            " from the Nth on, the Nth to the Mth; e.g. create=timeout, status=http500@2-."
        ),
    ] = None,
    fault_delay: Annotated[
        float, typer.Option(min=0, help="Seconds a 'timeout' fault stalls.")
    ] = 30.0,
    clock_offset: Annotated[
        float, typer.Option(help="Seconds added to the Date header (a server clock off).")
    ] = 0.0,
) -> None:
    """Run the local DMP service (HTTPS, client certificates, signed VIHF) until SIGTERM."""
    from kiosk.sim.sandbox.client_config import write_client_config
    from kiosk.sim.sandbox.server import FaultSpecError, SandboxServer, parse_faults
    from kiosk.sim.sandbox.store import StoreError

    try:  # every argument checked before the data directory is made or written
        faults = parse_faults(fault or [])
        entries = _read_seed(seed) if seed else []
    except (FaultSpecError, ValueError) as exc:
        fail(str(exc))
    if data.exists() and not data.is_dir():
        fail(f"--data {data}: not a directory")
    try:
        server = SandboxServer(data, host, port, faults, fault_delay, clock_offset)
    except (FaultSpecError, ValueError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    try:
        server.store.seed(entries)
    except StoreError as exc:
        fail(f"{seed}: {exc}")
    config = write_client_config(data, server.url)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    typer.echo(f"kiosk: DMP sandbox on {server.url} (client config: {config})", err=True)
    stop.wait()
    server.shutdown()
    server.server_close()


def _read_seed(path: Path) -> list[dict[str, Any]]:
    from kiosk.config_schema import JsonFileError, read_json
    from kiosk.sim.sandbox.store import StoreError, check_seed

    try:
        return check_seed(read_json(path))
    except JsonFileError as exc:
        raise ValueError(f"{path}: not a JSON seed file ({exc})") from None
    except StoreError as exc:
        raise ValueError(f"{path}: {exc}") from None


@dmp_app.command("list")
def list_dmps(
    data: DataOption,
    as_json: JsonOption = False,
) -> None:
    """What the sandbox in DATA holds."""
    from kiosk.sim.sandbox.store import SandboxStore

    where = data / "sandbox.db"
    if not where.is_file():
        fail(f"{data}: no sandbox data here (start `kiosk dmp sandbox --data {data}`)")
    try:
        store = SandboxStore(where, read_only=True)
        try:
            dmps = store.list()
        finally:
            store.close()
    except (sqlite3.Error, ValueError) as exc:  # ValueError: a guardian that is not JSON
        fail(f"{where}: not a sandbox's data ({exc})")
    emit_rows(
        as_json, "dmps", dmps,
        lambda dmp: f"{dmp['status']:7} created {dmp['created_at']} by {dmp['created_by_rpps']}",
        f"{len(dmps)} DMP(s)",
    )  # fmt: skip


@cards_app.command("emulate")
def cards_emulate(
    profile: Annotated[Path, typer.Argument(help="Card profile JSON (docs/architecture.md §3).")],
    reader: Annotated[
        int, typer.Option(min=0, max=1, help="vpcd slot: 0 (port 35963) or 1 (35964).")
    ] = 0,
    vpcd_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="vpcd TCP port (overrides --reader).")
    ] = None,
    host: Annotated[str, typer.Option(help="vpcd host.")] = "127.0.0.1",
) -> None:
    """Insert an emulated card until SIGTERM/SIGINT (= the card is pulled)."""
    from kiosk.sim.emulators.profiles import load_emulator
    from kiosk.sim.emulators.vpcd import VpcdCard, slot_port

    try:
        card = load_emulator(profile)
        port = vpcd_port if vpcd_port is not None else slot_port(reader)
    except (ProfileError, ValueError) as exc:
        fail(f"{profile}: {exc}")
    session = VpcdCard(card, port, host)

    def pull(_signum: int, _frame: FrameType | None) -> None:
        session.pull()

    signal.signal(signal.SIGTERM, pull)
    signal.signal(signal.SIGINT, pull)
    try:
        session.insert(timeout=10)
    except TimeoutError:
        fail(f"vpcd is not listening on {host}:{port}: is pcscd with vsmartcard-vpcd running?")
    typer.echo(f"kiosk: {profile.name} inserted on vpcd port {port}; SIGTERM pulls it", err=True)
    session.wait()


def run_simulated(
    config: Config, demo: bool, fresh: bool, autopilot: Path | None, shots: Path | None
) -> dict[str, Any] | None:
    """The demo, or a kiosk driven by a plan: the only paths that load :mod:`kiosk.sim`."""
    from kiosk.appliance.startup_checks import check_config
    from kiosk.sim.errors import SimulationError

    try:
        if demo:
            from kiosk.sim.demo import DemoOptions, run_kiosk_demo
            from kiosk.sim.plan import Plan

            if autopilot is not None:
                Plan.load(autopilot)  # refused before pcscd, the cards and the sandbox start

            return run_kiosk_demo(DemoOptions(autopilot=autopilot, shots=shots, fresh=fresh))
        from kiosk.sim.drive import DEFAULT_SHOTS, check_drivable, run_autopilot
        from kiosk.sim.plan import Plan

        assert autopilot is not None
        plan = Plan.load(autopilot)  # a bad plan is refused first, whatever the kiosk
        check_config(config)
        check_drivable(config)
        return run_autopilot(config, plan, shots or DEFAULT_SHOTS)
    except SimulationError as exc:
        fail(str(exc))
