"""Read aloud: espeak-ng really speaks (to a WAV here: CI has no sound card)."""

from __future__ import annotations

import shutil
import subprocess
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
