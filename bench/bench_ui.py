"""UI benchmark: the Kivy kiosk against a minimal Kivy app, each in fresh processes.

Prints one JSON object. Every Kivy process is a fresh child (``--child minimal|kiosk``)
run the same way (same interpreter, same environment, same display, 800x480 window);
the floor is a one-Label Kivy app measured in the same run (docs/architecture.md §4).
The DMP sandbox runs in this (parent) process with its own PKI, standing for the remote service; the
CPS is emulated here in vpcd slot 1 and the Vitale by the kiosk child in slot 0.
Timestamps are ``time.monotonic()`` (CLOCK_MONOTONIC, shared by all processes).

- ``cold_start``: from ``Popen`` to the first buffer flip showing WELCOME of
  ``kiosk run``'s own :class:`kiosk.appliance.device.DeviceKiosk` vs the minimal app's first
  flip, interleaved. Target: ratio ≤ 1.5. The kiosk loads its services behind that
  first frame (card monitor, CPS and its PIN through pcscd, ledger, HTTPS DMP client,
  ``journey.recover()``): ``kiosk_services_ready_s`` is when all of that is done and a
  card inserted would be read at once. ``kiosk_ready_notified_s``: when systemd's
  socket (``$NOTIFY_SOCKET``, a datagram socket of this parent) receives READY=1, sent
  once the welcome screen is drawn and the services are up; target ≤ 1.3× the minimal
  app's first frame (``ready_notified_ratio``). ``kiosk_run_command_ready_notified_s``:
  the same for ``python -m kiosk.cli run --config CFG`` itself, uninstrumented, as systemd
  starts it (the CLI's imports included; full screen on a second Xvfb of 800x480).
- ``memory``: peak RSS (``wait4`` ru_maxrss) of ``python -m kiosk.cli run --config CFG
  --autopilot PLAN --shots TMP``: the device's process for one whole journey (receipt
  and screenshots included), cards emulated and the sandbox served by this parent,
  vs the minimal app. Target: ≤ 150 MB.
- ``frames_during_dmp_call``: frame times (``Clock.schedule_interval(cb, 0)``) while
  TD1.1 create is in flight: the sandbox holds it ``--delay`` s (fault ``timeout``,
  client deadline 10 s); floor: the minimal app idle for as long. Target: max ≤ 50 ms.
- ``journey_overhead``: the kiosk's own time for one autopilot journey (see NOTE).
  Target: ≤ 1 s.

``--cgroup-procs FILE`` (bench/bench_pi.py: the Pi-class budget): every Kivy child
(kiosk and minimal app alike) writes its PID there before it execs, so it runs in that
cgroup; this parent (the sandbox), pcscd and Xvfb stay outside.

Usage: python bench/bench_ui.py [--runs N] [--journeys N] [--delay S] [--cold-start-only]
       [--cgroup-procs FILE]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from measured_child import compile_as_installed, run_measured

if TYPE_CHECKING:
    from kiosk.sim.emulators.vpcd import VpcdCard

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "kiosk" / "sim" / "data" / "journeys" / "holder-creates.json"
SIZE = (800, 480)
CPS_READER = "Virtual PCD 00 01"
PATIENT_READER = "Virtual PCD 00 00"
MARK = "BENCH_UI "
PIN_VARIABLE = "BENCH_UI_CPS_PIN"  # the demo CPS's PIN, from the parent to each kiosk child
CGROUP_PROCS: list[str] = []  # a cgroup's cgroup.procs: the children run in it (--cgroup-procs)
NOTE = (
    "journey_overhead = total - card_detect - think - sandbox. total: Vitale inserted "
    "(kiosk idle on its first WELCOME frame) to the autopilot's end-of-journey call. "
    "card_detect: insertion to the CardInserted event (pcscd polls readers every 400 ms: "
    "the reader's latency, not ours). think: for each autopilot press, the time since the "
    "render that made the autopilot schedule it (2*STEP_DELAY=0.3 s, 0.45 s on end "
    "screens, plus frame jitter) and WELCOME's last render to the end call; measured, "
    "not assumed, because the autopilot's no-op waits on CHECKING overlap DMP work. "
    "sandbox: server-side _Handler.do_POST time (SOAP parse, VIHF check, store, answer; "
    "SandboxService.handle alone is reported too); the sandbox runs in the parent "
    "process. What is left is ours: card read through pcscd, DMP client (VIHF signing, "
    "TLS, XML), ledger writes, renders, Clock/frame scheduling. Autopilot screenshots "
    "are off in the instrumented kiosk runs (test tooling); the memory run keeps them. "
    "2-core machine shared by Xvfb (software GL), pcscd, the sandbox and the kiosk."
)


# -- statistics ---------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def gaps_summary(gaps: list[float]) -> dict[str, float]:
    if not gaps:
        return {"max_ms": math.nan, "p99_ms": math.nan, "median_ms": math.nan, "n": 0}
    ordered = sorted(gaps)
    p99 = ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]
    return {
        "max_ms": ms(ordered[-1]),
        "p99_ms": ms(p99),
        "median_ms": ms(statistics.median(ordered)),
        "n": len(ordered),
    }


def gaps_within(frames: list[float], start: float, end: float) -> list[float]:
    """Frame intervals overlapping [start, end] (a stall across either edge counts)."""
    return [b - a for a, b in itertools.pairwise(frames) if b >= start and a <= end]


# -- children: fresh Kivy processes -------------------------------------------------------


class Phases(list[list[Any]]):
    """[name, monotonic time, resident MiB] at each start-up step of a child."""

    def mark(self, name: str) -> None:
        self.append([name, time.monotonic(), rss_mib()])


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return math.nan


def _configure_kivy() -> None:
    from kivy.config import Config

    Config.set("graphics", "width", str(SIZE[0]))
    Config.set("graphics", "height", str(SIZE[1]))
    Config.set("kivy", "exit_on_escape", "0")


def _hook_flips(on_flip: Callable[[float], None]) -> None:
    """Call ``on_flip`` with the time just after each buffer swap."""
    from kivy.core.window import Window

    flip = Window.flip

    def flipped() -> None:
        flip()
        on_flip(time.monotonic())

    Window.flip = flipped


def child_minimal(idle: float) -> dict[str, Any]:
    phases = Phases()
    phases.mark("interpreter")
    _configure_kivy()
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window  # noqa: F401 - creates the window, as the kiosk's imports do
    from kivy.uix.label import Label

    phases.mark("imports_and_window")
    out: dict[str, Any] = {"first_frame": None, "frames": [], "phases": phases}
    frames: list[float] = out["frames"]

    class Minimal(App):  # type: ignore[misc]
        def build(self) -> Any:  # noqa: ANN401 - a Kivy widget
            return Label(text="Borne DMP")

    app = Minimal()

    def first(now: float) -> None:
        if out["first_frame"] is None:
            out["first_frame"] = now
            phases.mark("window_build_first_frame")
            if idle > 0:
                Clock.schedule_interval(lambda _dt: frames.append(time.monotonic()), 0)
            Clock.schedule_once(lambda _dt: app.stop(), idle)

    _hook_flips(first)
    app.run()
    phases.mark("end")
    return out


def child_kiosk(config_path: Path, plan: Path | None, shots: bool) -> dict[str, Any]:
    """``kiosk run``'s own start-up (:class:`kiosk.appliance.device.DeviceKiosk`), instrumented."""
    phases = Phases()
    phases.mark("interpreter")
    _configure_kivy()
    from kiosk.appliance.device import DeviceKiosk, RunOptions
    from kiosk.config import load_config
    from kiosk.sim.pharmacist import PharmacistTypesPin

    events: list[list[Any]] = []  # [t, kind, detail...]
    frames: list[float] = []
    out: dict[str, Any] = {"phases": phases, "events": events, "frames": frames}

    def mark(kind: str, *detail: object) -> None:
        events.append([time.monotonic(), kind, *detail])

    if plan is not None:
        instrument_journey(events)
    from kiosk.core import flow as f
    from kiosk.ui.app import KioskApp
    from kiosk.ui.screens.base import KioskScreen

    render = KioskApp._render

    def timed_render(self: KioskApp, *args: object) -> None:
        t0 = time.monotonic()
        render(self, *args)
        flow = self.rendered
        events.append([t0, "render", flow.screen.value if flow else None, time.monotonic()])

    timed_render.__name__ = "_render"  # Kivy's triggers hold the method by its name
    setattr(KioskApp, "_render", timed_render)  # noqa: B010 - before the trigger is made
    kiosk = DeviceKiosk(load_config(config_path), RunOptions(size=SIZE))
    # the pharmacist types the CPS PIN once (the parent read it from the demo CPS profile)
    kiosk.watch(PharmacistTypesPin(kiosk, os.environ[PIN_VARIABLE]))
    phases.mark("imports_services_app")
    app, journey = kiosk.app, kiosk.journey
    vitale = None if plan is None else demo_vitale()  # no emulator in a cold start
    autopilot = attach_instrumented_autopilot(kiosk, plan, out, mark) if plan else None

    def rendered(flow: f.Flow, screen: KioskScreen) -> None:
        if flow.screen is f.Screen.WELCOME and "welcome_rendered" not in out:
            out["welcome_rendered"] = time.monotonic()
        if autopilot is not None:
            before = len(autopilot._acted)
            autopilot.rendered(flow, screen)
            if len(autopilot._acted) > before:
                mark("ready", flow.screen.value)

    app.on_rendered = rendered

    def ready() -> None:  # queued behind warm_up on the journey's worker
        out["ready"] = time.monotonic()

    def flipped(now: float) -> None:
        if "welcome_rendered" in out and "welcome_frame" not in out:
            out["welcome_frame"] = now
            phases.mark("window_build_first_frame")
            Clock.schedule_once(lambda _dt: journey._worker.submit(ready), 0)
            if plan is None:
                Clock.schedule_interval(lambda _dt: _stop_when_ready(), 0.01)
            else:
                Clock.schedule_interval(lambda _dt: frames.append(time.monotonic()), 0)
                threading.Thread(target=insert, daemon=True).start()

    def _stop_when_ready() -> None:
        if "ready" in out and "stopping" not in out:
            out["stopping"] = True
            phases.mark("services_ready")
            app.stop()

    def insert() -> None:
        # a patient arrives once the kiosk is up: services loaded, CPS PIN entered
        deadline = time.monotonic() + 30
        while "ready" not in out or kiosk.cps.status.state.value != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("the kiosk's services did not start within 30 s")
            time.sleep(0.01)
        mark("insert")
        assert vitale is not None  # a journey run
        vitale.insert()

    from kivy.clock import Clock

    _hook_flips(flipped)
    dispatch = journey.dispatch

    def timed_dispatch(event: f.Event, generation: int | None = None) -> None:
        if isinstance(event, f.CardInserted | f.CardRemoved):
            mark("card_event", type(event).__name__)
        dispatch(event, generation)

    setattr(journey, "dispatch", timed_dispatch)  # noqa: B010 - before the monitor starts
    try:
        kiosk.run()
    finally:
        if vitale is not None:
            vitale.pull()
    phases.mark("end")
    return out


def demo_vitale() -> VpcdCard:
    """The demo Carte Vitale's emulator, for slot 0 (not inserted yet)."""
    from kiosk.sim.data import DEMO_VITALE
    from kiosk.sim.emulators.profiles import load_emulator
    from kiosk.sim.emulators.vpcd import VpcdCard, slot_port

    return VpcdCard(load_emulator(DEMO_VITALE), slot_port(0))


@functools.cache
def demo_cps_pin() -> str:
    """Read once, for every kiosk child."""
    from kiosk.hardware.cards import read_profile
    from kiosk.sim.data import DEMO_CPS

    return str(read_profile(DEMO_CPS)["pin"])


def instrument_journey(events: list[list[Any]]) -> None:
    """Time the DMP calls and the Vitale reads (journey runs only: this imports the DMP
    client up front, which the cold-start runs must not)."""
    import kiosk.appliance.wiring as wiring
    from kiosk.dmp.client import DmpClient

    call = DmpClient.call

    def timed_call(self: DmpClient, transaction: Any, *args: Any) -> Any:  # noqa: ANN401
        t0 = time.monotonic()
        try:
            return call(self, transaction, *args)
        finally:
            events.append([t0, "call", transaction.operation, time.monotonic()])

    setattr(DmpClient, "call", timed_call)  # noqa: B010
    reader = wiring.patient_reader

    def timed_reader(config: Any) -> Any:  # noqa: ANN401
        read = reader(config)

        def timed() -> Any:  # noqa: ANN401
            t0 = time.monotonic()
            try:
                return read()
            finally:
                events.append([t0, "card_read", time.monotonic()])

        return timed

    setattr(wiring, "patient_reader", timed_reader)  # noqa: B010


def attach_instrumented_autopilot(
    kiosk: Any,  # noqa: ANN401 - kiosk.appliance.device.DeviceKiosk
    plan: Path,
    out: dict[str, Any],
    mark: Callable[..., None],
    shots: bool = False,
) -> Any:  # noqa: ANN401 - kiosk.sim.autopilot.Autopilot
    import kiosk.sim.autopilot as ap
    from kiosk.sim.autopilot import Autopilot
    from kiosk.sim.plan import Plan

    if not shots:
        setattr(Autopilot, "_shoot", lambda _self, _n, _s: None)  # noqa: B010
    press = ap.press

    def timed_press(button: Any, times: int = 1) -> None:  # noqa: ANN401 - a Kivy Button
        mark("press", getattr(button, "action", None) or button.text)
        press(button, times)

    setattr(ap, "press", timed_press)  # noqa: B010

    def done(summary: dict[str, Any]) -> None:
        mark("done", summary["outcome"])
        out["outcome"] = summary["outcome"]
        out["screens"] = summary["screens"]
        kiosk.app.stop()

    autopilot = Autopilot(Plan.load(plan), Path(tempfile.mkdtemp(prefix="bench-shots-")), done)
    kiosk.watch(autopilot)  # its ``finished``; ``rendered`` is called by the bench's hook
    return autopilot


def child_main(args: argparse.Namespace) -> None:
    if args.child == "minimal":
        result = child_minimal(args.idle)
    else:
        plan = Path(args.plan) if args.plan else None
        result = child_kiosk(Path(args.config), plan, args.shots)
    sys.stdout.write(MARK + json.dumps(result) + "\n")


# -- parent -------------------------------------------------------------------------------


class Child:
    def __init__(
        self, argv: list[str], timeout: float = 60.0, env_extra: dict[str, str] | None = None
    ) -> None:
        env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1")
        env["PYTHONPATH"] = str(ROOT)
        env[PIN_VARIABLE] = demo_cps_pin()  # not in argv
        env.update(env_extra or {})
        done = run_measured(argv, ROOT, env, timeout, in_cgroup())
        self.spawned, self.exited = done.spawned, done.exited
        if done.returncode != 0:
            raise RuntimeError(f"{argv[2:]} exited {done.returncode}: {done.stderr[-2000:]}")
        stdout = done.stdout
        self.stdout = stdout
        self.peak_rss_mb = done.usage.ru_maxrss / 1024  # KiB on Linux
        marked = [line for line in stdout.splitlines() if line.startswith(MARK)]
        self.result: dict[str, Any] = json.loads(marked[-1][len(MARK) :]) if marked else {}


def in_cgroup() -> Callable[[], None] | None:
    """A ``preexec_fn`` moving the child into the cgroup of ``--cgroup-procs``, if any."""
    if not CGROUP_PROCS:
        return None
    procs = CGROUP_PROCS[0]

    def move() -> None:
        with open(procs, "w", encoding="ascii") as handle:
            handle.write(str(os.getpid()))

    return move


def me(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


class Sandbox:
    """A SandboxServer on a copy of the shared PKI, its request handling timed."""

    requests: ClassVar[list[tuple[float, float]]] = []
    handled: ClassVar[list[tuple[float, float]]] = []

    def __init__(self, pki: Path, root: Path, faults: dict[str, str], delay: float) -> None:
        from kiosk.sim.sandbox.server import SandboxServer

        self.dir = Path(tempfile.mkdtemp(dir=root))
        shutil.copytree(pki, self.dir, dirs_exist_ok=True)
        self.server = SandboxServer(self.dir, port=0, faults=faults, fault_delay=delay).start()
        from kiosk.sim.demo import demo_config

        self.config = demo_config(self.dir, self.server.url, self.dir, self.dir)

    @staticmethod
    def instrument() -> None:
        from kiosk.sim.sandbox import server as s

        post, handle = s._Handler.do_POST, s.SandboxService.handle

        def timed_post(self: s._Handler) -> None:
            t0 = time.monotonic()
            try:
                post(self)
            finally:
                Sandbox.requests.append((t0, time.monotonic()))

        def timed_handle(self: s.SandboxService, *args: Any) -> Any:  # noqa: ANN401
            t0 = time.monotonic()
            try:
                return handle(self, *args)
            finally:
                Sandbox.handled.append((t0, time.monotonic()))

        setattr(s._Handler, "do_POST", timed_post)  # noqa: B010
        setattr(s.SandboxService, "handle", timed_handle)  # noqa: B010

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


def inside(spans: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(min(b, end) - max(a, start) for a, b in spans if b > start and a < end)


def bench_memory(sandbox: Sandbox, work: Path) -> dict[str, Any]:
    """Peak RSS of ``kiosk run --config … --autopilot …`` (the device's process: cards
    in the readers, the DMP service elsewhere) through one whole journey, screenshots
    and receipt included."""
    from kiosk.hardware.cards import read_profile
    from kiosk.sim.data import DEMO_CPS, DEMO_VITALE
    from kiosk.sim.emulators.profiles import load_emulator
    from kiosk.sim.emulators.vpcd import VpcdCard, slot_port

    plan = work / "plan-with-cps-pin.json"
    steps = json.loads(PLAN.read_text(encoding="utf-8"))
    plan.write_text(json.dumps({**steps, "cps_pin": str(read_profile(DEMO_CPS)["pin"])}))
    cli = ["kiosk.cli", "run", "--config", str(sandbox.config), "--autopilot", str(plan)]
    wait_for_card(PATIENT_READER, present=False)
    with VpcdCard(load_emulator(DEMO_VITALE), slot_port(0)):
        child = Child([sys.executable, "-m", *cli, "--shots", str(work / "shots")], timeout=60)
    summary = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "kiosk_peak_rss_mib": round(child.peak_rss_mb, 1),
        "wall_s": round(child.exited - child.spawned, 2),
        "outcome": summary.get("outcome"),
        "screens": len(summary.get("screens", [])),
    }


def phase_medians(children: list[Child]) -> dict[str, Any]:
    """Median time of each start-up step (from the previous one; the first from Popen)
    and the resident memory once the first frame is shown."""
    steps: dict[str, list[float]] = {}
    rss: list[float] = []
    for child in children:
        previous = child.spawned
        for name, at, resident in child.result["phases"]:
            if name == "end":
                continue
            steps.setdefault(name, []).append(at - previous)
            previous = at
            if name == "window_build_first_frame":
                rss.append(resident)
    out: dict[str, Any] = {name: ms(statistics.median(v)) for name, v in steps.items()}
    out["rss_at_first_frame_mib"] = statistics.median(rss)
    return out


def kiosk_run_command_ready(config: Path, display: str) -> float:
    """``python -m kiosk.cli run --config CFG`` itself, uninstrumented, as systemd starts
    it (full screen on an 800x480 display): Popen to READY=1 on our notify socket."""
    from kiosk.sim.notify_socket import NotifySocket

    env = dict(os.environ, KIVY_NO_ARGS="1", PYTHONPATH=str(ROOT), DISPLAY=display)
    with NotifySocket(config.parent / "notify-run.sock") as systemd:
        env["NOTIFY_SOCKET"] = str(systemd.path)
        spawned = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)], cwd=ROOT,
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=in_cgroup(),
        )  # fmt: skip
        try:
            deadline = spawned + 30
            while not systemd.when("READY=1"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"kiosk run exited {proc.returncode} before READY=1")
                time.sleep(0.005)
            return systemd.when("READY=1")[0].monotonic - spawned
        finally:
            proc.terminate()
            proc.wait(10)


def bench_cold_start(runs: int, config: Path) -> tuple[dict[str, Any], list[float]]:
    from kiosk.sim.notify_socket import NotifySocket
    from kiosk.sim.xvfb import start_xvfb

    panel, display = start_xvfb("800x480x24")  # the 7-inch panel, for `kiosk run` full screen
    ours, floor, ours_wall, floor_wall, floor_rss, ready = [], [], [], [], [], []
    notified: list[float] = []
    command: list[float] = []
    kids, minis = [], []
    for _ in range(runs):
        m = Child(me("--child", "minimal"))
        minis.append(m)
        floor.append(m.result["first_frame"] - m.spawned)
        floor_wall.append(m.exited - m.spawned)
        floor_rss.append(m.peak_rss_mb)
        with NotifySocket(config.parent / "notify.sock") as systemd:
            k = Child(
                me("--child", "kiosk", "--config", str(config)),
                env_extra={"NOTIFY_SOCKET": str(systemd.path)},
            )
        kids.append(k)
        ours.append(k.result["welcome_frame"] - k.spawned)
        ready.append(k.result["ready"] - k.spawned)
        readies = systemd.when("READY=1")
        if not readies:
            raise RuntimeError("the kiosk never sent READY=1")
        notified.append(readies[0].monotonic - k.spawned)
        ours_wall.append(k.exited - k.spawned)
        command.append(kiosk_run_command_ready(config, display))
    panel.terminate()
    panel.wait(5)
    o, b = statistics.median(ours), statistics.median(floor)
    return {
        "kiosk_first_welcome_frame_s": round(o, 3),
        "minimal_first_frame_s": round(b, 3),
        "ratio": round(o / b, 3),
        "target_ratio": 1.5,
        "kiosk_services_ready_s": round(statistics.median(ready), 3),
        "kiosk_ready_notified_s": round(statistics.median(notified), 3),
        "ready_notified_ratio": round(statistics.median(notified) / b, 3),
        "target_ready_notified_ratio": 1.3,
        "kiosk_run_command_ready_notified_s": round(statistics.median(command), 3),
        "kiosk_run_command_ready_ratio": round(statistics.median(command) / b, 3),
        "kiosk_run_command_all_s": [round(x, 3) for x in command],
        "kiosk_start_to_exit_s": round(statistics.median(ours_wall), 3),
        "minimal_start_to_exit_s": round(statistics.median(floor_wall), 3),
        "runs": runs,
        "kiosk_all_s": [round(x, 3) for x in ours],
        "minimal_all_s": [round(x, 3) for x in floor],
        "kiosk_steps_ms": phase_medians(kids),
        "minimal_steps_ms": phase_medians(minis),
    }, floor_rss


def worst_gap(frames: list[float], events: list[list[Any]], start: float, end: float) -> Any:  # noqa: ANN401
    """The longest frame interval in [start, end] and what happened during it."""
    pairs = [(b - a, a, b) for a, b in itertools.pairwise(frames) if b >= start and a <= end]
    if not pairs:
        return None
    _gap, a, b = max(pairs)
    during = [f"{e[1]}:{e[2]}" if len(e) > 2 else e[1] for e in events if a - 0.002 <= e[0] <= b]
    return {"ms": ms(b - a), "at_s": round(a - start, 3), "events": during}


def tap_latencies(events: list[list[Any]]) -> dict[str, float]:
    """From each autopilot press to the end of the next render (the kiosk's reaction)."""
    lat = []
    for i, e in enumerate(events):
        if e[1] == "press":
            nxt = next((x for x in events[i + 1 :] if x[1] == "render"), None)
            if nxt is not None:
                lat.append(nxt[3] - e[0])
    return gaps_summary(lat)


def journey_accounting(r: dict[str, Any]) -> dict[str, Any]:
    events: list[list[Any]] = sorted(r["events"], key=lambda e: e[0])
    t_insert = next(e[0] for e in events if e[1] == "insert")
    t_done = next(e[0] for e in events if e[1] == "done")
    t_detect = next(e[0] for e in events if e[1] == "card_event")
    if t_detect < t_insert:
        raise SystemExit("a card was in slot 0 before ours: is vpcd used by someone else?")
    think, presses, last_ready = 0.0, 0, None
    for e in events:
        if e[1] == "ready":
            last_ready = e[0]
        elif e[1] in ("press", "done"):
            presses += e[1] == "press"
            if last_ready is not None:
                think += e[0] - last_ready
                last_ready = None
    sandbox = inside(Sandbox.requests, t_insert, t_done)
    handle = inside(Sandbox.handled, t_insert, t_done)
    calls = [(e[0], e[3]) for e in events if e[1] == "call"]
    renders = [(e[0], e[3]) for e in events if e[1] == "render"]
    reads = [(e[0], e[2]) for e in events if e[1] == "card_read"]
    total = t_done - t_insert
    detect = t_detect - t_insert
    overhead = total - detect - think - sandbox
    frames = r["frames"]
    return {
        "overhead_s": round(overhead, 3),
        "total_s": round(total, 3),
        "card_detect_s": round(detect, 3),
        "think_s": round(think, 3),
        "sandbox_request_s": round(sandbox, 3),
        "sandbox_handle_s": round(handle, 3),
        "ours": {
            "card_read_s": round(inside(reads, t_insert, t_done), 3),
            "dmp_client_minus_sandbox_s": round(inside(calls, t_insert, t_done) - sandbox, 3),
            "dmp_calls": len(calls),
            "render_s": round(inside(renders, t_insert, t_done), 3),
            "renders": len([s for s in renders if t_insert <= s[0] <= t_done]),
            "frame_waits_ledger_other_s": round(
                overhead
                - inside(reads, t_insert, t_done)
                - (inside(calls, t_insert, t_done) - sandbox)
                - inside(renders, t_insert, t_done),
                3,
            ),
        },
        "presses": presses,
        "outcome": r.get("outcome"),
        "tap_to_render": tap_latencies(events),
        "frame_gaps_whole_journey": gaps_summary(gaps_within(frames, t_insert, t_done)),
        "worst_frame_gap": worst_gap(frames, events, t_insert, t_done),
    }


def wait_for_card(reader: str, present: bool, timeout: float = 10.0) -> None:
    from kiosk.hardware.pcsc import PcscContext

    deadline = time.monotonic() + timeout
    while (PcscContext().card_atrs().get(reader) is not None) != present:
        if time.monotonic() > deadline:
            state = "appear in" if present else "leave"
            raise SystemExit(f"no card did {state} {reader!r}: is vpcd used by someone else?")
        time.sleep(0.05)


def journey_child(sandbox: Sandbox) -> Child:
    wait_for_card(PATIENT_READER, present=False)  # the previous child's Vitale is gone
    return Child(me("--child", "kiosk", "--config", str(sandbox.config), "--plan", str(PLAN)))


def bench_journeys(n: int, pki: Path, work: Path) -> dict[str, Any]:
    runs = []
    for _ in range(n):
        sandbox = Sandbox(pki, work, {}, 0.0)
        try:
            child = journey_child(sandbox)
        finally:
            sandbox.close()
        runs.append(journey_accounting(child.result))
        runs[-1]["peak_rss_mib"] = round(child.peak_rss_mb, 1)
        runs[-1]["rss_after_journey_mib"] = child.result["phases"][-1][2]  # VmRSS at exit
    best = sorted(runs, key=lambda j: j["overhead_s"])[len(runs) // 2]
    return {
        "median_run": best,
        "overhead_all_s": [j["overhead_s"] for j in runs],
        "peak_rss_all_mib": [j.pop("peak_rss_mib") for j in runs],
        "target_s": 1.0,
        "note": NOTE,
    }


def bench_frames(delay: float, pki: Path, work: Path) -> dict[str, Any]:
    floor = Child(me("--child", "minimal", "--idle", str(delay))).result
    idle = floor["frames"]
    sandbox = Sandbox(pki, work, {"create": "timeout"}, delay)
    try:
        child = journey_child(sandbox)
    finally:
        sandbox.close()
    r = child.result
    creates = [(e[0], e[3]) for e in r["events"] if e[1] == "call" and e[2] == "create"]
    if not creates:
        raise SystemExit(f"no TD1.1 call: the journey went {r.get('screens')}")
    start, end = creates[0]
    ours = gaps_summary(gaps_within(r["frames"], start, end))
    base = gaps_summary(gaps_within(idle, idle[0], idle[-1]))
    return {
        "create_in_flight_s": round(end - start, 3),
        "kiosk": ours,
        "minimal_idle": base,
        "max_gap_ratio": round(ours["max_ms"] / base["max_ms"], 3),
        "worst_gap": worst_gap(r["frames"], sorted(r["events"]), start, end),
        "target_max_ms": 50,
        "journey_outcome": r.get("outcome"),
    }


def measure_the_rest(
    args: argparse.Namespace, sandbox: Sandbox, pki: Path, work: Path, floor_rss: list[float]
) -> dict[str, Any]:
    """Memory, frames during a DMP call and the journey's overhead, after the cold start."""
    memory = bench_memory(sandbox, work)
    floor_mb = statistics.median(floor_rss)
    memory.update(
        minimal_peak_rss_mib=round(floor_mb, 1),
        ratio=round(memory["kiosk_peak_rss_mib"] / floor_mb, 3),
        target_mib=150,
    )
    frames = bench_frames(args.delay, pki, work)
    journeys = bench_journeys(args.journeys, pki, work)
    memory["kiosk_no_screenshots_peak_rss_mib"] = statistics.median(
        journeys.pop("peak_rss_all_mib")
    )
    return {"memory": memory, "frames_during_dmp_call": frames, "journey_overhead": journeys}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--journeys", type=int, default=3)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--child", choices=("minimal", "kiosk"))
    parser.add_argument("--idle", type=float, default=0.0)
    parser.add_argument("--config")
    parser.add_argument("--plan")
    parser.add_argument("--shots", action="store_true")
    parser.add_argument("--cold-start-only", action="store_true", help="start-up figures only")
    parser.add_argument("--cgroup-procs", help="run the Kivy children in this cgroup")
    args = parser.parse_args()
    if args.cgroup_procs:
        CGROUP_PROCS.append(args.cgroup_procs)
    if args.child:
        child_main(args)
        return

    from kiosk.sim.data import DEMO_CPS
    from kiosk.sim.emulators.profiles import load_emulator
    from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
    from kiosk.sim.pcscd import ensure_pcscd
    from kiosk.sim.sandbox.pki import ensure_pki
    from kiosk.sim.xvfb import ensure_display

    started = time.monotonic()
    xvfb = ensure_display()
    daemon = ensure_pcscd()
    Sandbox.instrument()
    result: dict[str, Any] = {"bench": "ui", "cgroup_procs": args.cgroup_procs}
    result["bytecode"] = compile_as_installed()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
            work = Path(tmp)
            pki = work / "pki"
            ensure_pki(pki)
            with VpcdCard(load_emulator(DEMO_CPS), slot_port(1)):
                wait_for_card(CPS_READER, present=True)
                sandbox = Sandbox(pki, work, {}, 0.0)
                try:
                    cold, floor_rss = bench_cold_start(args.runs, sandbox.config)
                    result["cold_start"] = cold
                    if not args.cold_start_only:
                        result.update(measure_the_rest(args, sandbox, pki, work, floor_rss))
                finally:
                    sandbox.close()
    finally:
        daemon.stop()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    result["bench_wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
