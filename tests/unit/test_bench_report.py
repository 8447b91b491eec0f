"""bench/report_rows.py: the rows of bench/run's table, from sample benches' JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import report_rows as rr  # bench/ is not a package: its directory, on the path

LEDGER: dict[str, Any] = {
    "bench": "ledger",
    "append": {
        "begin": {"median_ms": 0.26, "p99_ms": 0.57},
        "finish": {"median_ms": 0.2, "p99_ms": 0.9},
        "floor_sqlite_commit": {"median_ms": 0.11, "p99_ms": 0.3},
    },
    "by_size": [
        {"entries": 10_000, "report_s": {"median": 0.005}, "verify_s": 0.06,
         "floor_chain_rehash_s": 0.004},
        {"entries": 1_000_000, "report_s": {"median": 0.64}, "verify_s": 1.2,
         "floor_chain_rehash_s": 0.44},
    ],
}  # fmt: skip
SPEECH: dict[str, Any] = {
    "bench": "speech",
    "first_audio": {
        "floor_cold_espeak_first_byte_s": 0.0068,
        "ours_warm_first_byte_s": 0.0006,
        "screen_to_first_audio_s": 0.0406,
    },
    "frames_while_speaking": {"floor_idle_max_gap_s": 0.016, "ours_speaking_max_gap_s": 0.0612},
}


def by_figure(results: list[rr.Result]) -> dict[str, rr.Result]:
    return {r.figure: r for r in results}


def test_lookup_keys_and_list_indices() -> None:
    assert rr.lookup(LEDGER, "by_size.-1.verify_s") == 1.2
    assert rr.lookup(LEDGER, "by_size.0.entries") == 10_000
    for path in ("by_size.5.verify_s", "append.nope", "by_size.x", "append.begin.p99_ms.x"):
        with pytest.raises(rr.Missing):
            rr.lookup(LEDGER, path)


def test_ratio_and_absolute_targets_are_marked() -> None:
    rows = by_figure(rr.build_rows({"ledger": LEDGER, "speech": SPEECH}))
    begin = rows["durable append `begin` (pending, fsynced), p99"]
    assert (begin.ours, begin.floor) == (0.57, 0.3)
    assert begin.ratio == pytest.approx(1.9)
    assert begin.mark == "met"
    assert rows["durable append `finish` (outcome), p99"].mark == "missed"  # 3.0× > 2×
    report = rows["`report` over 1,000,000 entries (median)"]
    assert (report.ours, report.floor, report.ratio, report.mark) == (0.64, None, None, "missed")
    verify = rows["`verify` over 1,000,000 entries"]
    assert verify.ratio == pytest.approx(1.2 / 0.44)
    assert verify.mark == "met"
    gap = rows["longest frame gap while speaking every 250 ms"]
    assert gap.ours == pytest.approx(61.2)  # scaled from seconds to ms
    assert gap.ratio == pytest.approx(0.0612 / 0.016)
    assert gap.mark == "missed"
    assert rows["screen change → first audio (with the layout's settle wait)"].mark == "met"
    assert rows["say → first audio byte, espeak-ng kept warm (median)"].mark == "none"


def test_targets_at_1m_do_not_apply_to_a_smaller_run() -> None:
    small = {**LEDGER, "by_size": LEDGER["by_size"][:1]}
    rows = by_figure(rr.build_rows({"ledger": small}))
    verify = rows["`verify` over 10,000 entries"]
    assert verify.ratio == pytest.approx(15.0)
    assert verify.mark == "n/a"
    assert rows["`report` over 10,000 entries (median)"].mark == "n/a"


def test_only_the_benches_given_and_their_rows_in_order() -> None:
    results = rr.build_rows({"speech": SPEECH})
    assert {r.row.bench for r in results} == {"speech"}
    assert [r.row for r in results] == [row for row in rr.ROWS if row.bench == "speech"]


def test_a_failed_skipped_or_incomplete_bench_has_no_figures() -> None:
    results = rr.build_rows(
        {"cards": None, "speech": {"bench": "speech", "skipped": "espeak-ng is not installed"},
         "ledger": {"bench": "ledger", "append": LEDGER["append"]}},
        notes={"cards": "exit 1: no pcscd"},
    )  # fmt: skip
    marks = {(r.row.bench, r.mark, r.note) for r in results if r.ours is None}
    assert ("cards", "no figure", "exit 1: no pcscd") in marks
    assert ("speech", "no figure", "espeak-ng is not installed") in marks
    assert ("ledger", "no figure", "no `by_size.-1.verify_s`") in marks
    assert all(r.mark != "met" for r in results if r.ours is None)


def test_markdown_table_has_one_row_per_figure_and_marks_misses() -> None:
    results = rr.build_rows({"ledger": LEDGER, "speech": SPEECH})
    text = rr.markdown(results, "this 2-core test machine")
    lines = text.splitlines()
    assert "this 2-core test machine" in lines[0]
    assert "missed: 3" in lines[0]
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| figure | target | ours | floor (same run) | ours / floor |"
    assert len(table) == 2 + len(results)
    assert all(line.count(" | ") == 4 for line in table)  # five cells each
    finish = next(line for line in table if "`finish`" in line)
    assert "≤ 2× floor: **missed**" in finish
    assert "**3.00×**" in finish
    gap = next(line for line in table if "while speaking" in line)
    assert "**61.2 ms**" in gap
    assert "16.0 ms" in gap
    assert table[2].startswith("| ledger: durable append `begin`")


def test_every_row_names_a_known_bench_and_a_consistent_target() -> None:
    assert set(rr.BENCHES) == {"cards", "dmp", "ledger", "ui", "doctor", "pi", "soak", "speech"}
    for row in rr.ROWS:
        if row.max_ratio is not None:
            assert row.floor is not None, row
        if row.max_ratio is not None or row.max_value is not None:
            assert row.target != "—", row
        else:
            assert row.target == "—", row


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.000612, "0.000612"), (0.57, "0.570"), (1.234, "1.23"), (61.2, "61.2"),
     (276.4, "276"), (3018.2, "3,018"), (0.0, "0")],
)  # fmt: skip
def test_numbers_keep_three_significant_figures(value: float, text: str) -> None:
    assert rr.fmt(value) == text


def load_run() -> Any:
    """bench/run, imported as a module (its name has no .py: a loader of its own)."""
    from importlib.machinery import SourceFileLoader
    from importlib.util import module_from_spec, spec_from_loader

    path = Path(__file__).resolve().parents[2] / "bench" / "run"
    loader = SourceFileLoader("bench_run", str(path))
    spec = spec_from_loader("bench_run", loader)
    assert spec is not None
    module = module_from_spec(spec)
    sys.modules["bench_run"] = module  # its dataclasses look their module up
    loader.exec_module(module)
    return module


def test_run_reads_a_bench_json_pretty_or_after_other_lines() -> None:
    run = load_run()
    assert run.parse_json('{\n  "runs": 7\n}\n') == {"runs": 7}
    assert run.parse_json('starting\n{"bench": "ui"}\n') == {"bench": "ui"}
    assert run.parse_json("Traceback …\n") is None
    assert {b.name for b in run.BENCHES} == set(rr.BENCHES)


def test_run_rewrites_only_the_readme_block(tmp_path: Path) -> None:
    run = load_run()
    readme = tmp_path / "README.md"
    readme.write_text(f"# A\n\nprose\n\n{run.BEGIN}\nold table\n{run.END}\n\nmore prose\n")
    run.rewrite_readme(readme, "| new | table |\n")
    assert readme.read_text() == (
        f"# A\n\nprose\n\n{run.BEGIN}\n| new | table |\n{run.END}\n\nmore prose\n"
    )
    readme.write_text("no block\n")
    with pytest.raises(SystemExit, match="needs one"):
        run.rewrite_readme(readme, "x\n")


PI: dict[str, Any] = {
    "bench": "pi",
    "cgroup": {"writable": True, "version": 1, "cpus": 0.5226},
    "calibration": {"pi4_events_per_s": 1477.83, "in_cgroup_events_per_s": 1426.1},
    "kdf": {"budget_median_ms": 168.5, "free_median_ms": 82.5},
    "ui": {
        "cold_start": {"kiosk_first_welcome_frame_s": 1.42, "minimal_first_frame_s": 0.81},
        "frames_during_dmp_call": {"kiosk": {"max_ms": 131.0}, "minimal_idle": {"max_ms": 40.0}},
        "journey_overhead": {"median_run": {"overhead_s": 1.7}},
    },
}


def test_pi_budget_rows_check_their_absolute_targets() -> None:
    rows = {r.figure.split(": ", 1)[-1]: r for r in rr.build_rows({"pi": PI})}
    calibration = next(r for r in rows.values() if r.row.unit == "events/s")
    assert "0.5226 of a core" in calibration.figure
    assert calibration.ratio == pytest.approx(1426.1 / 1477.83)  # on the Pi's figure
    assert calibration.mark == "none"
    frame = rows["cold start to the first welcome frame (median)"]
    assert (frame.ours, frame.floor, frame.mark) == (1.42, 0.81, "met")  # ≤ 3 s, no ratio
    gap = rows["longest frame gap while a DMP creation is in flight"]
    assert (gap.ours, gap.mark) == (131.0, "missed")  # > 100 ms
    assert rows["kiosk's own time for one journey (median run)"].mark == "met"  # 1.7 ≤ 2 s
    kdf = next(r for r in rows.values() if "scrypt" in r.figure)
    assert kdf.ratio == pytest.approx(168.5 / 82.5)
    assert kdf.mark == "none"
    line = next(x for x in rr.markdown(list(rows.values()), "m").splitlines() if "frame gap" in x)
    assert "≤ 100 ms: **missed**" in line
    assert "**131 ms**" in line


def test_pi_budget_without_a_writable_cgroup_says_why() -> None:
    skipped = {"bench": "pi", "cgroup": {"writable": False, "why": "no cpu controller"},
               "skipped": "no writable cgroup cpu controller (no cpu controller)"}  # fmt: skip
    results = rr.build_rows({"pi": skipped})
    assert results
    assert {r.mark for r in results} == {"no figure"}
    assert all("no writable cgroup" in r.note for r in results)
    text = rr.markdown(results, "m")
    assert "no writable cgroup cpu controller" in text
    assert "met: 0, missed: 0" in text


def test_pi_budget_without_sysbench_skips_rather_than_calibrate_on_n_body(
    tmp_path: Path,
) -> None:
    """No Pi figures from a quota the README shows is several times too strict: without
    sysbench (a PATH without it) the bench says so, unless n-body is asked for."""
    bench = Path(__file__).resolve().parents[2] / "bench" / "bench_pi.py"
    done = subprocess.run(
        [sys.executable, str(bench), "--no-ui", "--nbody-steps", "2000"],
        capture_output=True, text=True, timeout=120, check=True,
        env={"PATH": str(tmp_path)},
    )  # fmt: skip
    result = json.loads(done.stdout.splitlines()[-1])
    assert "skipped" in result
    assert "kdf" not in result
    assert "ui" not in result
    assert "sysbench" in result["skipped"] or "cgroup" in result["skipped"]
    assert {r.note for r in rr.build_rows({"pi": result})} == {result["skipped"]}
