"""Speech mode on the Kivy thread: what is said when, and the gestures.

- Switched on without sight: a long press (1.5 s) anywhere on a patient screen while
  speech is off (the welcome screen's top-left corner excepted: the pharmacist's admin)
  sends ``Tap("speech", True)``; a Vitale card read and nothing touched for 5 s on the
  first screen after it (choose_beneficiary) brings a spoken invitation.
- Each screen is spoken when it appears (title, texts, then every control with its role
  and state); a change on the same screen says only what changed (a box ticked).
- Explore by touch: the first touch on a control says it, a second touch on the same one
  within :data:`EXPLORE_WINDOW` seconds activates it (buttons, check rows, keys).
- Silence at once on any action, when speech mode ends (card pulled, reset, the end).
- The speech bar: repeat, stop, rate and volume; these belong to the app, not the flow,
  and go back to the defaults with speech mode.

Everything said is handed to ``app.on_spoken(screen, text, channel)`` when set (the
autopilot's transcript).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent

from kiosk.core import flow as f
from kiosk.ui.i18n import t
from kiosk.ui.screens.registry import ADMIN
from kiosk.ui.speech import Speaker, Voice
from kiosk.ui.speech_walk import item_of, screen_items
from kiosk.ui.spoken import Channel, sentence, sentences, typed, utterance
from kiosk.ui.ui_text import UiText
from kiosk.ui.widgets import LONG_PRESS, SpeechBar

if TYPE_CHECKING:
    from kivy.uix.widget import Widget

LONG_PRESS_S = 1.5
INVITE_AFTER_S = 5.0
EXPLORE_WINDOW = 4.0  # seconds: a second touch on the same control within it activates
SETTLE_S = 0.04  # a render's layout is done a frame or two later: positions are right
COMMANDS = ("repeat", "stop", "slower", "faster", "quieter", "louder")
BAR_TEXTS = {
    "repeat": UiText.SPEECH_REPEAT, "stop": UiText.SPEECH_STOP,
    "slower": UiText.SPEECH_SLOWER, "faster": UiText.SPEECH_FASTER,
    "quieter": UiText.SPEECH_QUIETER, "louder": UiText.SPEECH_LOUDER,
}  # fmt: skip


class SpeechMode:
    def __init__(self, app: App, speaker: Speaker) -> None:
        self.app = app  # KioskApp: current screen, tap(), on_spoken
        self.speaker = speaker
        self.flow: f.Flow | None = None
        self._said: list[str] = []  # the sentences of the screen as last spoken
        self._whole = False
        self._announce = False
        self._trigger = Clock.create_trigger(self._speak_state, SETTLE_S)
        self._explored: tuple[Widget | None, float] = (None, 0.0)
        self._press: Any = None
        self._invite: Any = None

    @property
    def on(self) -> bool:
        return self.flow is not None and self.flow.speech

    # -- renders --------------------------------------------------------------------------

    def rendered(self, flow: f.Flow) -> None:
        """After each render of a patient screen."""
        was, self.flow = self.flow, flow
        if not flow.speech:
            if was is not None and was.speech:
                self.silence()
                self.speaker.set_voice(Voice())  # the next patient starts at the defaults
            self._said = []
            if flow.warning and was is not None and not was.warning:
                # an alert by more than one sense: the warning is said even without speech
                # mode, on the loudspeaker (it holds nothing of the patient)
                question = t(UiText.STILL_HERE_QUESTION, flow.language)
                self.say(utterance([question, t(UiText.STILL_HERE_HINT, flow.language)]),
                         Channel.SPEAKER)  # fmt: skip
            arrived = was is None or was.screen is not flow.screen
            if flow.screen is f.Screen.CHOOSE and arrived:
                self._cancel_invite()
                self.speaker.prepare(flow.language)
                self._invite = Clock.schedule_once(self._invite_now, INVITE_AFTER_S)
            elif flow.screen is not f.Screen.CHOOSE:
                self._cancel_invite()
            return
        self._cancel_invite()
        started = was is None or not was.speech
        if started:
            self.speaker.prepare(flow.language)
        moved = started or was is None or (was.screen, was.language) != (flow.screen, flow.language)
        if moved:
            self._explored = (None, 0.0)
        self._whole = self._whole or moved
        self._announce = self._announce or started
        self._trigger()

    def read_aloud(self) -> None:
        """ "Écouter", or "repeat": the whole screen, now."""
        self._whole = True
        self._speak_state()

    def _speak_state(self, *_args: object) -> None:
        flow, screen = self.flow, self._screen()
        if flow is None or screen is None:
            return
        channel = self.speaker.channel
        now = sentences(screen_items(screen, self._skipped()), flow.language, channel)
        parts = now if self._whole else [s for s in now if s not in self._said]
        if self._announce:
            parts = [t(UiText.SPEECH_ON, flow.language), *parts]
        self._whole = self._announce = False
        self._said = now
        if parts:
            self.say(utterance(parts), channel)

    def say(self, text: str, channel: Channel | None = None) -> None:
        flow = self.flow
        if flow is None:
            return
        channel = channel or self.speaker.channel
        self.speaker.say(text, flow.language, channel)
        spoken = getattr(self.app, "on_spoken", None)
        if spoken is not None:
            spoken(flow.screen.value, text, channel.value)

    def silence(self) -> None:
        self._trigger.cancel()
        self._whole = self._announce = False
        self.speaker.stop()

    # -- gestures -------------------------------------------------------------------------

    def touch_down(self, touch: MotionEvent, admin_corner: bool) -> None:
        """Any touch on the patient screens; ``admin_corner``: the pharmacist's corner."""
        self._cancel_invite()
        self._cancel_press()
        if self.on or admin_corner or self.flow is None:
            return
        self._press = Clock.schedule_once(lambda _dt: self._long_pressed(touch), LONG_PRESS_S)

    def touch_up(self, _touch: MotionEvent) -> None:
        self._cancel_press()

    def _long_pressed(self, touch: MotionEvent) -> None:
        self._press = None
        touch.ud[LONG_PRESS] = True  # its release activates nothing
        self.app.tap("speech", True)

    def explore(self, widget: Widget) -> bool:
        """A control was released: True when it must act (speech off, or its second
        touch); else it is said, and the touch is activity."""
        screen = self._screen()
        if not self.on or getattr(screen, "name", "") == ADMIN:
            self.speaker.stop()  # "Écouter" was talking: any action silences it
            return True
        widget_seen, at = self._explored
        now = time.monotonic()
        if widget_seen is widget and now - at <= EXPLORE_WINDOW:
            self._explored = (None, 0.0)
            self.silence()
            return True
        self._explored = (widget, now)
        item = item_of(widget, screen)
        if item is not None and self.flow is not None:
            self.say(sentence(item, self.flow.language, self.speaker.channel))
        self.app.tap("activity")
        return False

    def typed(self, widget: Widget) -> None:
        """A key typed (its second touch in speech mode): say what, unless secret."""
        item = item_of(widget, self._screen())
        if self.on and item is not None and self.flow is not None:
            channel = self.speaker.channel
            self.say(typed(item, self.flow.language, channel), channel)

    def command(self, name: str) -> None:
        """A speech bar button: acts at once (its label is said at the new voice)."""
        if name not in COMMANDS:
            return
        self.app.tap("activity")
        if name == "repeat":
            self.read_aloud()
            return
        if name == "stop":
            self.silence()
            return
        voice = getattr(self.speaker.voice, name)()
        self.speaker.set_voice(voice)
        if self.flow is not None:
            self.say(t(BAR_TEXTS[name], self.flow.language))

    # -- helpers --------------------------------------------------------------------------

    def _invite_now(self, _dt: float) -> None:
        self._invite = None
        if self.flow is not None and not self.flow.speech:
            self.say(t(UiText.SPEECH_INVITE, self.flow.language), Channel.SPEAKER)

    def _cancel_invite(self) -> None:
        if self._invite is not None:
            self._invite.cancel()
            self._invite = None

    def _cancel_press(self) -> None:
        if self._press is not None:
            self._press.cancel()
            self._press = None

    def _screen(self) -> Widget | None:
        manager = getattr(self.app, "manager", None)
        return None if manager is None else manager.current_screen

    @staticmethod
    def _skipped() -> tuple[type, ...]:
        return (SpeechBar,)
