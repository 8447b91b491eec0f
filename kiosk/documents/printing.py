"""Printing the patient's receipt from the kiosk process, without paying for it.

fpdf2 (~34 MiB, ~140 ms to import) and python-escpos (Pillow, qrcode, PyYAML) never
load in the long-running kiosk: ``ReceiptPrinter`` hands each receipt to a short-lived
child, ``python -m kiosk.documents.render``, which writes the 0600 PDF into the spool
and prints the ESC/POS ticket when ``[printer] kind`` is not ``none``. The job goes on
the child's stdin, never in argv or the environment (the patient's name and the
provisional password would show in /proc/*/cmdline), and the child is killed past ``timeout``.

Whatever happens, ``print_receipt`` returns a ``PrintResult``: what came out, and the
pharmacist's messages (typed, rendered by the UI) when something did not. It raises nothing: a
printer that is off must not end the patient's journey. Logs name outputs and
problems, never the patient, the identifier or the password.

The spool keeps a PDF ``SPOOL_KEEP`` seconds, for a spooler to print it, then deletes it:
at construction (what an earlier run left, across restarts), before each receipt, and
every ``PURGE_EVERY`` seconds on a background timer, so a receipt carrying the web-access
identifier and password never outlives its quarter of an hour when no other receipt
follows (``[printer] kind = "none"``).

Use from a journey callback::

    printer = ReceiptPrinter(config.kiosk, config.printer)
    result = printer.print_receipt(facts)    # a ReceiptFacts; blocks, <= timeout
    future = printer.submit(facts)           # or in the background
    Services(..., print_receipt=printer.journey_callback(on_result))  # the journey's hook
    printer.close()                                # at exit: waits for them, stops the timer
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import kiosk
from kiosk.children import dies_with_this_process
from kiosk.config import Config, KioskConfig, PrinterConfig
from kiosk.documents.facts import ReceiptFacts
from kiosk.documents.render import Job
from kiosk.logs import event as log_event
from kiosk.messages import MessageEnum

log = logging.getLogger(__name__)

RENDER_MODULE = "kiosk.documents.render"
DEFAULT_TIMEOUT = 20.0  # seconds for the whole child: PDF, then ticket
SPOOL_KEEP = 15 * 60  # seconds a spooled PDF is kept for the spooler to print it
PURGE_EVERY = 60.0  # seconds between two purges of the spool by the background timer
_PARTIAL = ".part"  # a PDF the renderer was writing when it died (render -> receipt.py)
DEFAULT_IO_TIMEOUT = 5.0  # seconds for one connect or send to a network printer
_EXCEPTION_LINE = re.compile(r"([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))(?::|$)")
_ROOT = Path(kiosk.__file__).resolve().parent.parent  # where the kiosk package is found


class Problem(StrEnum):
    """What went wrong with a receipt; its value is the key of the pharmacist's message
    (:class:`PrinterTrouble`, which names the printer)."""

    PDF_FAILED = "printer.pdf_failed"
    TICKET_UNREACHABLE = "printer.ticket_unreachable"
    TICKET_NO_PAPER = "printer.ticket_no_paper"
    TICKET_INTERRUPTED = "printer.ticket_interrupted"
    TICKET_DRIVER = "printer.ticket_driver"
    TICKET_FAILED = "printer.ticket_failed"
    TICKET_TIMEOUT = "printer.ticket_timeout"  # the PDF was done, the printer never finished
    TIMEOUT = "printer.timeout"  # the renderer did not finish in time
    CRASHED = "printer.crashed"  # the renderer died or could not start


class PrinterNote(MessageEnum):
    PDF_KEPT = "printer.pdf_kept"  # after a ticket problem: the PDF can be printed again


_TICKET_PROBLEMS = {
    "unreachable": Problem.TICKET_UNREACHABLE,
    "no_paper": Problem.TICKET_NO_PAPER,
    "interrupted": Problem.TICKET_INTERRUPTED,
    "driver": Problem.TICKET_DRIVER,
    "failed": Problem.TICKET_FAILED,
}


@dataclass(frozen=True, slots=True)
class PrinterTrouble:
    """The pharmacist's message about one problem of one receipt printer."""

    problem: Problem
    where: str  # "192.0.2.7:9100", "USB 04b8:0e15", "/dev/usb/lp0"…

    @property
    def key(self) -> str:
        return self.problem.value

    def args(self) -> Mapping[str, object]:
        return {"where": self.where}


@dataclass(frozen=True, slots=True)
class PrintResult:
    """What came out of one receipt job."""

    pdf: Path | None  # the spooled PDF (0600), or None when it could not be written
    ticket: bool  # an ESC/POS ticket was printed (always False with kind = "none")
    ticket_wanted: bool = False  # a ticket printer is configured
    problems: tuple[Problem, ...] = ()
    where: str = field(default="", compare=False)  # the printer, as the messages name it

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self) -> tuple[PrinterTrouble | PrinterNote, ...]:
        """For the pharmacist: each problem, then whether the PDF is kept; () when ok."""
        if not self.problems:
            return ()
        troubles = tuple(PrinterTrouble(problem, self.where) for problem in self.problems)
        return (*troubles, PrinterNote.PDF_KEPT) if self.pdf is not None else troubles


def _where(config: PrinterConfig) -> str:
    if config.kind == "network":
        return f"{config.host}:{config.port}"
    if config.kind == "usb":
        return f"USB {config.usb_vendor:04x}:{config.usb_product:04x}"
    return config.device or config.kind


@dataclass
class _Child:
    events: list[dict[str, Any]]
    returncode: int | None
    timed_out: bool
    error_type: str  # the exception the renderer died of, by type name only


class ReceiptPrinter:
    """Prints receipts through the renderer child; one at a time."""

    def __init__(
        self,
        kiosk_config: KioskConfig,
        printer: PrinterConfig | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        io_timeout: float = DEFAULT_IO_TIMEOUT,
        command: Sequence[str] | None = None,
        purge_every: float | None = PURGE_EVERY,
    ) -> None:
        """``command``: the renderer to run (default: this interpreter, ``-m`` render);
        ``purge_every``: seconds between the timer's purges of the spool (None: no timer).
        The spool is purged here once, at start-up."""
        # absolute: the renderer runs in another directory
        self.spool = Path(kiosk_config.spool).absolute()
        self.pharmacy = kiosk_config.pharmacy_name
        printer = printer or PrinterConfig()
        if printer.device:
            printer = replace(printer, device=str(Path(printer.device).absolute()))
        self.printer = printer
        self.timeout = timeout
        self.io_timeout = min(io_timeout, timeout)
        self.command = list(command or (sys.executable, "-m", RENDER_MODULE))
        self._lock = threading.Lock()  # one child at a time: tickets come out in order
        self._executor: ThreadPoolExecutor | None = None
        self._stopped = threading.Event()
        self._purger: threading.Thread | None = None
        # at start-up: what an earlier run left, with its secrets; a partial PDF at any
        # age, since no renderer of ours runs yet (a killed kiosk's died with it)
        self.purge(partials=True)
        if purge_every is not None:
            self._purger = threading.Thread(
                target=self._purge_every, args=(purge_every,), name="spool-purge", daemon=True
            )
            self._purger.start()

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        io_timeout: float = DEFAULT_IO_TIMEOUT,
        command: Sequence[str] | None = None,
        purge_every: float | None = PURGE_EVERY,
    ) -> ReceiptPrinter:
        return cls(
            config.kiosk,
            config.printer,
            timeout=timeout,
            io_timeout=io_timeout,
            command=command,
            purge_every=purge_every,
        )

    # -- printing -----------------------------------------------------------------------

    def print_receipt(self, facts: ReceiptFacts, now: dt.datetime | None = None) -> PrintResult:
        """The accusé for ``facts``: PDF into the spool, and the ticket when a printer is
        configured. Blocks up to ``timeout`` seconds; never raises."""
        try:
            return self._print(facts, now)
        except Exception as exc:  # noqa: BLE001 - a receipt must not end the journey
            # by type only: a traceback's frames could quote the job
            log.error("receipt printing failed (%s)", type(exc).__name__)  # noqa: TRY400
            return PrintResult(
                pdf=None,
                ticket=False,
                ticket_wanted=self.printer.kind != "none",
                problems=(Problem.CRASHED,),
                where=_where(self.printer),
            )

    def _print(self, facts: ReceiptFacts, now: dt.datetime | None) -> PrintResult:
        job = Job(
            spool=self.spool,
            facts=facts,
            pharmacy=self.pharmacy,
            now=now or dt.datetime.now(dt.UTC),
            printer=self.printer,
            io_timeout=self.io_timeout,
        )
        with self._lock:
            self.purge()
            child = self._run(job.to_json().encode("ascii"))
        result = self._result(child)
        if result.ticket and result.pdf is not None:
            # the patient's paper is printed: no copy of it (their name, birth date, maybe
            # the web-access secrets) stays on disk; without a ticket, the spooler's copy
            # is purged after SPOOL_KEEP
            result.pdf.unlink(missing_ok=True)
            result = replace(result, pdf=None)
        self._log(result, child)
        return result

    def purge(self, now: float | None = None, partials: bool = False) -> int:
        """Delete spooled receipts older than ``SPOOL_KEEP`` seconds (and the partial
        ones a dead renderer left; with ``partials``, every partial one whatever its
        age): the spooler that prints them has had its chance, and one may hold
        web-access secrets. Never raises."""
        limit = (now if now is not None else time.time()) - SPOOL_KEEP
        removed = 0
        try:
            entries = list(self.spool.iterdir())
        except OSError:
            return 0
        for path in entries:
            try:
                partial = path.name.endswith(f".pdf{_PARTIAL}")
                receipt = path.suffix == ".pdf" or partial
                old = (partials and partial) or path.stat().st_mtime < limit
                if receipt and path.is_file() and old:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        if removed:
            log.info("spool: %d old receipt(s) deleted", removed)
        return removed

    def _purge_every(self, interval: float) -> None:
        """The timer's thread: a purge every ``interval`` seconds until :meth:`close`."""
        while not self._stopped.wait(interval):
            try:
                self.purge()
            except Exception as exc:  # noqa: BLE001 - the timer must outlive one bad purge
                log.error("spool purge failed (%s)", type(exc).__name__)  # noqa: TRY400

    def submit(self, facts: ReceiptFacts) -> Future[PrintResult]:
        """``print_receipt`` on a background thread, for callers that must not block
        (the journey holds its lock while it runs commands)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receipt")
        # in the caller's logging context: the receipt's lines carry the journey's id
        run = contextvars.copy_context().run
        return self._executor.submit(run, self.print_receipt, facts)

    def journey_callback(
        self, on_result: Callable[[PrintResult], None] | None = None
    ) -> Callable[[ReceiptFacts], None]:
        """A ``Services.print_receipt`` for the journey: starts the receipt in the
        background and returns at once; ``on_result`` gets the PrintResult (on the
        printing thread) when it is done, e.g. to show the pharmacist ``result.messages()``."""

        def print_receipt(facts: ReceiptFacts) -> None:
            future = self.submit(facts)
            if on_result is not None:
                future.add_done_callback(lambda done: on_result(done.result()))

        return print_receipt

    def close(self) -> None:
        """Wait for receipts submitted in the background, then stop the purge timer."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._stopped.set()
        if self._purger is not None:
            self._purger.join()
            self._purger = None

    # -- the child ----------------------------------------------------------------------

    def _run(self, payload: bytes) -> _Child:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(_ROOT), env.get("PYTHONPATH"))))
        try:
            process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=_ROOT,
                env=env,
                preexec_fn=dies_with_this_process(),  # a killed kiosk leaves no renderer behind
            )
        except OSError:
            log.exception("receipt renderer could not start")
            return _Child([], None, timed_out=False, error_type="")
        try:
            out, err = process.communicate(payload, timeout=self.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()  # reaps it: no zombie; keeps what it printed
            timed_out = True
        return _Child(_events(out), process.returncode, timed_out, _error_type(err))

    def _result(self, child: _Child) -> PrintResult:
        pdf: Path | None = None
        ticket = False
        problems: list[Problem] = []
        pdf_reported = ticket_reported = False
        for event in child.events:
            if "pdf" in event:
                pdf_reported = True
                pdf = self._spooled(event["pdf"])
                if pdf is None:
                    problems.append(Problem.PDF_FAILED)
            elif "pdf_error" in event:
                pdf_reported = True
                problems.append(Problem.PDF_FAILED)
            elif "ticket" in event:
                ticket_reported = True
                ticket = event["ticket"] is True
            elif "ticket_error" in event:
                ticket_reported = True
                problems.append(_TICKET_PROBLEMS.get(event["ticket_error"], Problem.TICKET_FAILED))
        wanted = self.printer.kind != "none"
        unfinished = not pdf_reported or (wanted and not ticket_reported)
        if child.timed_out and unfinished:
            problems.append(Problem.TICKET_TIMEOUT if pdf_reported else Problem.TIMEOUT)
        elif unfinished or (child.returncode != 0 and not child.timed_out):
            problems.append(Problem.CRASHED)
        return PrintResult(
            pdf=pdf,
            ticket=ticket,
            ticket_wanted=wanted,
            problems=tuple(dict.fromkeys(problems)),
            where=_where(self.printer),
        )

    def _spooled(self, reported: object) -> Path | None:
        """The child's PDF path, if it is a file of ours in the spool."""
        if not isinstance(reported, str):
            return None
        path = Path(reported)
        if path.parent.resolve() != self.spool.resolve() or not path.is_file():
            return None
        return path

    def _log(self, result: PrintResult, child: _Child) -> None:
        pdf = result.pdf.name if result.pdf else "none"
        if result.ok:
            log_event(log, "printer.receipt", f"receipt printed: pdf {pdf}, ticket {result.ticket}",
                  result="ok", ticket=result.ticket)  # fmt: skip
            return
        details = [str(e["detail"]) for e in child.events if "detail" in e]  # types, addresses
        log.warning(
            "receipt printing: %s (pdf %s, ticket %s, renderer exit %s%s)",
            ", ".join(result.problems), pdf, result.ticket, child.returncode,
            "".join(f", {d}" for d in details),
            extra={"event": "printer.receipt", "result": ",".join(result.problems),
                   "ticket": result.ticket},
        )  # fmt: skip
        if Problem.CRASHED in result.problems and child.error_type:
            log.warning("receipt renderer died of %s", child.error_type)


def _error_type(err: bytes) -> str:
    """The exception type a traceback on stderr ends with; its message (which could
    quote patient data) is dropped."""
    lines = err.decode("utf-8", "replace").strip().splitlines()
    found = _EXCEPTION_LINE.match(lines[-1]) if lines else None
    return found.group(1) if found else ""


def _events(out: bytes) -> list[dict[str, Any]]:
    """The child's JSON lines; anything else on its stdout is ignored."""
    events = []
    for raw in out.decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
