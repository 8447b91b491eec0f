"""The ``kiosk`` command. Every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.card_commands import card_app, cards_app
from kiosk.cli.dmp_commands import dmp_app
from kiosk.cli.ledger_commands import ledger_app
from kiosk.cli.options import ConfigOption, emit_json, fail
from kiosk.config import ConfigError, load_config
from kiosk.hardware.card_errors import CardError
from kiosk.hardware.cards import ProfileError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Borne DMP: pharmacy counter kiosk that opens a patient's DMP.",
)
app.add_typer(card_app, name="card")
app.add_typer(cards_app, name="cards")
app.add_typer(dmp_app, name="dmp")
app.add_typer(ledger_app, name="ledger")


@app.command("run")
def run(
    demo: Annotated[
        bool, typer.Option("--demo", help="Emulated cards, a local DMP sandbox, a demo ledger.")
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
    """Run the kiosk from its config (/etc/kiosk/kiosk.toml). With --autopilot and no
    display, it runs under its own Xvfb. --demo brings its own cards, DMP and ledger."""
    from kiosk.dmp.service_errors import DmpError
    from kiosk.sim.plan import AutopilotError
    from kiosk.sim.xvfb import NoDisplay

    try:
        if demo:
            from kiosk.sim.demo import DemoOptions, run_kiosk_demo

            load_config(config)  # a broken config is reported even in the demo
            summary = run_kiosk_demo(DemoOptions(autopilot=autopilot, shots=shots))
        else:
            from kiosk.appliance.device import RunOptions, check_config, run_device

            cfg = load_config(config)
            check_config(cfg)
            summary = run_device(cfg, RunOptions(autopilot=autopilot, shots=shots))
    except (CardError, ConfigError, ProfileError, DmpError, NoDisplay, AutopilotError) as exc:
        fail(str(exc))
    if summary is not None:
        emit_json(summary)
        if summary.get("outcome") == "error":
            raise typer.Exit(1)


def main() -> None:
    from kiosk.logs import setup_logging

    setup_logging()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
