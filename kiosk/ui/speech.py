"""Read the screen aloud with espeak-ng (Debian package), when it is installed.

The text goes to espeak-ng on its stdin (``--stdin``), never in its argv: a screen can
hold the patient's mobile, e-mail or a child's name, and any local user reads a
process's arguments in ``/proc/PID/cmdline`` (architecture §1)."""

from __future__ import annotations

import contextlib
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

    def command(self, language: str) -> list[str]:
        """espeak-ng's argv: the voice and the rate, no text (it comes on stdin)."""
        binary = self.binary or "espeak-ng"
        return [binary, "-v", VOICES.get(language, "fr"), "-s", "140", "--stdin"]

    def say(self, text: str, language: str) -> bool:
        """Start speaking ``text`` (stopping what was being said); False without espeak."""
        if self.binary is None or not text.strip():
            return False
        self.stop()
        process = subprocess.Popen(
            self.command(language),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._current = process
        if process.stdin is not None:
            # a screen's text is a few hundred bytes: the pipe takes it without blocking;
            # espeak-ng dead already (no audio device…) means nothing is said
            with contextlib.suppress(OSError):
                process.stdin.write(text.encode("utf-8"))
            with contextlib.suppress(OSError):
                process.stdin.close()  # end of the text: espeak-ng speaks it all
        return True

    def stop(self) -> None:
        if self._current is not None and self._current.poll() is None:
            self._current.terminate()
        self._current = None
