"""Logging for the kiosk: one JSON object a line on stderr, which journald keeps, and
never patient data.

Every line carries ``ts``, ``level``, ``logger``, ``msg`` and the structured fields a
caller passes (:func:`event`): ``event`` (``journey.step``, ``dmp.call``, ``cps.state``…),
the ``journey`` id, durations in ms, result keys. ``kiosk logs`` reads them back into a
table of journeys (:mod:`kiosk.appliance.journey_report`). Under systemd, stderr is a
journal stream (``$JOURNAL_STREAM``): each line is prefixed with its syslog priority
(``<3>``…), so ``journalctl -p warning`` works. On a terminal the lines stay readable text.

Why JSON on stderr and not journald's native protocol (systemd-python's JournalHandler):
it needs no compiled dependency, the same lines reach the journal on a device, a file in
tests and a pipe in CI, and ``journalctl -o cat`` gives them back unchanged.

A redaction filter on every root handler masks anything shaped like a NIR or INS, a
phone number or an e-mail address, whoever logs it (a library, an exception's text).
Libraries are kept at WARNING: signxml logs whole canonicalized assertions at DEBUG,
which would put the patient's INS (the VIHF resource-id) in the journal.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import threading
import traceback
from collections.abc import Iterator
from types import TracebackType
from typing import Any, TextIO

QUIET = ("signxml", "kivy", "PIL", "fpdf", "fontTools")

_SEP = r"[ .-]?"
# NIR / INS: sex, year, month, department (Corsica: 2A/2B), commune, order, key (optional),
# spaces, dots or dashes between the groups; a NIR stuck to letters ("INS1850578…") too.
_NIR = re.compile(
    rf"(?<![\d])[12378]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[AaBb]){_SEP}\d{{3}}{_SEP}\d{{3}}"
    rf"(?:{_SEP}\d{{2}})?(?!\d)"
)
_LONG_NUMBER = re.compile(rf"(?<![\d.])\d(?:{_SEP}\d){{12,}}(?!\d)")
# French numbers: 0X XX XX XX XX, +33 / 0033 with or without "(0)", any grouping after it.
_PHONE = re.compile(
    r"(?<![\d.+])(?:(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?[1-9](?:[ .-]?\d){8}|0[1-9](?:[ .-]?\d{2}){4})"
    r"(?![\d])"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MASKS = ((_EMAIL, "[email]"), (_NIR, "[nir]"), (_LONG_NUMBER, "[number]"), (_PHONE, "[phone]"))

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_PRIORITY = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}
_context: contextvars.ContextVar[dict[str, object]] = contextvars.ContextVar("log_context")


def redact(text: str) -> str:
    """``text`` with every NIR/INS, long number, phone number and e-mail masked."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_redacted(item) for item in value]
    return redact(str(value))


class RedactingFilter(logging.Filter):
    """Rewrites each record in place: message, arguments, fields, exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a caller's bad format string must not raise here
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), ()
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD:
                setattr(record, key, _redacted(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Adds the fields of :func:`context` (the journey id) to each record in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get({}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, priority_prefix: bool = False) -> None:
        super().__init__()
        self.priority_prefix = priority_prefix

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update((key, value) for key, value in record.__dict__.items() if key not in _STANDARD)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        text = json.dumps(line, ensure_ascii=False, default=str)
        if self.priority_prefix:
            return f"<{_PRIORITY.get(record.levelname, 6)}>{text}"
        return text


class TextFormatter(logging.Formatter):
    """For a person at a terminal: the message, then its fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(
            f"{key}={value}" for key, value in record.__dict__.items() if key not in _STANDARD
        )
        text = super().format(record)
        return f"{text} [{extra}]" if extra else text


def _on_journal(stream: TextIO) -> bool:
    """True when ``stream`` is the journal stream systemd gave us (``$JOURNAL_STREAM``)."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return False
    return f"{stat.st_dev}" == device and f"{stat.st_ino}" == inode


def setup_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """JSON lines (text on a terminal, or as ``$KIOSK_LOG_FORMAT`` says), redacted."""
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # Kivy must not take over the root logger
    stream = stream or sys.stderr
    wanted = os.environ.get("KIOSK_LOG_FORMAT", "")
    text = wanted == "text" or (wanted != "json" and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter() if text else JsonFormatter(_on_journal(stream)))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    sys.excepthook = _unhandled  # an uncaught exception goes through the redaction too
    threading.excepthook = _unhandled_in_thread
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def failure(logger: logging.Logger, msg: str, exc: BaseException) -> None:
    """An exception that is not ours, logged by its type and where it was raised, never by
    its message (a library's text may quote the data it was given: a name, an INS)."""
    frames = "".join(traceback.format_tb(exc.__traceback__)[-5:])
    logger.error("%s: %s\n%s", msg, type(exc).__name__, frames.rstrip())


def _unhandled(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    exc.__traceback__ = tb
    failure(logging.getLogger("kiosk"), "unhandled exception", exc)


def _unhandled_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        where = args.thread.name if args.thread is not None else "a thread"
        failure(logging.getLogger("kiosk"), f"unhandled exception in {where}", args.exc_value)


def event(
    logger: logging.Logger, name: str, msg: str = "", level: int = logging.INFO, **fields: object
) -> None:
    """One structured line: ``event`` = ``name`` and ``fields``, e.g.
    ``event(log, "dmp.call", transaction="TD0.2", duration_ms=84, result="ok")``; a field
    given as None is left out."""
    if logger.isEnabledFor(level):
        given = {key: value for key, value in fields.items() if value is not None}
        logger.log(level, msg or name, extra={"event": name, **given})


@contextlib.contextmanager
def context(**fields: object) -> Iterator[None]:
    """Every line logged inside (this thread or task) carries ``fields``."""
    token = _context.set({**_context.get({}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, object]:
    return dict(_context.get({}))
