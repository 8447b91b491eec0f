"""The receipt renderer: a short-lived child of the kiosk, ``python -m kiosk.documents.render``.

It reads one job as JSON on stdin (never argv or the environment: the patient's name
and birth date and the provisional password must not show in /proc/*/cmdline or
/proc/*/environ), writes the 0600 PDF into
the spool directory, prints the ESC/POS ticket when a printer is configured, and reports
each step as one JSON line on stdout as soon as it is done, so a parent that had to kill
it on a timeout still knows what was produced:

    {"pdf": "/var/lib/kiosk/receipts/receipt-….pdf"}   or  {"pdf_error": "OSError"}
    {"ticket": true}                                   or  {"ticket_error": "unreachable",
                                                            "detail": "10.0.0.9:9100"}

Errors carry an exception type name or a device address, never the exception's text
(which could quote patient data). Exit status 0 when the job was understood, whatever
the printers did; 2 for a malformed job.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TextIO

from kiosk.config import PrinterConfig
from kiosk.dmp.models import Guardian, WebAccess
from kiosk.documents.facts import ReceiptFacts

PROTOCOL = 2  # 2: the journey's ReceiptFacts (who, choices, pharmacist) instead of outcome
ESCPOS_CACHE = ".escpos-cache"  # under the spool: private to the kiosk user, like the PDFs


class JobError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Job:
    spool: Path
    facts: ReceiptFacts
    pharmacy: str
    now: dt.datetime
    printer: PrinterConfig
    io_timeout: float

    def to_json(self) -> str:
        return json.dumps(
            {
                "protocol": PROTOCOL,
                "spool": str(self.spool),
                "facts": _facts_json(self.facts),
                "pharmacy": self.pharmacy,
                "now": self.now.isoformat(),
                "printer": {f.name: getattr(self.printer, f.name) for f in fields(PrinterConfig)},
                "io_timeout": self.io_timeout,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Job:
        try:
            data = json.loads(text)
            if data.get("protocol") != PROTOCOL:
                raise JobError("unknown protocol")
            now = dt.datetime.fromisoformat(data["now"])
            if now.tzinfo is None:
                raise JobError("now: a naive datetime")
            return cls(
                spool=Path(data["spool"]),
                facts=_facts(data["facts"]),
                pharmacy=str(data["pharmacy"]),
                now=now,
                printer=PrinterConfig(**data["printer"]),
                io_timeout=float(data["io_timeout"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, JobError):
                raise
            raise JobError(f"malformed job ({type(exc).__name__})") from None


def _facts_json(facts: ReceiptFacts) -> dict[str, Any]:
    data = {f.name: getattr(facts, f.name) for f in fields(ReceiptFacts)}
    guardian, access = facts.guardian, facts.web_access
    data["guardian"] = None if guardian is None else {
        "last_name": guardian.last_name, "first_name": guardian.first_name, "role": guardian.role
    }  # fmt: skip
    data["web_access"] = None if access is None else {
        "identifier": access.identifier, "password": access.password
    }  # fmt: skip
    return data


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("a flag that is not a boolean")
    return value


def _facts(data: dict[str, Any]) -> ReceiptFacts:
    """The facts back from their JSON; TypeError/KeyError on anything else."""
    guardian, access = data["guardian"], data["web_access"]
    return ReceiptFacts(
        outcome=str(data["outcome"]),
        language=str(data["language"]),
        first_name=str(data["first_name"]),
        last_name=str(data["last_name"]),
        birth_date=str(data["birth_date"]),
        guardian=None
        if guardian is None
        else Guardian(
            str(guardian["last_name"]), str(guardian["first_name"]), str(guardian["role"])
        ),
        pharmacist=str(data["pharmacist"]),
        bris_de_glace=_flag(data["bris_de_glace"]),
        centre15=_flag(data["centre15"]),
        web_access_requested=_flag(data["web_access_requested"]),
        web_access=None
        if access is None
        else WebAccess(str(access["identifier"]), str(access["password"])),
        patient_left=_flag(data["patient_left"]),
    )


def _emit(out: TextIO, event: dict[str, Any]) -> None:
    out.write(json.dumps(event) + "\n")
    out.flush()


def run(job: Job, out: TextIO) -> None:
    """Do the job, reporting each output on ``out`` as it is produced."""
    try:
        from kiosk.documents.receipt import write_receipt  # fpdf2: this process only

        path = write_receipt(job.spool, job.facts, job.pharmacy, job.now)
        _emit(out, {"pdf": str(path)})
    except Exception as exc:  # noqa: BLE001 - reported by type to the parent
        _emit(out, {"pdf_error": type(exc).__name__})
    if job.printer.kind == "none":
        return
    from kiosk.documents.content import receipt_content
    from kiosk.documents.ticket import TicketError, TicketProblem, print_ticket

    try:
        content = receipt_content(job.facts, job.pharmacy, job.now)
        print_ticket(content, job.printer, job.io_timeout, job.spool / ESCPOS_CACHE)
        _emit(out, {"ticket": True})
    except TicketError as exc:
        _emit(out, {"ticket_error": exc.problem.value, "detail": exc.detail})
    except Exception as exc:  # noqa: BLE001 - reported by type to the parent
        _emit(out, {"ticket_error": TicketProblem.FAILED.value, "detail": type(exc).__name__})


def main() -> int:
    os.umask(0o077)  # whatever this process creates may hold the password
    try:
        job = Job.from_json(sys.stdin.read())
    except JobError as exc:
        print(f"render: {exc}", file=sys.stderr)
        return 2
    run(job, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
