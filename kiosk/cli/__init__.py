"""The ``kiosk`` command. Every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys

import typer

from kiosk.cli.card_commands import card_app, cards_app
from kiosk.cli.dmp_commands import dmp_app
from kiosk.cli.doctor_commands import doctor
from kiosk.cli.ledger_commands import ledger_app
from kiosk.cli.logs_commands import logs
from kiosk.cli.provision_commands import provision
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
app.command("doctor")(doctor)
app.command("provision")(provision)
app.command("logs")(logs)


def main() -> None:
    import logging

    from kiosk.logs import failure, setup_logging

    setup_logging()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, its frames in the log
        failure(logging.getLogger("kiosk.cli"), "unexpected error", exc)
        sys.stderr.write(f"kiosk: unexpected error ({type(exc).__name__}): see the log above\n")
        sys.exit(1)
