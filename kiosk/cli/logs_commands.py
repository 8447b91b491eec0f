"""``kiosk logs``: the journeys the kiosk logged (today by default), as a table."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.options import JsonOption, emit_json, fail

UNIT = "kiosk.service"


def logs(
    since: Annotated[
        str, typer.Option(help="From when, as journalctl reads it: today, '2 hours ago', a date.")
    ] = "today",
    file: Annotated[
        Path | None,
        typer.Option(help="Read these log lines instead of the journal ('-': standard input)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Today's journeys from the journal: time, outcome, steps with their durations, DMP
    calls. Same as `journalctl -u kiosk.service -o cat --since today`, read for you."""
    from kiosk.appliance.journey_report import journeys, table

    lines = _read(file) if file is not None else _journal(since)
    rows = journeys(lines)
    if as_json:
        emit_json({"journeys": [row.as_json() for row in rows]})
    else:
        typer.echo(table(rows))


def _read(file: Path) -> list[str]:
    try:
        if str(file) == "-":
            return sys.stdin.buffer.read().decode("utf-8", "replace").splitlines()
        return file.read_bytes().decode("utf-8", "replace").splitlines()
    except IsADirectoryError:
        fail(f"{file}: is a directory, not a log file")
    except OSError as exc:
        fail(f"{file}: cannot read ({exc.strerror})")


def _journal(since: str) -> list[str]:
    if shutil.which("journalctl") is None:
        fail("journalctl is not installed here: pass the log lines with --file")
    command = ["journalctl", "-u", UNIT, "-o", "cat", "--no-pager", "--since", since]
    try:
        done = subprocess.run(command, capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired:
        fail("journalctl did not answer within 60 s")
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0:
        fail(f"journalctl failed: {said[-1] if said else f'exit {done.returncode}'}")
    for line in said:  # e.g. "Hint: You are currently not seeing messages from other users"
        typer.echo(f"kiosk: journalctl: {line}", err=True)
    return done.stdout.decode("utf-8", "replace").splitlines()
