"""``kiosk run``: the kiosk on a device, the demo, or a kiosk driven by an autopilot plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kiosk.cli.options import ConfigOption, emit_json, fail
from kiosk.config import Config, ConfigError, load_config
from kiosk.dmp.service_errors import DmpError
from kiosk.hardware.card_errors import CardError
from kiosk.hardware.cards import ProfileError


def run(
    demo: Annotated[
        bool, typer.Option("--demo", help="Emulated cards, a local DMP sandbox, a demo ledger.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="With --demo: forget earlier demo runs (out/demo/)."),
    ] = False,
    autopilot: Annotated[
        Path | None,
        typer.Option(help="JOURNEY.json: tap through the real UI, print a summary, exit."),
    ] = None,
    shots: Annotated[
        Path | None, typer.Option(help="Directory for one screenshot per screen.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run the kiosk from its config (/etc/kiosk/kiosk.toml). --demo brings its own cards,
    DMP sandbox and ledger (kept in out/demo/). --autopilot drives a kiosk whose DMP is a
    loopback sandbox, headless under its own Xvfb."""
    from kiosk.appliance.startup_checks import check_config

    summary: dict[str, Any] | None = None
    try:
        cfg = load_config(config)  # a broken config is reported even in the demo
        if demo or autopilot is not None:
            summary = _simulated(cfg, demo, fresh, autopilot, shots)
        else:
            from kiosk.appliance.device import run_device

            check_config(cfg)
            run_device(cfg)
    except (CardError, ConfigError, ProfileError, DmpError) as exc:
        fail(str(exc))
    if summary is not None:
        emit_json(summary)
        if summary.get("outcome") == "error":
            raise typer.Exit(1)


def _simulated(
    config: Config, demo: bool, fresh: bool, autopilot: Path | None, shots: Path | None
) -> dict[str, Any] | None:
    """The demo, or a kiosk driven by a plan: the only paths that load :mod:`kiosk.sim`."""
    from kiosk.appliance.startup_checks import check_config
    from kiosk.sim.errors import SimulationError

    try:
        if demo:
            from kiosk.sim.demo import DemoOptions, run_kiosk_demo

            return run_kiosk_demo(DemoOptions(autopilot=autopilot, shots=shots, fresh=fresh))
        from kiosk.sim.drive import DEFAULT_SHOTS, check_drivable, run_autopilot
        from kiosk.sim.plan import Plan

        assert autopilot is not None
        check_config(config)
        check_drivable(config)
        return run_autopilot(config, Plan.load(autopilot), shots or DEFAULT_SHOTS)
    except SimulationError as exc:
        fail(str(exc))
