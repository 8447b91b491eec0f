"""``kiosk run``: the kiosk on a device, the demo, or a kiosk driven by an autopilot plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kiosk.cli.options import ConfigOption, emit_json, fail
from kiosk.config import ConfigError, load_config
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

    if fresh and not demo:
        fail("--fresh goes with --demo (it forgets what earlier demo runs made)")
    summary: dict[str, Any] | None = None
    try:
        cfg = load_config(config)  # a broken config is reported even in the demo
        if demo or autopilot is not None:
            from kiosk.cli.sim_commands import run_simulated

            summary = run_simulated(cfg, demo, fresh, autopilot, shots)
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
