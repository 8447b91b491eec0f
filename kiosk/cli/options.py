"""What the ``kiosk`` sub-commands share: options (``--config``, ``--json``), one-line
failures, JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

EXIT_FAILURE = 1

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default /etc/kiosk/kiosk.toml).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    typer.echo(f"kiosk: {message}", err=True)
    raise typer.Exit(code)


def emit_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


def emit_rows(
    as_json: bool, key: str, rows: list[dict[str, Any]], line: Callable[[dict[str, Any]], str],
    total: str,
) -> None:  # fmt: skip
    """A list: ``{key: rows}`` as JSON, else a line per row and a closing count."""
    if as_json:
        emit_json({key: rows})
        return
    for row in rows:
        typer.echo(line(row))
    typer.echo(total)
