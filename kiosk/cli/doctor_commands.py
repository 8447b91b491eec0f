"""``kiosk doctor``: check everything a kiosk needs, and say what to fix."""

from __future__ import annotations

import typer

from kiosk.cli.options import ConfigOption, JsonOption, emit_json, fail

_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def doctor(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Every check ok/warn/fail with why and a fix; exits non-zero when one fails."""
    from kiosk.appliance.doctor import Status, diagnose

    checks = diagnose(config)
    if as_json:
        emit_json({"checks": [check.as_json() for check in checks]})
    else:
        width = max(len(check.name) for check in checks)
        for check in checks:
            typer.echo(
                f"{_MARKS[check.status]} {check.name:{width}}  {check.why}"
                f"  ({check.seconds * 1000:.0f} ms)"
            )
            if check.status is not Status.OK and check.fix:
                typer.echo(f"     {'':{width}}  fix: {check.fix}")
    failed = [check.name for check in checks if check.status is Status.FAIL]
    if failed:
        fail(f"doctor: {len(failed)} check(s) failed: {', '.join(failed)}")
