"""The ``kiosk`` command. Every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys

import typer

from kiosk.cli.card_commands import card_app, cards_app
from kiosk.cli.dmp_commands import dmp_app
from kiosk.cli.ledger_commands import ledger_app
from kiosk.cli.run_commands import run
from kiosk.cli.sim_commands import cards_emulate, list_dmps, sandbox  # noqa: F401 - registers

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
app.command("run")(run)


def main() -> None:
    from kiosk.logs import setup_logging

    setup_logging()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
