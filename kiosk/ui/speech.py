"""Say text with espeak-ng (Debian package), when it is installed: warm, off the Kivy
thread, on the loudspeaker or the headset.

The text goes to espeak-ng on its stdin (``--stdin``), never in its argv: a screen can
hold the patient's mobile, e-mail or a child's name, and any local user reads a
process's arguments in ``/proc/PID/cmdline`` (architecture §1).

Warm: espeak-ng is started ahead, voice loaded, waiting on its stdin for the next text
(one per language at the current rate and volume), so that speaking is a write and a
close; a used process is replaced behind it. Every start, write and kill runs on one
worker thread: the Kivy thread only queues. With an ALSA device named, espeak-ng writes
WAV to its stdout and ``aplay -D DEVICE`` plays it; else espeak-ng plays on the default
output itself.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from kiosk.ui.spoken import Channel

VOICES = {"fr": "fr", "en": "en"}
RATE, RATE_STEP, RATES = 150, 20, (90, 250)  # words per minute (espeak-ng -s)
VOLUME, VOLUME_STEP, VOLUMES = 100, 20, (20, 200)  # espeak-ng -a amplitude
ASOUND_CARDS = Path("/proc/asound/cards")


def usb_audio_present(cards: str) -> bool:
    """``/proc/asound/cards`` lists a USB sound card (a USB headset, or a jack adapter)."""
    return "USB-Audio" in cards or "usb-audio" in cards.lower()


@dataclass(frozen=True)
class Outputs:
    """Where speech goes ([speech] speaker_device, headset_device): ALSA device names,
    "" for the default output; headset "" = none, "auto" = a USB sound card found in
    /proc/asound/cards is a headset on the default output."""

    speaker_device: str = ""
    headset_device: str = ""
    cards: Path = ASOUND_CARDS

    def channel(self) -> Channel:
        """The headset when there is one (everything is said there), else the speaker."""
        if self.headset_device == "auto":
            try:
                found = usb_audio_present(self.cards.read_text(encoding="utf-8"))
            except OSError:
                found = False
            return Channel.HEADSET if found else Channel.SPEAKER
        return Channel.HEADSET if self.headset_device else Channel.SPEAKER

    def device(self, channel: Channel) -> str:
        if channel is Channel.HEADSET and self.headset_device != "auto":
            return self.headset_device
        return self.speaker_device if channel is Channel.SPEAKER else ""


@dataclass(frozen=True)
class Voice:
    """The patient's rate and volume, changed on the speech bar."""

    rate: int = RATE
    volume: int = VOLUME

    def slower(self) -> Voice:
        return replace(self, rate=max(RATES[0], self.rate - RATE_STEP))

    def faster(self) -> Voice:
        return replace(self, rate=min(RATES[1], self.rate + RATE_STEP))

    def quieter(self) -> Voice:
        return replace(self, volume=max(VOLUMES[0], self.volume - VOLUME_STEP))

    def louder(self) -> Voice:
        return replace(self, volume=min(VOLUMES[1], self.volume + VOLUME_STEP))


Key = tuple[str, Voice, str]  # language, voice, ALSA device ("" = espeak-ng's own output)


class _Pipeline:
    """espeak-ng waiting on its stdin (and aplay waiting on espeak-ng's stdout)."""

    def __init__(self, argv: list[str], device: str) -> None:
        self.espeak = subprocess.Popen(
            argv + (["--stdout"] if device else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if device else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.player: subprocess.Popen[bytes] | None = None
        if device:
            player = shutil.which("aplay") or "aplay"
            with contextlib.suppress(OSError):  # no alsa-utils: nothing is heard
                self.player = subprocess.Popen(
                    [player, "-q", "-D", device],
                    stdin=self.espeak.stdout,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            if self.espeak.stdout is not None:
                self.espeak.stdout.close()  # aplay holds it now

    @property
    def alive(self) -> bool:
        return self.espeak.poll() is None

    def speak(self, text: str) -> None:
        stdin = self.espeak.stdin
        if stdin is None:
            return
        # a screen's text is a few kilobytes at most: the pipe takes it without blocking;
        # espeak-ng dead already (no audio device…) means nothing is said
        with contextlib.suppress(OSError):
            stdin.write(text.encode("utf-8"))
        with contextlib.suppress(OSError):
            stdin.close()  # end of the text: espeak-ng speaks it all

    def kill(self) -> None:
        for process in (self.espeak, self.player):
            if process is not None and process.poll() is None:
                process.kill()
        for process in (self.espeak, self.player):
            if process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(1)
        with contextlib.suppress(OSError):
            if self.espeak.stdin is not None:
                self.espeak.stdin.close()

    def speaking(self) -> bool:
        return (self.player or self.espeak).poll() is None


class Speaker:
    """Says one text at a time; a new one, or :meth:`stop`, cuts the one being said."""

    def __init__(self, outputs: Outputs | None = None) -> None:
        self.binary = shutil.which("espeak-ng")
        self.outputs = outputs or Outputs()
        self.voice = Voice()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech")
        self._lock = threading.Lock()
        self._generation = 0  # stop() and say() bump it: a queued older text is dropped
        self._current: _Pipeline | None = None
        self._warm: dict[Key, _Pipeline] = {}
        self._closed = False
        atexit.register(self.close)

    @property
    def available(self) -> bool:
        return self.binary is not None

    @property
    def channel(self) -> Channel:
        return self.outputs.channel()

    def command(self, language: str, voice: Voice | None = None) -> list[str]:
        """espeak-ng's argv: the voice, rate and volume, no text (it comes on stdin)."""
        voice = voice or self.voice
        binary = self.binary or "espeak-ng"
        return [binary, "-v", VOICES.get(language, "fr"), "-s", str(voice.rate),
                "-a", str(voice.volume), "--stdin"]  # fmt: skip

    def say(self, text: str, language: str, channel: Channel | None = None) -> bool:
        """Start saying ``text`` (cutting what was being said); False without espeak-ng.
        Returns at once: the worker thread does the rest."""
        if self.binary is None or not text.strip() or self._closed:
            return False
        channel = channel or self.channel
        key = (language, self.voice, self.outputs.device(channel))
        with self._lock:
            self._generation += 1
            generation = self._generation
        self._worker.submit(self._say, text, key, generation)
        return True

    def prepare(self, language: str) -> None:
        """Have a warm espeak-ng ready for ``language`` (before it is needed)."""
        if self.binary is not None and not self._closed:
            key = (language, self.voice, self.outputs.device(self.channel))
            self._worker.submit(self._refill, key)

    def set_voice(self, voice: Voice) -> None:
        """A new rate or volume: the warm processes of the old one go."""
        self.voice = voice
        if not self._closed:
            self._worker.submit(self._drop_warm_except, voice)

    def stop(self) -> None:
        """Silence, at once (from any thread): the process being heard is killed now."""
        with self._lock:
            self._generation += 1
            current, self._current = self._current, None
        if current is not None:
            for process in (current.espeak, current.player):
                if process is not None and process.poll() is None:
                    process.kill()
            with contextlib.suppress(RuntimeError):  # shut down: nothing left to reap
                self._worker.submit(current.kill)  # reaped behind

    @property
    def speaking(self) -> bool:
        current = self._current
        return current is not None and current.speaking()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.stop()
        try:
            self._worker.submit(self._drop_warm_except, None)
        except RuntimeError:  # at interpreter exit the worker is already shut down
            self._drop_warm_except(None)
        self._worker.shutdown(wait=True)

    # -- the worker thread ---------------------------------------------------------------

    def _start(self, key: Key) -> _Pipeline:
        language, voice, device = key
        return _Pipeline(self.command(language, voice), device)

    def _say(self, text: str, key: Key, generation: int) -> None:
        if generation != self._generation:
            return  # stopped, or another text came, before this one started
        pipeline = self._warm.pop(key, None)
        if pipeline is None or not pipeline.alive:
            if pipeline is not None:
                pipeline.kill()
            pipeline = self._start(key)  # cold: the first text at this voice
        with self._lock:
            if generation != self._generation:
                self._warm[key] = pipeline  # unused: keep it warm
                return
            previous, self._current = self._current, pipeline
        if previous is not None:
            previous.kill()
        pipeline.speak(text)
        self._refill(key)

    def _refill(self, key: Key) -> None:
        pipeline = self._warm.get(key)
        if pipeline is None or not pipeline.alive:
            if pipeline is not None:
                pipeline.kill()
            self._warm[key] = self._start(key)

    def _drop_warm_except(self, voice: Voice | None) -> None:
        for key in [k for k in self._warm if k[1] != voice]:
            self._warm.pop(key).kill()
