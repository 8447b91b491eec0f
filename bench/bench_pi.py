"""Pi-class budget: the kiosk's benchmarks again, the kiosk's processes held to a CPU
quota that stands for one Raspberry Pi 4 core on this machine.

Prints one JSON object. Needs a writable cgroup cpu controller (root): cgroup v2
(``cpu.max`` in a unified hierarchy whose ``cgroup.controllers`` lists ``cpu``) or v1
(``/sys/fs/cgroup/cpu``: ``cpu.cfs_period_us`` and ``cpu.cfs_quota_us``). Without one
the JSON says why (``skipped``, ``cgroup.why``) and nothing is run under a budget.

- ``calibration``: a fixed workload whose Raspberry Pi 4 figure is published,
  ``sysbench cpu --threads=1`` (sysbench 1.0.20, primes up to 10,000: events per
  second; the Pi 4's single core, :data:`PI4_SYSBENCH`), measured here without a quota;
  the quota is ``period x Pi figure / our figure`` (a fraction of one of our cores),
  then the same workload is run again inside the cgroup to check it lands on the Pi's
  figure. A cross-check in Python: the Benchmarks Game's n-body, whose published Pi 4
  time is :data:`PI4_NBODY` (Python version not stated), run here scaled down, free and
  in the cgroup. Without sysbench the bench skips (``skipped`` says why): n-body
  calibrates only when asked (``--workload nbody``), since on it the quota is several
  times stricter than a Pi 4 core for the kiosk (README, the Pi-class budget).
- ``ui``: ``bench/bench_ui.py`` run with ``--cgroup-procs``: every Kivy child it starts
  (the kiosk's and the minimal app's, side by side under the same budget) is moved into
  the cgroup before it runs; the sandbox (the remote DMP service), pcscd and Xvfb stay
  outside, as they would not run on the Pi's core. Its first welcome frame (target
  ≤ 3 s), longest frame gap while a DMP creation is in flight (≤ 100 ms) and the
  journey's overhead (≤ 2 s) are the report's Pi rows.
- ``kdf``: the pharmacist code's check (scrypt, the kiosk's own parameters), a fresh
  process each run, in the cgroup and free, interleaved.

The cgroup (``borne-bench-pi-PID``) is removed afterwards, on failure too; leftovers of a
killed run (no process in them) are removed at the next start.

Usage: python bench/bench_pi.py [--runs N] [--journeys N] [--delay S] [--kdf-runs N]
       [--calibrate-s S] [--period-us US] [--pi-cores N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measured_child import run_measured

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "borne-bench-pi-"
V1_CPU = Path("/sys/fs/cgroup/cpu")
V2_ROOTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))
SOURCE = "https://leoncode.co.uk/articles/raspberry-pi-benchmarks"
# sysbench 1.0.20, `sysbench cpu --threads=1 --time=60 run` (primes to 10,000), Pi 4 single core
PI4_SYSBENCH = 1477.83
NBODY_SOURCE = (
    "https://chaitanyamehta.github.io/projects/performance-analysis-of-programming-languages"
)
# n-body, 5,000,000 steps, Python, Pi 4 Model B at 1.5 GHz (performance governor): seconds
PI4_NBODY = (5_000_000, 158.263)
KDF_CHILD = """
import json, time
from kiosk.core.pharmacist_code import code_matches, hash_code
stored = hash_code("2468", salt=bytes(16))
t0 = time.perf_counter()
assert code_matches("2468", stored)
print(json.dumps({"check_s": time.perf_counter() - t0}))
"""


# -- cgroups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Controller:
    """Where cpu cgroups can be made: v1's cpu hierarchy or a v2 hierarchy with cpu."""

    version: int
    root: Path

    def make(self, name: str, quota_us: int, period_us: int) -> Path:
        group = self.root / name
        group.mkdir()
        try:
            if self.version == 2:
                (group / "cpu.max").write_text(f"{quota_us} {period_us}")
            else:
                (group / "cpu.cfs_period_us").write_text(str(period_us))
                (group / "cpu.cfs_quota_us").write_text(str(quota_us))
        except OSError:
            remove(group, self.root)
            raise
        return group

    def limits(self, group: Path) -> dict[str, int]:
        if self.version == 2:
            quota, period = (group / "cpu.max").read_text().split()
            return {"quota_us": int(quota), "period_us": int(period)}
        return {
            "quota_us": int((group / "cpu.cfs_quota_us").read_text()),
            "period_us": int((group / "cpu.cfs_period_us").read_text()),
        }

    def throttled(self, group: Path) -> dict[str, int]:
        stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
        return {k: int(v) for k, v in stat.items() if k in ("nr_periods", "nr_throttled")}


def find_controller() -> tuple[Controller | None, str]:
    """A writable cpu controller (v2 first), or None and why there is none."""
    whys = []
    for root in V2_ROOTS:
        controllers = root / "cgroup.controllers"
        if not controllers.exists():
            continue
        if "cpu" not in controllers.read_text().split():
            whys.append(f"{root}: cgroup v2 without the cpu controller")
        elif not os.access(root, os.W_OK):
            whys.append(f"{root}: cgroup v2, not writable by uid {os.getuid()}")
        else:
            subtree = root / "cgroup.subtree_control"
            with contextlib.suppress(OSError):
                if "cpu" not in subtree.read_text().split():
                    subtree.write_text("+cpu")
            return Controller(2, root), ""
    if (V1_CPU / "cpu.cfs_quota_us").exists():
        if os.access(V1_CPU, os.W_OK):
            return Controller(1, V1_CPU), ""
        whys.append(f"{V1_CPU}: cgroup v1, not writable by uid {os.getuid()}")
    return None, "; ".join(whys) or "no cgroup cpu controller is mounted"


def remove(group: Path, parent: Path) -> None:
    """Move any process left in ``group`` to ``parent``, then remove ``group``."""
    for _ in range(50):
        with contextlib.suppress(OSError):
            for pid in (group / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (parent / "cgroup.procs").write_text(pid)
        try:
            group.rmdir()
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
        else:
            return
    raise RuntimeError(f"could not remove the cgroup {group}")


def remove_leftovers(controller: Controller) -> list[str]:
    """The cgroups a killed run left behind (no process of theirs is alive)."""
    removed = []
    for group in controller.root.glob(PREFIX + "*"):
        with contextlib.suppress(OSError, RuntimeError):
            if not (group / "cgroup.procs").read_text().split():
                remove(group, controller.root)
                removed.append(group.name)
    return removed


@contextlib.contextmanager
def cgroup(controller: Controller, quota_us: int, period_us: int) -> Iterator[Path]:
    group = controller.make(f"{PREFIX}{os.getpid()}", quota_us, period_us)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally still runs
    try:
        yield group
    finally:
        signal.signal(signal.SIGTERM, previous)
        remove(group, controller.root)


def into(group: Path | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` moving the child into ``group`` before it execs."""
    if group is None:
        return None
    procs = str(group / "cgroup.procs")

    def move() -> None:
        with open(procs, "w", encoding="ascii") as handle:
            handle.write(str(os.getpid()))

    return move


# -- workloads ----------------------------------------------------------------------------


def run(argv: list[str], group: Path | None, timeout: float = 600) -> tuple[str, float]:
    """The child's stdout and the CPU time it used (user + system, from ``wait4``)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = run_measured(argv, ROOT, env, timeout, into(group))
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{Path(argv[1]).name if len(argv) > 1 else argv[0]}: {tail}")
    return done.stdout, done.cpu_s


@dataclass(frozen=True)
class Rate:
    wall: float  # events per second of wall time
    cpu: float  # events per second of CPU time


def sysbench(seconds: float, group: Path | None) -> Rate:
    out, cpu = run(["sysbench", "cpu", "--threads=1", f"--time={seconds:g}", "run"], group)
    rate = re.search(r"events per second:\s*([\d.]+)", out)
    total = re.search(r"total number of events:\s*(\d+)", out)
    if rate is None or total is None:
        raise RuntimeError("sysbench printed no 'events per second'")
    return Rate(float(rate.group(1)), int(total.group(1)) / cpu)


NBODY = """
import sys, time
PI = 3.14159265358979323; SOLAR = 4 * PI * PI; DPY = 365.24
B = [([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR),
     ([4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01],
      [1.66007664274403694e-03 * DPY, 7.69901118419740425e-03 * DPY,
       -6.90460016972063023e-05 * DPY], 9.54791938424326609e-04 * SOLAR),
     ([8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01],
      [-2.76742510726862411e-03 * DPY, 4.99852801234917238e-03 * DPY,
       2.30417297573763929e-05 * DPY], 2.85885980666130812e-04 * SOLAR),
     ([1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01],
      [2.96460137564761618e-03 * DPY, 2.37847173959480950e-03 * DPY,
       -2.96589568540237556e-05 * DPY], 4.36624404335156298e-05 * SOLAR),
     ([1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01],
      [2.68067772490389322e-03 * DPY, 1.62824170038242295e-03 * DPY,
       -9.51592254519715870e-05 * DPY], 5.15138902046611451e-05 * SOLAR)]
PAIRS = [(B[i], B[j]) for i in range(5) for j in range(i + 1, 5)]
def advance(dt, n):
    for _ in range(n):
        for ([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2) in PAIRS:
            dx = x1 - x2; dy = y1 - y2; dz = z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1m = m1 * mag; b2m = m2 * mag
            v1[0] -= dx * b2m; v1[1] -= dy * b2m; v1[2] -= dz * b2m
            v2[0] += dx * b1m; v2[1] += dy * b1m; v2[2] += dz * b1m
        for r, [vx, vy, vz], m in B:
            r[0] += dt * vx; r[1] += dt * vy; r[2] += dt * vz
t0, c0 = time.perf_counter(), time.process_time()
advance(0.01, int(sys.argv[1]))
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def nbody(steps: int, group: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds for ``steps`` steps of n-body, scaled to the published 5M."""
    out, _cpu = run([sys.executable, "-c", NBODY, str(steps)], group)
    wall, cpu = (float(x) * PI4_NBODY[0] / steps for x in out.split())
    return wall, cpu


def kdf(group: Path | None) -> float:
    out, _cpu = run([sys.executable, "-c", KDF_CHILD], group)
    return float(json.loads(out.strip().splitlines()[-1])["check_s"])


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def calibrate(seconds: float, nbody_steps: int) -> dict[str, Any]:
    """Our figures for the calibration workloads, free: the fraction of one of our cores
    that a Pi 4 core is worth. Per second of CPU time, not of wall time: on a shared
    machine a busy neighbour takes wall time from the workload, not speed (and a quota
    is CPU time too)."""
    out: dict[str, Any] = {"source": SOURCE, "nbody_source": NBODY_SOURCE}
    out["load_1min"] = loadavg()
    runs = [nbody(nbody_steps, None) for _ in range(3)]
    cpu = statistics.median(c for _w, c in runs)
    out["nbody"] = {
        "steps_run": nbody_steps,
        "pi4_5m_steps_s": PI4_NBODY[1],
        "here_5m_steps_cpu_s": round(cpu, 2),
        "here_5m_steps_wall_s": round(statistics.median(w for w, _c in runs), 2),
        "fraction": round(cpu / PI4_NBODY[1], 4),
    }
    if shutil.which("sysbench"):
        rates = [sysbench(seconds, None) for _ in range(3)]
        here = statistics.median(r.cpu for r in rates)
        out.update(
            workload="sysbench 1.0.20 cpu --threads=1 (primes to 10,000), events/s",
            pi4_events_per_s=PI4_SYSBENCH,
            here_events_per_cpu_s=round(here, 1),
            here_events_per_wall_s=round(statistics.median(r.wall for r in rates), 1),
            fraction=round(PI4_SYSBENCH / here, 4),
        )
    else:
        out["workload"] = "n-body in Python (no sysbench here)"
    return out


def verify(out: dict[str, Any], group: Path, seconds: float) -> None:
    """The calibration workloads again, inside the cgroup, by the wall clock (what the
    Pi would deliver)."""
    steps = out["nbody"]["steps_run"]
    inside = statistics.median(w for w, _c in (nbody(steps, group) for _ in range(3)))
    out["nbody"]["in_cgroup_5m_steps_wall_s"] = round(inside, 2)
    out["nbody"]["in_cgroup_ratio_to_pi"] = round(inside / PI4_NBODY[1], 3)
    if "pi4_events_per_s" in out:
        events = statistics.median(sysbench(seconds, group).wall for _ in range(3))
        out["in_cgroup_events_per_s"] = round(events, 1)
        out["in_cgroup_ratio_to_pi"] = round(events / PI4_SYSBENCH, 3)
    out["verify_load_1min"] = loadavg()


def bench_kdf(runs: int, group: Path) -> dict[str, Any]:
    budget, free = [], []
    for _ in range(runs):
        budget.append(kdf(group))
        free.append(kdf(None))
    return {
        "what": "pharmacist code check: scrypt N=2**15, r=8, p=1 (kiosk.core.pharmacist_code)",
        "budget_median_ms": round(statistics.median(budget) * 1000, 1),
        "free_median_ms": round(statistics.median(free) * 1000, 1),
        "budget_all_ms": [round(x * 1000, 1) for x in budget],
        "free_all_ms": [round(x * 1000, 1) for x in free],
    }


def bench_ui(args: argparse.Namespace, group: Path) -> dict[str, Any]:
    argv = [sys.executable, str(ROOT / "bench" / "bench_ui.py"), "--runs", str(args.runs)]
    argv += ["--journeys", str(args.journeys), "--delay", str(args.delay)]
    argv += ["--cgroup-procs", str(group / "cgroup.procs")]
    out, _cpu = run(argv, None, timeout=3600)
    value: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="bench_ui's cold starts")
    parser.add_argument("--journeys", type=int, default=3, help="bench_ui's journeys")
    parser.add_argument("--delay", type=float, default=3.0, help="TD1.1 held this long")
    parser.add_argument("--kdf-runs", type=int, default=5)
    parser.add_argument("--calibrate-s", type=float, default=5.0, help="each sysbench run")
    parser.add_argument("--nbody-steps", type=int, default=100_000)
    parser.add_argument("--period-us", type=int, default=10_000, help="the CFS period")
    parser.add_argument("--pi-cores", type=float, default=1.0, help="Pi 4 cores granted")
    parser.add_argument("--no-ui", action="store_true", help="calibration and KDF only")
    parser.add_argument(
        "--workload", choices=("sysbench", "nbody"), default="sysbench",
        help="the calibration the quota follows (nbody: Python, a stricter budget here)",
    )  # fmt: skip
    args = parser.parse_args()

    started = time.monotonic()
    result: dict[str, Any] = {"bench": "pi"}
    controller, why = find_controller()
    result["calibration"] = calibration = calibrate(args.calibrate_s, args.nbody_steps)
    if controller is None:
        result["cgroup"] = {"writable": False, "why": why}
        result["skipped"] = f"no writable cgroup cpu controller ({why})"
        print(json.dumps(result))
        return
    if args.workload == "sysbench" and "pi4_events_per_s" not in calibration:
        result["skipped"] = (
            "sysbench is not installed (./kiosk.sh bench installs it; --workload nbody"
            " calibrates on n-body instead, a stricter budget)"
        )
        print(json.dumps(result))
        return
    leftovers = remove_leftovers(controller)
    if args.workload == "nbody":
        calibration["quota_from"] = "nbody"
        fraction = calibration["nbody"]["fraction"]
    else:
        calibration["quota_from"] = "sysbench"
        fraction = calibration["fraction"]
    cpus = min(fraction * args.pi_cores, float(os.cpu_count() or 1))
    quota = max(1000, round(cpus * args.period_us))
    with cgroup(controller, quota, args.period_us) as group:
        result["cgroup"] = {
            "writable": True,
            "version": controller.version,
            "path": str(group),
            **controller.limits(group),
            "cpus": round(quota / args.period_us, 4),
            "pi_cores": args.pi_cores,
            "leftovers_removed": leftovers,
        }
        verify(calibration, group, args.calibrate_s)
        result["kdf"] = bench_kdf(args.kdf_runs, group)
        if not args.no_ui:
            result["ui"] = bench_ui(args, group)
            result["ui_load_1min"] = loadavg()
        result["cgroup"].update(controller.throttled(group))
    result["bench_wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
