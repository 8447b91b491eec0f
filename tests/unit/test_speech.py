"""Read aloud: espeak-ng really speaks (to a WAV here: CI has no sound card)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.ui.speech import Speaker


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_renders_french_speech(tmp_path: Path) -> None:
    wav = tmp_path / "fr.wav"
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(wav), "Insérez votre carte Vitale"],
                   check=True, timeout=30)  # fmt: skip
    assert wav.stat().st_size > 10_000  # about a second of audio


def test_speaker_starts_and_stops_without_blocking() -> None:
    speaker = Speaker()
    if not speaker.available:
        assert speaker.say("Bonjour", "fr") is False
        return
    assert speaker.say("Bonjour", "fr") is True
    speaker.stop()
    assert speaker.say("   ", "fr") is False


REAL_ESPEAK = shutil.which("espeak-ng")
SCREEN_TEXT = "Le DMP de Léa MARTIN. Votre mobile : 06 12 34 56 78, lea.martin@example.fr"

# On PATH as espeak-ng: records what any local user sees of it in /proc (its cmdline)
# and what it got on stdin, then hands both to the real espeak-ng, writing a WAV.
STAND_IN = """#!{python}
import pathlib, subprocess, sys
out = pathlib.Path({record!r})
(out / "cmdline").write_bytes(pathlib.Path("/proc/self/cmdline").read_bytes())
text = sys.stdin.buffer.read() if "--stdin" in sys.argv else b""
(out / "stdin").write_bytes(text)
subprocess.run([{real!r}, *sys.argv[1:], "-w", str(out / "speech.wav")], input=text,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
(out / "done").touch()
"""


@pytest.mark.skipif(REAL_ESPEAK is None, reason="espeak-ng not installed")
def test_screen_text_goes_on_stdin_never_in_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 item 11: the contact screen's mobile and e-mail, a child's name, must not
    show in /proc/PID/cmdline of espeak-ng."""
    bin_dir, record = tmp_path / "bin", tmp_path / "record"
    bin_dir.mkdir()
    record.mkdir()
    stand_in = bin_dir / "espeak-ng"
    stand_in.write_text(STAND_IN.format(python=sys.executable, record=str(record),
                                        real=REAL_ESPEAK), encoding="utf-8")  # fmt: skip
    stand_in.chmod(0o700)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    speaker = Speaker()
    assert speaker.binary == str(stand_in)
    assert speaker.say(SCREEN_TEXT, "fr") is True
    deadline = time.monotonic() + 30
    while not (record / "done").exists():
        assert time.monotonic() < deadline, "espeak-ng did not finish"
        time.sleep(0.02)

    argv = (record / "cmdline").read_bytes().split(b"\0")
    seen = b" ".join(argv)
    for secret in ("06 12 34 56 78", "lea.martin@example.fr", "MARTIN", "Léa"):
        assert secret.encode() not in seen
    assert b"--stdin" in argv
    assert (record / "stdin").read_bytes() == SCREEN_TEXT.encode("utf-8")
    assert (record / "speech.wav").stat().st_size > 10_000  # it was really spoken
    speaker.stop()
