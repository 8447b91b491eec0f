"""A journey the ledger could not record is refused before it starts: the card is not
read, the patient is told why. And the probe of the ledger's file system."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.core import flow as f
from kiosk.core.journey import Journey, Services
from kiosk.core.ledger_room import no_room
from kiosk.hardware.cards import VitaleCard


def unused() -> object:
    raise AssertionError("nothing is read nor called when the ledger cannot record")


def journey(room: str | None) -> tuple[Journey, list[str]]:
    reads: list[str] = []

    def read() -> VitaleCard:
        reads.append("read")
        raise AssertionError("the card is not read")

    services = Services(
        read_vitale=read, client=unused, ledger=unused, practitioner=lambda: None,  # type: ignore[arg-type]
        rpps=lambda: "", check_code=unused, ledger_room=lambda: room,  # type: ignore[arg-type]
    )  # fmt: skip
    return Journey(services), reads


def test_a_full_ledger_refuses_the_journey_before_the_card_is_read() -> None:
    kiosk, reads = journey("12 KiB free on its file system, under 8 MiB")
    try:
        kiosk.dispatch(f.CardInserted("vitale"))
        kiosk.wait_idle(5)
        flow = kiosk.flow
        assert (flow.screen, flow.message, flow.card) == (
            f.Screen.ERROR, f.JourneyProblem.CANNOT_RECORD, None
        )  # fmt: skip
        assert reads == []
        kiosk.dispatch(f.CardRemoved())
        assert kiosk.flow.screen is f.Screen.WELCOME
    finally:
        kiosk.close()


def test_no_room_says_why(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.db"
    assert no_room(ledger) is None
    assert "under" in str(no_room(ledger, needed=1 << 62))
    assert "cannot be read" in str(no_room(tmp_path / "absent" / "ledger.db"))


@pytest.mark.skipif(not Path("/proc/mounts").exists(), reason="Linux only")
def test_no_room_on_a_file_system_without_blocks() -> None:
    assert no_room(Path("/proc/ledger.db")) is not None  # procfs: no free block, ever
