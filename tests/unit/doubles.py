"""In-test channels. They replace PC/SC only to exercise pure logic (APDU framing,
status-word handling, the readers' command sequences): no daemon, no socket."""

from __future__ import annotations

from kiosk.sim.emulators.emulated_card import EmulatedCard


class ScriptedChannel:
    """Answers each APDU with the next canned response and records what was sent."""

    def __init__(self, *answers: str) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[bytes] = []

    def transmit_raw(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.answers.pop(0)


class EmulatorChannel:
    """Feeds APDUs straight to an emulator's ``process()`` and records them."""

    def __init__(self, card: EmulatedCard) -> None:
        self.card = card
        self.sent: list[bytes] = []

    def transmit_raw(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.card.process(apdu)

    def count(self, ins: int) -> int:
        return sum(1 for apdu in self.sent if len(apdu) >= 2 and apdu[1] == ins)
