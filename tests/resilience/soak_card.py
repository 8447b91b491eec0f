"""The soak's patient card, an emulator on vpcd slot 0 in a process of its own.

The soak measures the kiosk's process only, so the card runs here:
``python -m tests.resilience.soak_card``, one JSON command a line on stdin, one JSON
answer a line on stdout (``{"ok": true}`` or ``{"ok": false, "error": ...}``):

- ``{"op": "insert", "profile": {...}}``: a new card with this Vitale profile is put in
  the reader (the one there, if any, is pulled first); answered once vpcd took it;
- ``{"op": "swap", "profile": {...}}``: the card in the reader answers as this profile
  from its next APDU on, without leaving the reader (no insertion for pcscd to see: a
  journey whose card is read through PC/SC without waiting on pcscd's polling);
- ``{"op": "pull"}``: the card leaves the reader;
- ``{"op": "quit"}`` (or end of stdin): pull and stop.
"""

from __future__ import annotations

import sys
from typing import Any

from kiosk.sim.emulators.profiles import emulator_for
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
from tests.resilience.soak_child import serve_commands


class Reader:
    def __init__(self) -> None:
        self.card: VpcdCard | None = None

    def pull(self) -> None:
        if self.card is not None:
            self.card.pull()
            self.card = None

    def serve(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command.get("op")
        if op == "insert":
            self.pull()
            self.card = VpcdCard(emulator_for(command["profile"]), slot_port(0)).insert()
            return {"ok": True}
        if op == "swap":
            if self.card is None:
                return {"ok": False, "error": "no card in the reader"}
            self.card.card = emulator_for(command["profile"])
            return {"ok": True}
        if op == "pull":
            self.pull()
            return {"ok": True}
        return {"ok": False, "error": f"unknown op {op!r}"}


def main() -> int:
    reader = Reader()
    try:
        serve_commands(reader.serve, (ValueError, KeyError, TimeoutError, OSError))
    finally:
        reader.pull()
    return 0


if __name__ == "__main__":
    sys.exit(main())
