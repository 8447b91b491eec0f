"""The ``kiosk`` command. Every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kiosk.cli_cards import card_app, cards_app
from kiosk.cli_common import ConfigOption, emit_json, fail
from kiosk.cli_dmp import dmp_app
from kiosk.cli_ledger import ledger_app
from kiosk.config import ConfigError, load_config
from kiosk.hardware.cards import ProfileError
from kiosk.hardware.errors import CardError

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
        bool, typer.Option("--demo", help="Emulated cards and a local DMP sandbox.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run the kiosk. For now ``--demo`` reads the demo cards through pcscd and opens the
    holder's DMP in a local sandbox (the touchscreen journey comes next)."""
    if not demo:
        fail("only the demo exists so far: `kiosk run --demo`")
    from kiosk.demo import run_demo
    from kiosk.dmp.errors import DmpError

    try:
        load_config(config)
        emit_json(run_demo())
    except (CardError, ConfigError, ProfileError, DmpError) as exc:
        fail(str(exc))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
