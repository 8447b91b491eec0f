"""``kiosk card read`` and ``kiosk cards emulate``."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from kiosk.cli.options import ConfigOption, JsonOption, emit_json, fail
from kiosk.config import ConfigError, load_config
from kiosk.hardware.card_errors import CardError
from kiosk.hardware.cards import ProfileError
from kiosk.hardware.roles import Role

card_app = typer.Typer(no_args_is_help=True, help="Read the card in a reader.")
cards_app = typer.Typer(no_args_is_help=True, help="Emulated cards for demo, tests and training.")


@card_app.command("read")
def card_read(
    reader: Annotated[
        str, typer.Option(help="patient, professional, or a reader name (or part of it).")
    ] = "patient",
    pin: Annotated[
        str | None, typer.Option(help="CPS PIN; one VERIFY is sent, never retried.")
    ] = None,
    as_json: JsonOption = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds before a card that does not answer is called mute.")
    ] = 10.0,
    config: ConfigOption = None,
) -> None:
    """Read the card now in READER and print what it holds."""
    from kiosk.hardware.card_reading import read_card

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
    profile: Annotated[Path, typer.Argument(help="Card profile JSON (docs/architecture.md §3).")],
    reader: Annotated[int, typer.Option(help="vpcd slot: 0 (port 35963) or 1 (35964).")] = 0,
    vpcd_port: Annotated[
        int | None, typer.Option(help="vpcd TCP port (overrides --reader).")
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
