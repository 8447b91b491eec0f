"""The ``kiosk`` command. Every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

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


def _usage_line(exc: UsageError) -> str:
    """A bad option or argument in one line: the command, what is wrong, where the help is
    (click's own form is a usage block, a hint and an error: three lines or more)."""
    names: list[str] = []
    ctx = exc.ctx
    while ctx is not None and ctx.parent is not None:  # the root's name is the program's
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    message = " ".join(exc.format_message().split())
    where = f"{' '.join(names)}: " if names else ""
    return f"kiosk: {where}{message} (see `{' '.join(['kiosk', *names])} --help`)"


def main() -> None:
    import logging

    from kiosk.logs import failure, setup_logging

    setup_logging()
    try:
        code = app(standalone_mode=False)
    except KeyboardInterrupt:
        sys.exit(130)
    except NoArgsIsHelpError as exc:
        exc.show()  # the command's help, as `kiosk` alone has always printed it
        sys.exit(exc.exit_code)
    except UsageError as exc:
        sys.stderr.write(_usage_line(exc) + "\n")
        sys.exit(exc.exit_code)
    except ClickException as exc:
        sys.stderr.write(f"kiosk: {' '.join(exc.format_message().split())}\n")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("kiosk: aborted\n")
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - a bug: one line here, its frames in the log
        failure(logging.getLogger("kiosk.cli"), "unexpected error", exc)
        sys.stderr.write(f"kiosk: unexpected error ({type(exc).__name__}): see the log above\n")
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)  # a typer.Exit(code) the command raised
