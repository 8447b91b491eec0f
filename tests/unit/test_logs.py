"""The kiosk's log lines (kiosk/logs.py): JSON a line, journal priorities, the journey's
context, and the redaction filter that masks patient data whoever logs it; the day's
table read back from them (kiosk/appliance/journey_report.py)."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator

import pytest

from kiosk.appliance.journey_report import journeys, parse_line, table
from kiosk.core import flow as f
from kiosk.core.journey_log import JourneyLog
from kiosk.logs import context, event, redact, setup_logging


@pytest.fixture(autouse=True)
def _hooks_restored() -> Iterator[None]:
    """setup_logging installs process-wide exception hooks: put pytest's back."""
    hooks = (sys.excepthook, threading.excepthook)
    yield
    sys.excepthook, threading.excepthook = hooks


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    monkeypatch.setenv("KIOSK_LOG_FORMAT", "json")
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    setup_logging(stream=stream)
    yield stream
    root.handlers[:], root.level = saved


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "text",
    [
        "nir 280057512345674", "nir 2 80 05 75 123 456 74", "ins 1780575056012",
        "corse 1 80 05 2A 123 456 78", "temp 7123456789012 34", "mobile 0612345678",
        "mobile 06 12 34 56 78", "mobile +33 6 12 34 56 78", "mobile 0033612345678",
        "fixe 01.45.67.89.10", "mail jeanne.martin@exemple.fr", "mail a+b@x.co.uk",
        "dashes 1-85-05-78-006-084-36", "corse 1 85 05 2A 006 084 36", "corse 185052B00608436",
        "stuck INS185057800608436", "mobile +33 (0)6 12 34 56 78", "mobile +33 612 345 678",
    ],
)  # fmt: skip
def test_patient_data_is_masked(text: str) -> None:
    masked = redact(text)
    label, rest = masked.split(" ", 1)
    assert label == text.split(" ", 1)[0]
    assert not any(ch.isdigit() for ch in rest)
    assert "@" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "TD1.1 ok in 84 ms",
        "act 3f2a9c7e",
        "RPPS 10001234567",
        "2026-12-01T10:00:00.123+00:00",
        "port 8443",
        "latency 0.0612345678 s",
        "FINESS 750012345",
    ],
)
def test_what_is_not_patient_data_is_kept(text: str) -> None:
    assert redact(text) == text


def test_every_line_is_json_and_redacted_whoever_logs_it(captured: io.StringIO) -> None:
    library = logging.getLogger("some.library")
    library.warning("patient %s called from %s", "280057512345674", "0612345678")
    with context(journey="abcd1234"):
        event(logging.getLogger("kiosk.x"), "dmp.call", transaction="TD0.2", note="a@b.fr")
    try:
        int("INS 1780575056012")
    except ValueError:
        library.exception("failed for jeanne@exemple.fr")
    first, second, third = lines(captured)
    assert first["msg"] == "patient [nir] called from [phone]"
    assert first["level"] == "warning"
    assert first["logger"] == "some.library"
    assert second == {
        "ts": second["ts"], "level": "info", "logger": "kiosk.x", "msg": "dmp.call",
        "event": "dmp.call", "transaction": "TD0.2", "note": "[email]", "journey": "abcd1234",
    }  # fmt: skip
    assert "1780575056012" not in json.dumps(third)
    assert "[nir]" in str(third["exception"])
    assert third["msg"] == "failed for [email]"


def test_on_the_journal_each_line_carries_its_priority(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("KIOSK_LOG_FORMAT", "json")
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    read, write = os.pipe()
    stream = os.fdopen(write, "w")
    stat = os.fstat(write)
    monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
    try:
        setup_logging(stream=stream)
        logging.getLogger("kiosk").error("boom")
        logging.getLogger("kiosk").info("fine")
        stream.close()
        text = os.read(read, 10_000).decode()
    finally:
        root.handlers[:], root.level = saved
        os.close(read)
    error, info = text.splitlines()
    assert error.startswith("<3>{")
    assert info.startswith("<6>{")
    parsed = parse_line(error)
    assert parsed is not None
    assert parsed["msg"] == "boom"


def test_a_journey_is_logged_screen_by_screen(captured: io.StringIO) -> None:
    now = [0.0]
    trail = JourneyLog(lambda: now[0], new_id=lambda: "j1")
    welcome = f.Flow()
    reading = f.Flow(screen=f.Screen.READING)
    error = f.Flow(screen=f.Screen.ERROR, message=f.JourneyProblem.LEDGER_DOWN)
    trail.observe(welcome, welcome)  # nothing changed, nothing started
    trail.observe(welcome, reading)
    now[0] = 0.25
    trail.observe(reading, error)
    now[0] = 1.0
    trail.finished(f.Outcome.ERROR, error)
    trail.observe(welcome, welcome)
    records = lines(captured)
    assert [(r["event"], r.get("step")) for r in records] == [
        ("journey.start", "reading"), ("journey.step", "reading"),
        ("journey.step", "error"), ("journey.end", None),
    ]  # fmt: skip
    assert records[2]["error"] == "journey.ledger_down"
    assert records[2]["duration_ms"] == 750
    assert records[3]["steps"] == ["reading:250", "error:750"]
    assert (records[3]["outcome"], records[3]["level"], records[3]["duration_ms"]) == (
        "error",
        "warning",
        1000,
    )
    rows = journeys([*captured.getvalue().splitlines(), "not json", "{broken", "<6>[1]"])
    assert [(row.journey, row.outcome, row.error) for row in rows] == [
        ("j1", "error", "journey.ledger_down")
    ]
    printed = table(rows)
    assert "j1" in printed
    assert "reading(0.2s) error(0.8s)" in printed
    assert printed.endswith("1 journey(s)")


def test_a_journey_without_its_end_is_unfinished() -> None:
    start = json.dumps({"ts": "2026-12-01T10:00:00+00:00", "event": "journey.start",
                        "journey": "k"})  # fmt: skip
    (row,) = journeys([start])
    assert row.outcome == "unfinished"
    assert row.duration_ms is None


def test_a_bad_format_string_never_raises_at_the_caller(captured: io.StringIO) -> None:
    logging.getLogger("some.library").warning("%d tries for %s", "x")
    (line,) = lines(captured)
    assert "%d tries" in str(line["msg"])


def test_a_foreign_exception_is_logged_by_its_type_never_its_message(
    captured: io.StringIO,
) -> None:
    from kiosk.logs import failure

    who = "Jeanne " + "MARTIN"  # not in a source line the traceback quotes
    try:
        {"name": 1}[who]
    except KeyError as exc:
        failure(logging.getLogger("kiosk.core.journey"), "journey worker failed", exc)
    (line,) = lines(captured)
    assert str(line["msg"]).startswith("journey worker failed: KeyError")
    assert "MARTIN" not in json.dumps(line)
    assert "test_logs.py" in str(line["msg"])  # where it was raised


def test_an_uncaught_exception_goes_through_the_log(captured: io.StringIO) -> None:
    message = " ".join(("Jeanne", "MARTIN", "280057512345674"))

    def boom() -> None:
        raise ValueError(message)

    thread = threading.Thread(target=boom, name="worker-x")
    thread.start()
    thread.join()
    try:
        boom()
    except ValueError:
        sys.excepthook(*sys.exc_info())
    first, second = lines(captured)
    assert str(first["msg"]).startswith("unhandled exception in worker-x: ValueError")
    assert str(second["msg"]).startswith("unhandled exception: ValueError")
    assert "MARTIN" not in captured.getvalue()
    assert "2800575" not in captured.getvalue()


def test_lines_missing_their_fields_are_shown_as_unknown() -> None:
    broken = [
        json.dumps({"event": "journey.step", "journey": "k"}),
        json.dumps({"event": "dmp.call", "journey": "k", "duration_ms": "soon"}),
    ]
    printed = table(journeys(broken))
    assert "None" not in printed
    assert "?(?)" in printed
    assert "?:?(?)" in printed
