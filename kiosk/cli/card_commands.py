"""``kiosk card read`` and ``kiosk cards emulate``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kiosk.cli.options import ConfigOption, JsonOption, emit_json, fail
from kiosk.config import ConfigError, load_config
from kiosk.hardware.card_errors import CardError

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
    from kiosk.appliance.wiring import reader_overrides
    from kiosk.hardware.card_reading import read_card

    try:
        overrides = reader_overrides(load_config(config))
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
