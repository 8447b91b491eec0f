"""Today's journeys, read back from the kiosk's log lines (:mod:`kiosk.logs`): what
``kiosk logs`` prints for a technician. Lines that are not the kiosk's JSON (another
program's, a truncated one) are skipped; a journey with no ``journey.end`` (in progress,
or the kiosk was killed) is ``unfinished``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JourneyRow:
    journey: str
    started: str = ""  # ISO time of the journey's first line
    outcome: str = "unfinished"
    duration_ms: int | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    dmp_calls: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey, "started": self.started, "outcome": self.outcome,
            "duration_ms": self.duration_ms, "steps": self.steps,
            "dmp_calls": self.dmp_calls, "error": self.error,
        }  # fmt: skip


def parse_line(line: str) -> dict[str, Any] | None:
    """One log line as the kiosk wrote it (a ``<6>`` syslog prefix allowed), else None."""
    text = line.strip()
    if text.startswith("<") and ">" in text[:4]:
        text = text[text.index(">") + 1 :]
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def journeys(lines: Iterable[str]) -> list[JourneyRow]:
    rows: dict[str, JourneyRow] = {}
    for line in lines:
        data = parse_line(line)
        if data is None or not isinstance(data.get("journey"), str):
            continue
        row = rows.get(data["journey"])
        if row is None:
            row = rows[data["journey"]] = JourneyRow(data["journey"], str(data.get("ts", "")))
        _add(row, data)
    return list(rows.values())


def _add(row: JourneyRow, data: dict[str, Any]) -> None:
    kind = data.get("event")
    if kind == "journey.step":
        step = {"step": data.get("step"), "duration_ms": data.get("duration_ms")}
        if data.get("error"):
            step["error"] = data["error"]
            row.error = str(data["error"])
        row.steps.append(step)
    elif kind == "journey.end":
        row.outcome = str(data.get("outcome", "unknown"))
        duration = data.get("duration_ms")
        row.duration_ms = duration if isinstance(duration, int) else None
        if data.get("error"):
            row.error = str(data["error"])
    elif kind == "dmp.call":
        row.dmp_calls.append(
            {key: data.get(key) for key in ("transaction", "duration_ms", "result")}
        )


def table(rows: list[JourneyRow]) -> str:
    """time, outcome, duration, steps and DMP calls, one journey a line."""
    lines = [f"{'time':8}  {'journey':8}  {'outcome':14}  {'total':>6}  steps · DMP calls"]
    for row in rows:
        time = _local_time(row.started)
        total = f"{row.duration_ms / 1000:.1f}s" if row.duration_ms is not None else "-"
        steps = " ".join(
            f"{s.get('step') or '?'}({_seconds(s.get('duration_ms'))})" for s in row.steps
        )
        calls = " ".join(
            f"{c.get('transaction') or '?'}:{c.get('result') or '?'}({_ms(c.get('duration_ms'))})"
            for c in row.dmp_calls
        )
        error = f" · error {row.error}" if row.error else ""
        lines.append(
            f"{time:8}  {row.journey:8}  {row.outcome:14}  {total:>6}  {steps}"
            f"{' · ' + calls if calls else ''}{error}"
        )
    lines.append(f"{len(rows)} journey(s)")
    return "\n".join(lines)


def _local_time(iso: str) -> str:
    """HH:MM:SS in the kiosk's time zone (the lines are written in UTC)."""
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return "?"


def _seconds(ms: object) -> str:
    return f"{ms / 1000:.1f}s" if isinstance(ms, int) else "?"


def _ms(ms: object) -> str:
    return f"{ms}ms" if isinstance(ms, int) else "?"
