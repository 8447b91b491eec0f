"""Read the screen aloud with espeak-ng (Debian package), when it is installed."""

from __future__ import annotations

import shutil
import subprocess

VOICES = {"fr": "fr", "en": "en"}


class Speaker:
    def __init__(self) -> None:
        self.binary = shutil.which("espeak-ng")
        self._current: subprocess.Popen[bytes] | None = None

    @property
    def available(self) -> bool:
        return self.binary is not None

    def say(self, text: str, language: str) -> bool:
        """Start speaking ``text`` (stopping what was being said); False without espeak."""
        if self.binary is None or not text.strip():
            return False
        self.stop()
        self._current = subprocess.Popen(
            [self.binary, "-v", VOICES.get(language, "fr"), "-s", "140", "--", text],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return True

    def stop(self) -> None:
        if self._current is not None and self._current.poll() is None:
            self._current.terminate()
        self._current = None
