"""The ``kiosk`` command. Every failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import typer

from kiosk.config import ConfigError, load_config
from kiosk.hardware.cards import ProfileError
from kiosk.hardware.errors import CardError
from kiosk.hardware.roles import Role

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Borne DMP: pharmacy counter kiosk that opens a patient's DMP.",
)
card_app = typer.Typer(no_args_is_help=True, help="Read the card in a reader.")
cards_app = typer.Typer(no_args_is_help=True, help="Emulated cards for demo, tests and training.")
app.add_typer(card_app, name="card")
app.add_typer(cards_app, name="cards")

EXIT_FAILURE = 1

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default /etc/kiosk/kiosk.toml).")
]


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    typer.echo(f"kiosk: {message}", err=True)
    raise typer.Exit(code)


def emit_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


@card_app.command("read")
def card_read(
    reader: Annotated[
        str, typer.Option(help="patient, professional, or a reader name (or part of it).")
    ] = "patient",
    pin: Annotated[
        str | None, typer.Option(help="CPS PIN; one VERIFY is sent, never retried.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the card's profile JSON.")] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds before a card that does not answer is called mute.")
    ] = 10.0,
    config: ConfigOption = None,
) -> None:
    """Read the card now in READER and print what it holds."""
    from kiosk.hardware.reading import read_card

    try:
        cfg = load_config(config)
        overrides = {
            role: name
            for role, name in (
                (Role.PATIENT, cfg.readers.patient),
                (Role.PROFESSIONAL, cfg.readers.professional),
            )
            if name
        }
        profile = read_card(reader, pin, overrides, deadline=timeout)
    except (CardError, ConfigError) as exc:
        fail(str(exc))
    if as_json:
        emit_json(profile)
    else:
        typer.echo(describe_card(profile))


def describe_card(profile: dict[str, Any]) -> str:
    if profile["card"] == "cps":
        return (
            f"CPS {profile['serial']}: {profile['first_name']} {profile['last_name']}, "
            f"RPPS {profile['rpps']}, profession {profile['profession']}, "
            f"PIN tries left {profile['pin_tries_left']}"
        )
    lines = [f"Carte Vitale {profile['serial']}: {len(profile['beneficiaries'])} beneficiaries"]
    lines += [
        f"  {i}. {b['first_name']} {b['last_name']} (quality {b['quality']})"
        for i, b in enumerate(profile["beneficiaries"])
    ]
    return "\n".join(lines)


@cards_app.command("emulate")
def cards_emulate(
    profile: Annotated[Path, typer.Argument(help="Card profile JSON (DESIGN §3).")],
    reader: Annotated[int, typer.Option(help="vpcd slot: 0 (port 35963) or 1 (35964).")] = 0,
    vpcd_port: Annotated[
        int | None, typer.Option(help="vpcd TCP port (overrides --reader).")
    ] = None,
    host: Annotated[str, typer.Option(help="vpcd host.")] = "127.0.0.1",
) -> None:
    """Insert an emulated card until SIGTERM/SIGINT (= the card is pulled)."""
    from kiosk.hardware.emulators.profiles import load_emulator
    from kiosk.hardware.emulators.vpcd import VpcdCard, slot_port

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


@app.command("run")
def run(
    demo: Annotated[
        bool, typer.Option("--demo", help="Emulated cards (and later the DMP sandbox).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run the kiosk. For now ``--demo`` reads the demo cards through pcscd end to end."""
    if not demo:
        fail("only the demo exists so far: `kiosk run --demo`")
    from kiosk.demo import run_card_demo

    try:
        load_config(config)
        emit_json(run_card_demo())
    except (CardError, ConfigError, ProfileError) as exc:
        fail(str(exc))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
