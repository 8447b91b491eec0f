"""Speech benchmark: the kiosk's warm espeak-ng against a bare cold one, side by side.

Prints one JSON object. Absolute times are of this machine (``machine``); the ratios
are against a floor measured in the same run, interleaved.

- ``first_audio``: from "say this" to the first audio sample on espeak-ng's stdout (the
  first byte after the 44-byte WAV header; this machine has no sound card and no
  ``aplay``: it is the closest to the first audible sample we can see; ``aplay`` adds
  its device open on a kiosk).
  Floor: ``espeak-ng -v fr --stdout --stdin`` started cold, the text written, its first
  byte. Ours: what :class:`kiosk.ui.speech.Speaker` does: a process started ahead with
  the same argv, waiting on its stdin, the text written and closed. The text: the
  consent screen as speech mode says it. Target: ours plus the UI's settle delay
  (``kiosk.ui.speech_mode.SETTLE_S``) ≤ 300 ms (``screen_to_first_audio_s``).
- ``frames_while_speaking``: the longest gap between two Kivy frames
  (``Clock.schedule_interval(cb, 0)``) in a child app under Xvfb (800x480) that says
  a screen every 250 ms through ``Speaker.say`` (cutting the one before) for
  ``--seconds``; floor: the same app not speaking. Target: max ≤ 50 ms.

Usage: python bench/bench_speech.py [--runs N] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KIVY_NO_ARGS", "1")  # our options are not Kivy's
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

TEXT = (
    "Votre accord. Cochez la première case pour continuer. bouton : English. bouton : "
    "Écouter. bouton : Annuler. case non cochée : J'accepte qu'on ouvre mon DMP. case "
    "cochée : En cas d'urgence, un soignant peut lire mon DMP. case cochée : Si on appelle "
    "le 15 (SAMU) pour moi, le médecin qui répond peut lire mon DMP. bouton : Je refuse. "
    "bouton désactivé : Suivant."
)


WAV_HEADER = 44  # bytes before the first sample


def machine() -> dict[str, Any]:
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "espeak_ng": shutil.which("espeak-ng"),
        "aplay": shutil.which("aplay"),
    }


def _first_byte(process: subprocess.Popen[bytes], started: float) -> float:
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(TEXT.encode("utf-8"))
    process.stdin.close()
    got = 0
    while got <= WAV_HEADER:  # the header may come first: wait for a sample
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            break
        got += len(chunk)
    elapsed = time.monotonic() - started
    process.kill()
    process.wait()
    process.stdout.close()
    return elapsed


def _argv() -> list[str]:
    from kiosk.ui.speech import Speaker

    return [*Speaker().command("fr"), "--stdout"]


def cold(argv: list[str]) -> float:
    started = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    return _first_byte(process, started)


def warm(argv: list[str]) -> float:
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(0.3)  # started ahead: the voice is loaded, it waits on stdin
    return _first_byte(process, time.monotonic())


def bench_first_audio(runs: int) -> dict[str, Any]:
    from kiosk.ui.speech_mode import SETTLE_S

    argv = _argv()
    floor, ours = [], []
    for _ in range(runs):  # interleaved
        floor.append(cold(argv))
        ours.append(warm(argv))
    floor_s, ours_s = statistics.median(floor), statistics.median(ours)
    total = ours_s + SETTLE_S
    return {
        "floor_cold_espeak_first_byte_s": round(floor_s, 4),
        "ours_warm_first_byte_s": round(ours_s, 4),
        "ours_max_s": round(max(ours), 4),
        "ratio": round(ours_s / floor_s, 3),
        "settle_s": SETTLE_S,
        "screen_to_first_audio_s": round(total, 4),
        "target_s": 0.3,
        "ok": total <= 0.3,
        "runs": runs,
    }


def child(speaking: bool, seconds: float) -> None:
    """A one-label Kivy app; frames timed; ``speaking``: a screen said every 250 ms."""
    from kivy.config import Config

    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.label import Label

    from kiosk.ui.speech import Speaker

    speaker = Speaker()
    gaps: list[float] = []
    last = [0.0]

    class Bench(App):  # type: ignore[misc]
        def build(self) -> Label:
            Clock.schedule_once(self.begin, 1.0)  # after start-up
            return Label(text="bench")

        def begin(self, _dt: float) -> None:
            last[0] = time.monotonic()
            Clock.schedule_interval(self.frame, 0)
            if speaking:
                speaker.prepare("fr")
                Clock.schedule_interval(lambda _dt: speaker.say(TEXT, "fr"), 0.25)
            Clock.schedule_once(lambda _dt: self.stop(), seconds)

        def frame(self, _dt: float) -> None:
            now = time.monotonic()
            gaps.append(now - last[0])
            last[0] = now

    Bench().run()
    speaker.close()
    print(json.dumps({"max_gap_s": max(gaps), "frames": len(gaps)}))


def bench_frames(seconds: float) -> dict[str, Any]:
    from kiosk.sim.xvfb import ensure_display

    xvfb = ensure_display("800x480x24")
    try:
        out = {}
        for mode in ("idle", "speaking"):
            run = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--seconds", str(seconds)],
                capture_output=True, text=True, check=True, timeout=seconds + 60,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            out[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    ours, floor = out["speaking"]["max_gap_s"], out["idle"]["max_gap_s"]
    return {
        "floor_idle_max_gap_s": round(floor, 4),
        "ours_speaking_max_gap_s": round(ours, 4),
        "ratio": round(ours / floor, 3) if floor else None,
        "frames": out["speaking"]["frames"],
        "target_s": 0.05,
        "ok": ours <= 0.05,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench_speech")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--child", choices=["idle", "speaking"])
    args = parser.parse_args()
    if args.child:
        child(args.child == "speaking", args.seconds)
        return
    if shutil.which("espeak-ng") is None:
        print(json.dumps({"bench": "speech", "skipped": "espeak-ng is not installed"}))
        return
    result: dict[str, Any] = {"bench": "speech", "machine": machine()}
    result["first_audio"] = bench_first_audio(args.runs)
    result["frames_while_speaking"] = bench_frames(args.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
