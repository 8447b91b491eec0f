"""The rows of ``bench/run``'s table: which figure of which bench's JSON, against what.

One :class:`Row` per figure: the bench that prints it, the JSON paths of our figure and of
its floor (measured in the same run), the unit, and the target (a text for the reader,
and the limit it is checked against: a ratio to the floor, an absolute value, or both).
:func:`build_rows` applies them to the benches' JSON; :func:`markdown` makes the table.

A path is dotted keys, with integers indexing lists (``by_size.-1.verify_s``: the last
size's ``verify_s``). A figure's text may name paths in braces (``{by_size.-1.entries}``),
replaced by their values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Mark = Literal["met", "missed", "n/a", "none", "no figure"]


@dataclass(frozen=True)
class Row:
    bench: str
    figure: str
    ours: str
    unit: str  # of the figure after ``scale``: "ms", "s", "MiB", "req/s", "events/s"
    floor: str | None = None
    floor_text: str = ""  # what the floor is, shown beside its value
    target: str = "—"
    max_ratio: float | None = None  # ours / floor must not exceed it
    max_value: float | None = None  # ours (in ``unit``) must not exceed it
    scale: float = 1.0  # raw JSON value x scale = value in ``unit``
    only_if: tuple[str, float] | None = None  # the target holds when path's value >= this


ROWS: tuple[Row, ...] = (
    # bench/bench_cards.py
    Row(
        "cards",
        "read a Vitale, holder + 4 dependants, open connection (median)",
        "vitale_read.ours.median_ms",
        "ms",
        floor="vitale_read.bare_pyscard_loop.median_ms",
        floor_text="bare `SCardTransmit` loop",
        target="≤ 1.3× floor",
        max_ratio=1.3,
    ),
    Row(
        "cards",
        '`read_card("patient")`: context, role, connect, read (median)',
        "card_read_cli_path.ours.median_ms",
        "ms",
        floor="card_read_cli_path.bare_pyscard.median_ms",
        floor_text="bare establish + connect + loop",
    ),
    Row(
        "cards",
        "card inserted → event (median)",
        "insertion.ours_monitor.median_ms",
        "ms",
        floor="insertion.bare_getstatuschange.median_ms",
        floor_text="bare `SCardGetStatusChange`",
        target="≤ 300 ms",
        max_value=300,
    ),
    # bench/bench_dmp.py
    Row(
        "dmp",
        "VIHF built and signed + SOAP envelope (median)",
        "vihf_sign_envelope.ours_assertion_plus_envelope.median_ms",
        "ms",
        floor="vihf_sign_envelope.floor_bare_rsa2048_pkcs1v15_sha256.median_ms",
        floor_text="bare RSA-2048 signature",
        target="≤ 20 ms",
        max_value=20,
    ),
    Row(
        "dmp",
        "TD0.2 status call, one client (median)",
        "status_latency.ours_td02_status.median_ms",
        "ms",
        floor="status_latency.floor_bare_http_client_post_mtls_echo.median_ms",
        floor_text="bare mutual-TLS POST to an echo server",
    ),
    Row(
        "dmp",
        "{throughput.status.clients} concurrent clients, status",
        "throughput.status.requests_per_s",
        "req/s",
        floor="throughput.floor_echo.requests_per_s",
        floor_text="echo server, same load",
    ),
    Row(
        "dmp",
        "{throughput.create.clients} concurrent clients, create",
        "throughput.create.requests_per_s",
        "req/s",
        floor="throughput.floor_echo.requests_per_s",
        floor_text="echo server, same load",
    ),
    # bench/bench_ledger.py
    Row(
        "ledger",
        "durable append `begin` (pending, fsynced), p99",
        "append.begin.p99_ms",
        "ms",
        floor="append.floor_sqlite_commit.p99_ms",
        floor_text="one-row INSERT + COMMIT, WAL, FULL",
        target="≤ 2× floor",
        max_ratio=2.0,
    ),
    Row(
        "ledger",
        "durable append `finish` (outcome), p99",
        "append.finish.p99_ms",
        "ms",
        floor="append.floor_sqlite_commit.p99_ms",
        floor_text="one-row INSERT + COMMIT, WAL, FULL",
        target="≤ 2× floor",
        max_ratio=2.0,
    ),
    Row(
        "ledger",
        "`report` over {by_size.-1.entries} entries (median)",
        "by_size.-1.report_s.median",
        "s",
        target="≤ 0.5 s at 1M",
        max_value=0.5,
        only_if=("by_size.-1.entries", 1_000_000),
    ),
    Row(
        "ledger",
        "`verify` over {by_size.-1.entries} entries",
        "by_size.-1.verify_s",
        "s",
        floor="by_size.-1.floor_chain_rehash_s",
        floor_text="bare SHA-256 chain re-hash",
        target="≤ 3× floor at 1M",
        max_ratio=3.0,
        only_if=("by_size.-1.entries", 1_000_000),
    ),
    # bench/bench_ui.py
    Row(
        "ui",
        "cold start to the first welcome frame (median)",
        "cold_start.kiosk_first_welcome_frame_s",
        "s",
        floor="cold_start.minimal_first_frame_s",
        floor_text="minimal Kivy app's first frame",
        target="≤ 1.3× floor",
        max_ratio=1.3,
    ),
    Row(
        "ui",
        "cold start to READY=1 (median)",
        "cold_start.kiosk_ready_notified_s",
        "s",
        floor="cold_start.minimal_first_frame_s",
        floor_text="minimal Kivy app's first frame",
        target="≤ 1.3× floor",
        max_ratio=1.3,
    ),
    Row(
        "ui",
        "`kiosk run --config …` itself to READY=1 (median)",
        "cold_start.kiosk_run_command_ready_notified_s",
        "s",
        floor="cold_start.minimal_first_frame_s",
        floor_text="minimal Kivy app's first frame",
    ),
    Row(
        "ui",
        "resident memory after one journey (peak, no screenshots)",
        "memory.kiosk_no_screenshots_peak_rss_mib",
        "MiB",
        floor="memory.minimal_peak_rss_mib",
        floor_text="minimal Kivy app",
        target="≤ 1.3× floor",
        max_ratio=1.3,
    ),
    Row(
        "ui",
        "resident memory at the end of that journey (VmRSS, median run)",
        "journey_overhead.median_run.rss_after_journey_mib",
        "MiB",
        floor="memory.minimal_peak_rss_mib",
        floor_text="minimal Kivy app",
    ),
    Row(
        "ui",
        "peak memory of `kiosk run --autopilot`, a screenshot per screen",
        "memory.kiosk_peak_rss_mib",
        "MiB",
        floor="memory.minimal_peak_rss_mib",
        floor_text="minimal Kivy app",
    ),
    Row(
        "ui",
        "longest frame gap while a DMP creation is in flight",
        "frames_during_dmp_call.kiosk.max_ms",
        "ms",
        floor="frames_during_dmp_call.minimal_idle.max_ms",
        floor_text="minimal app idle",
        target="≤ 50 ms",
        max_value=50,
    ),
    Row(
        "ui",
        "kiosk's own time for one journey (median run)",
        "journey_overhead.median_run.overhead_s",
        "s",
        target="≤ 1 s",
        max_value=1.0,
    ),
    # bench/bench_pi.py: bench_ui's figures again, its Kivy children under a CPU quota
    # worth one Raspberry Pi 4 core (calibrated in the same run)
    Row(
        "pi",
        "calibration: `sysbench cpu`, 1 thread, inside the quota ({cgroup.cpus} of a core)",
        "calibration.in_cgroup_events_per_s",
        "events/s",
        floor="calibration.pi4_events_per_s",
        floor_text="Raspberry Pi 4 core, published",
    ),
    Row(
        "pi",
        "one Pi 4 core: cold start to the first welcome frame (median)",
        "ui.cold_start.kiosk_first_welcome_frame_s",
        "s",
        floor="ui.cold_start.minimal_first_frame_s",
        floor_text="minimal Kivy app, same quota",
        target="≤ 3 s",
        max_value=3.0,
    ),
    Row(
        "pi",
        "one Pi 4 core: longest frame gap while a DMP creation is in flight",
        "ui.frames_during_dmp_call.kiosk.max_ms",
        "ms",
        floor="ui.frames_during_dmp_call.minimal_idle.max_ms",
        floor_text="minimal app idle, same quota",
        target="≤ 100 ms",
        max_value=100,
    ),
    Row(
        "pi",
        "one Pi 4 core: kiosk's own time for one journey (median run)",
        "ui.journey_overhead.median_run.overhead_s",
        "s",
        target="≤ 2 s",
        max_value=2.0,
    ),
    Row(
        "pi",
        "one Pi 4 core: pharmacist-code check, scrypt N=2¹⁵ r=8 (median)",
        "kdf.budget_median_ms",
        "ms",
        floor="kdf.free_median_ms",
        floor_text="same check, no quota",
    ),
    # bench/bench_doctor.py
    Row(
        "doctor",
        "`kiosk doctor --json`, healthy site (median)",
        "cli.median_ms",
        "ms",
        floor="cli.kiosk_help_median_ms",
        floor_text="`kiosk --help`",
        target="≤ 3 s",
        max_value=3000,
    ),
    Row(
        "doctor",
        "doctor's DMP round trip, in process (median)",
        "in_process.checks_median_ms.dmp_endpoint",
        "ms",
        floor="dmp_round_trip_floor_median_ms",
        floor_text="bare mutual-TLS GET",
    ),
    # bench/bench_soak.py
    Row(
        "soak",
        "resident memory slope per 1,000 journeys ({journeys} journeys, Vitale read through"
        " pcscd, after {process.warm_up_journeys} of warm-up)",
        "process.rss_mib.slope_per_1000",
        "MiB",
        target="≤ 1 MiB",
        max_value=1.0,
    ),
    Row(
        "soak",
        "of which outside SQLite's page cache (which is bounded: about 2 MiB per open database)",
        "process.rss_less_sqlite_mib.slope_per_1000",
        "MiB",
    ),
    Row(
        "soak",
        "open descriptors, slope per 1,000 journeys",
        "process.fds.slope_per_1000",
        "",
        target="constant",
        max_value=0.0,
    ),
    Row(
        "soak",
        "threads, slope per 1,000 journeys",
        "process.threads.slope_per_1000",
        "",
        target="constant",
        max_value=0.0,
    ),
    Row("soak", "journeys per second (absolute)", "journeys_per_s", "journeys/s"),
    # bench/bench_speech.py
    Row(
        "speech",
        "say → first audio byte, espeak-ng kept warm (median)",
        "first_audio.ours_warm_first_byte_s",
        "ms",
        floor="first_audio.floor_cold_espeak_first_byte_s",
        floor_text="cold `espeak-ng --stdout`",
        scale=1000,
    ),
    Row(
        "speech",
        "screen change → first audio (with the layout's settle wait)",
        "first_audio.screen_to_first_audio_s",
        "ms",
        target="≤ 300 ms",
        max_value=300,
        scale=1000,
    ),
    Row(
        "speech",
        "longest frame gap while speaking every 250 ms",
        "frames_while_speaking.ours_speaking_max_gap_s",
        "ms",
        floor="frames_while_speaking.floor_idle_max_gap_s",
        floor_text="same app, idle",
        target="≤ 50 ms",
        max_value=50,
        scale=1000,
    ),
)

BENCHES: tuple[str, ...] = tuple(dict.fromkeys(row.bench for row in ROWS))


class Missing(LookupError):
    """A path that the JSON does not have."""


def lookup(data: object, path: str) -> object:
    """The value at ``path`` (dotted keys, integers index lists); :class:`Missing` if none."""
    value = data
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, Sequence) and not isinstance(value, str):
            try:
                value = value[int(part)]
            except (ValueError, IndexError):
                raise Missing(path) from None
        else:
            raise Missing(path)
    return value


def number(data: object, path: str) -> float:
    value = lookup(data, path)
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise Missing(path)
    return float(value)


def fmt(value: float) -> str:
    """Three significant figures, thousands separated: 0.00123, 1.23, 123, 1,235."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{digits}f}"


def fill(text: str, data: object) -> str:
    """``text`` with each ``{path}`` replaced by its value (``?`` when missing)."""

    def one(match: re.Match[str]) -> str:
        try:
            value = lookup(data, match.group(1))
        except Missing:
            return "?"
        return f"{value:,}" if isinstance(value, int) else str(value)

    return re.sub(r"\{([^{}]+)\}", one, text)


@dataclass(frozen=True)
class Result:
    row: Row
    figure: str
    ours: float | None
    floor: float | None
    ratio: float | None
    mark: Mark
    note: str = ""  # why there is no figure: skipped, failed, missing

    def cells(self) -> list[str]:
        row = self.row
        target = row.target
        if self.mark == "met":
            target += ": met"
        elif self.mark == "missed":
            target += ": **missed**"
        elif self.mark == "n/a":
            target += ": not checked, run below that size"
        if self.ours is None:
            return [self.figure, target, self.note or "—", "—", "—"]
        ours = f"{fmt(self.ours)} {row.unit}"
        floor = "—"
        if self.floor is not None:
            floor = f"{row.floor_text}: {fmt(self.floor)} {row.unit}".lstrip(": ")
        ratio = "—" if self.ratio is None else f"{fmt(self.ratio)}×"
        if self.mark == "missed":
            if row.max_ratio is not None and (self.ratio or 0.0) > row.max_ratio:
                ratio = f"**{ratio}**"
            if row.max_value is not None and self.ours > row.max_value:
                ours = f"**{ours}**"
        return [self.figure, target, ours, floor, ratio]


def evaluate(row: Row, data: Mapping[str, Any] | None, note: str = "") -> Result:
    """One row against one bench's JSON (``None``: the bench did not run or failed)."""
    if data is None or "skipped" in data:
        why = note or (str(data["skipped"]) if data else "not run")
        return Result(row, fill(row.figure, {}), None, None, None, "no figure", why)
    figure = fill(row.figure, data)
    try:
        ours = number(data, row.ours) * row.scale
    except Missing:
        return Result(row, figure, None, None, None, "no figure", f"no `{row.ours}`")
    floor = ratio = None
    if row.floor is not None:
        try:
            floor = number(data, row.floor) * row.scale
        except Missing:
            floor = None
        if floor:
            ratio = ours / floor
    mark: Mark = "none"
    if row.max_ratio is not None or row.max_value is not None:
        applies = True
        if row.only_if is not None:
            try:
                applies = number(data, row.only_if[0]) >= row.only_if[1]
            except Missing:
                applies = False
        if not applies:
            mark = "n/a"
        elif row.max_ratio is not None and ratio is None:
            mark = "no figure"
        else:
            ok = (row.max_ratio is None or ratio is None or ratio <= row.max_ratio) and (
                row.max_value is None or ours <= row.max_value
            )
            mark = "met" if ok else "missed"
    return Result(row, figure, ours, floor, ratio, mark)


def build_rows(
    benches: Mapping[str, Mapping[str, Any] | None],
    notes: Mapping[str, str] | None = None,
    rows: Iterable[Row] = ROWS,
) -> list[Result]:
    """Every row of ``rows`` whose bench is in ``benches`` (a bench's JSON, or ``None``)."""
    notes = notes or {}
    return [
        evaluate(row, benches[row.bench], notes.get(row.bench, ""))
        for row in rows
        if row.bench in benches
    ]


HEADER = ("figure", "target", "ours", "floor (same run)", "ours / floor")


def markdown(results: Sequence[Result], machine: str) -> str:
    """The table, under one line saying which machine its absolute times are of."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    missed = sum(1 for r in results if r.mark == "missed")
    met = sum(1 for r in results if r.mark == "met")
    lines = [
        f"Absolute times are of {machine}; each floor was measured in the same run, "
        f"interleaved or side by side. Targets met: {met}, missed: {missed}.",
        "",
        line(HEADER),
        line(["---"] * len(HEADER)),
    ]
    bench = ""
    for result in results:
        cells = result.cells()
        if result.row.bench != bench:
            bench = result.row.bench
            cells[0] = f"{bench}: {cells[0]}"
        lines.append(line(cells))
    return "\n".join(lines) + "\n"
