"""Receipts through the real renderer child to real printer links: a loopback TCP printer
(raw port 9100), a file printer, a printer that never answers (a FIFO nobody reads), a
port nobody listens on; and renderers that crash or hang.

Every ticket is decoded from the bytes the printer received; every PDF is read back with
pdftotext. Nothing of escpos, fpdf2 or subprocess is mocked.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import KioskConfig, PrinterConfig
from kiosk.dmp.models import Guardian, WebAccess
from kiosk.documents.facts import ReceiptFacts
from kiosk.documents.printing import PrintResult, Problem, ReceiptPrinter
from kiosk.ui.i18n import render
from tests.integration.escpos_printer import (
    PAPER_STATUS_QUERY,
    LoopbackPrinter,
    Ticket,
    closed_port,
    decode,
)

ACCESS = WebAccess("P123456789", "s3cr3t-Pw_x-2026")
AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)  # 10:30 in Paris
PHARMACY = "Pharmacie de l'Église"
CUT = (b"\x1dV\x00", b"\x1dV\x01", b"\x1dVA\x00", b"\x1dVB\x00")
SELECT_CP858 = b"\x1bt\x13"  # ESC t 19: PC858
SPACE_URL = "https://www.monespacesante.fr"


def facts(
    outcome: str = "created", language: str = "fr", access: WebAccess | None = None
) -> ReceiptFacts:
    """Léa Martin's accusé, through her mother (her online access created with ``access``)."""
    return ReceiptFacts(outcome, language, "Léa", "MARTIN", "20150312",
                        Guardian("MARTIN", "Sophie", "mere"), "Claire DUPONT", centre15=False,
                        web_access_requested=access is not None, web_access=access)  # fmt: skip


def shown(result: PrintResult) -> str:
    """What the pharmacist reads about this receipt, in French ("": all went well)."""
    return " ".join(render(message, "fr") for message in result.messages())


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def child_zombies() -> list[int]:
    """This process's children that died and were not waited for."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_line = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat_line.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state == "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The renderer's TMPDIR: it must be left empty (escpos litters /tmp on import)."""
    scratch = tmp_path / "child-tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    yield scratch
    assert list(scratch.iterdir()) == [], "the renderer left files in its TMPDIR"


def network_printer(spool: Path, port: int, width: int = 42, **options: Any) -> ReceiptPrinter:
    return ReceiptPrinter(
        KioskConfig(pharmacy_name=PHARMACY, spool=str(spool)),
        PrinterConfig(kind="network", host="127.0.0.1", port=port, width=width),
        **options,
    )


def assert_ticket_shape(ticket: Ticket, width: int) -> None:
    assert ticket.commands[0] == b"\x1b@"  # initialised first
    assert [c for c in ticket.commands if c.startswith(b"\x1bt")] == [SELECT_CP858]
    # the paper is cut at the end (then, on a link that answers, the status asked again:
    # its answer says the printer got it all)
    commands = (
        ticket.commands[:-1] if ticket.commands[-1] == PAPER_STATUS_QUERY else ticket.commands
    )
    assert commands[-1] in CUT
    assert all(len(line) <= width for line in ticket.lines), ticket.lines


def test_network_ticket_with_web_access(spool: Path) -> None:
    with LoopbackPrinter() as printer:
        result = network_printer(spool, printer.port).print_receipt(facts(access=ACCESS), now=AT)
        data = printer.wait_job()
    assert result == PrintResult(pdf=result.pdf, ticket=True, ticket_wanted=True)
    assert result.ok
    assert shown(result) == ""
    assert printer.status_queries == 2  # before the ticket, and once it was all sent
    assert data.startswith(PAPER_STATUS_QUERY)
    ticket = decode(data[len(PAPER_STATUS_QUERY) :])
    assert_ticket_shape(ticket, 42)
    assert "Accusé de création de votre DMP" in ticket.lines
    for line in ("Pour : Léa MARTIN", "Date de naissance : 12/03/2015",
                 "Parent ou tuteur : Sophie MARTIN (mère)", "Date : 23/11/2026 à 10:30",
                 "Pharmacie : Pharmacie de l'Église", "Pharmacien·ne : Claire DUPONT",
                 "Accès en ligne demandé : oui", "Vos codes d'accès en ligne",
                 "Voir et gérer votre DMP"):  # fmt: skip
        assert line in ticket.lines
    assert "Ouverture en cas d'urgence (bris de\n  glace) : oui" in ticket.text
    assert "Lecture par le médecin du\n  SAMU-Centre 15 : non" in ticket.text
    # the QR code to Mon espace santé: printed by the printer, centred, after the text
    assert ticket.qr == [(ticket.lines.index("Mon espace santé"), SPACE_URL)]
    assert ticket.lines[-2:] == ["Mon espace santé", ""]
    assert b"\x1ba\x01\x1d(k" in data  # centred (ESC a 1) right before the code
    # the secrets on lines of their own, whole, after their labels
    lines = ticket.lines
    assert lines[lines.index("Identifiant / Identifier :") + 1] == "P123456789"
    assert "s3cr3t-Pw_x-2026" in lines
    assert lines.index("s3cr3t-Pw_x-2026") > lines.index("Identifiant / Identifier :") + 1
    assert "Gardez ce papier en lieu sûr. Vous" in ticket.text
    # accents went as CP858 bytes, not as UTF-8
    assert "é".encode("cp858") in data
    assert "é".encode() not in data
    # the secrets are on the patient's paper: no copy of them is left in the spool
    assert result.pdf is None
    assert list(spool.glob("*.pdf")) == []


def test_spooled_receipts_are_deleted_after_15_minutes(spool: Path) -> None:
    """Without a ticket printer the PDF waits for the spooler; not for ever (it may hold
    the web-access secrets)."""
    printer = ReceiptPrinter(KioskConfig(pharmacy_name="P", spool=str(spool)))
    result = printer.print_receipt(facts(access=ACCESS), now=AT)
    assert result.pdf is not None
    assert "s3cr3t-Pw_x-2026" in pdf_text(result.pdf)
    old = spool / "receipt-old.pdf"
    old.write_bytes(b"%PDF-1.4")
    os.utime(old, (time.time() - 16 * 60,) * 2)
    assert printer.purge() == 1
    assert not old.exists()
    assert result.pdf.exists()  # the fresh one stays for the spooler
    assert printer.purge(now=time.time() + 16 * 60) == 1
    assert not result.pdf.exists()


@pytest.mark.parametrize("width", [24, 32, 64])
def test_reactivation_ticket_without_web_access(spool: Path, width: int) -> None:
    with LoopbackPrinter() as printer:
        result = network_printer(spool, printer.port, width).print_receipt(
            facts("reactivated"), now=AT
        )
        ticket = decode(printer.wait_job()[len(PAPER_STATUS_QUERY) :])
    assert result.ok
    assert result.ticket
    assert_ticket_shape(ticket, width)
    assert "Réactivation" in ticket.text
    assert "Mot de passe" not in ticket.text
    assert "Identifiant" not in ticket.text
    assert "www.monespacesante.fr" in ticket.text.split()
    assert [url for _, url in ticket.qr] == [SPACE_URL]
    # printed: no copy of the patient's name and birth date is left in the spool
    assert result.pdf is None
    assert list(spool.glob("*.pdf")) == []


def test_english_ticket(spool: Path) -> None:
    with LoopbackPrinter() as printer:
        result = network_printer(spool, printer.port).print_receipt(
            facts("created", "en", ACCESS), now=AT
        )
        ticket = decode(printer.wait_job()[len(PAPER_STATUS_QUERY) :])
    assert result.ok
    assert "Your DMP has been opened" in ticket.lines
    assert "Your online access" in ticket.lines
    assert "Parent or guardian: Sophie MARTIN (mother)" in ticket.lines
    assert "Date: 23/11/2026 at 10:30" in ticket.lines
    assert "s3cr3t-Pw_x-2026" in ticket.lines


def test_printer_that_does_not_answer_status_still_prints(spool: Path) -> None:
    with LoopbackPrinter(silent=True) as printer:
        result = network_printer(spool, printer.port).print_receipt(facts())
        ticket = decode(printer.wait_job())
    assert result.ok
    assert result.ticket
    assert "Accusé de création de votre DMP" in ticket.lines


def test_printer_out_of_paper(spool: Path) -> None:
    with LoopbackPrinter(paper=False) as printer:
        result = network_printer(spool, printer.port).print_receipt(facts(access=ACCESS))
        data = printer.wait_job()
    assert data == PAPER_STATUS_QUERY  # asked, then nothing sent to a printer with no paper
    assert result.ticket is False
    assert result.problems == (Problem.TICKET_NO_PAPER,)
    assert shown(result)
    assert "sans papier" in shown(result)
    assert "PDF est enregistré" in shown(result)
    assert result.pdf is not None
    assert "s3cr3t-Pw_x-2026" in pdf_text(result.pdf)


def test_unreachable_printer_still_spools_the_pdf(
    spool: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port()
    caplog.set_level("DEBUG")
    result = network_printer(spool, port).print_receipt(facts(access=ACCESS))
    assert result.pdf is not None
    assert result.pdf.is_file()
    assert result.ticket is False
    assert result.ticket_wanted is True
    assert result.problems == (Problem.TICKET_UNREACHABLE,)
    assert shown(result)
    assert shown(result).startswith(f"Imprimante à tickets injoignable (127.0.0.1:{port})")
    assert f"ticket_unreachable (pdf {result.pdf.name}" in caplog.text
    assert "s3cr3t" not in caplog.text
    assert "P123456789" not in caplog.text


def test_file_printer(spool: Path, tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    printer = ReceiptPrinter(
        KioskConfig(pharmacy_name="Pharmacie des Œillets", spool=str(spool)),
        PrinterConfig(kind="file", device=str(device), width=32),
    )
    result = printer.print_receipt(facts(access=ACCESS), now=AT)
    assert result.ok
    assert result.ticket
    assert result.pdf is None  # the secrets are on the ticket: the PDF copy is gone
    assert stat.S_IMODE(device.stat().st_mode) == 0o600  # the renderer's files are private
    ticket = decode(device.read_bytes())  # write-only: no status query
    assert_ticket_shape(ticket, 32)
    assert "Pharmacie : Pharmacie des\n  OEillets" in ticket.text  # no Œ in CP858
    assert "s3cr3t-Pw_x-2026" in ticket.lines


def test_pdf_failure_does_not_stop_the_ticket(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "spool"
    not_a_dir.write_text("a file where the spool should be")
    device = tmp_path / "lp0"
    printer = ReceiptPrinter(
        KioskConfig(pharmacy_name=PHARMACY, spool=str(not_a_dir)),
        PrinterConfig(kind="file", device=str(device)),
    )
    result = printer.print_receipt(facts(access=ACCESS))
    assert result.pdf is None
    assert result.ticket is True
    assert result.problems == (Problem.PDF_FAILED,)
    assert shown(result)
    assert "PDF n'a pas pu être enregistré" in shown(result)
    assert "s3cr3t-Pw_x-2026" in decode(device.read_bytes()).lines


def test_hung_printer_is_killed_and_the_secret_never_on_the_command_line(
    spool: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)  # a device nobody reads: opening it for writing blocks, like a dead printer
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def spy(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = real_popen(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", spy)
    printer = ReceiptPrinter(
        KioskConfig(pharmacy_name=PHARMACY, spool=str(spool)),
        PrinterConfig(kind="file", device=str(fifo)),
        timeout=4,
    )
    results: list[PrintResult] = []
    worker = threading.Thread(
        target=lambda: results.append(printer.print_receipt(facts(access=ACCESS)))
    )
    begin = time.monotonic()
    worker.start()
    deadline = time.monotonic() + 3
    while not started and time.monotonic() < deadline:
        time.sleep(0.01)
    child = started[0]
    proc = Path("/proc") / str(child.pid)
    cmdline, environ = (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()
    assert b"render" in cmdline  # it is the renderer, seen while it runs
    assert b"s3cr3t" not in cmdline
    assert b"s3cr3t" not in environ
    assert b"P123456789" not in cmdline
    assert b"P123456789" not in environ
    worker.join(15)
    elapsed = time.monotonic() - begin
    (result,) = results
    assert 4 <= elapsed < 10
    assert child.returncode is not None
    assert child.returncode < 0
    assert child_zombies() == []
    assert result.pdf is not None
    assert result.pdf.is_file()
    assert result.ticket is False
    assert result.problems == (Problem.TICKET_TIMEOUT,)
    assert shown(result)
    assert f"ne répond pas ({fifo})" in shown(result)


def test_renderer_that_hangs_is_killed(spool: Path) -> None:
    printer = ReceiptPrinter(
        KioskConfig(pharmacy_name=PHARMACY, spool=str(spool)),
        timeout=1,
        command=[sys.executable, "-c", "import time; time.sleep(60)"],
    )
    begin = time.monotonic()
    result = printer.print_receipt(facts(access=ACCESS))
    assert time.monotonic() - begin < 5
    assert result.pdf is None
    assert result.problems == (Problem.TIMEOUT,)
    assert shown(result) == "L'impression du reçu a pris trop de temps et a été abandonnée."
    assert child_zombies() == []


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("import os, signal, sys; sys.stdin.read(); os.kill(os.getpid(), signal.SIGKILL)",
         Problem.CRASHED),
        ("import sys; sys.stdin.read(); sys.exit(3)", Problem.CRASHED),
        ("import sys; sys.stdin.read(); print('{\"pdf\": \"/etc/passwd\"}')",
         Problem.PDF_FAILED),  # a PDF that is not in our spool is not ours
        ("import sys; sys.stdin.read(); print('Traceback: s3cr3t-Pw_x-2026'); sys.exit(1)",
         Problem.CRASHED),
        ("import sys; sys.stdin.read(); raise ValueError('s3cr3t-Pw_x-2026')",
         Problem.CRASHED),
    ],
)  # fmt: skip
def test_renderer_that_crashes(
    spool: Path, script: str, problem: Problem, caplog: pytest.LogCaptureFixture
) -> None:
    printer = ReceiptPrinter(
        KioskConfig(pharmacy_name=PHARMACY, spool=str(spool)),
        command=[sys.executable, "-c", script],
    )
    caplog.set_level("DEBUG")
    result = printer.print_receipt(facts(access=ACCESS))
    assert result.pdf is None
    assert result.ticket is False
    assert result.problems == (problem,)
    assert "s3cr3t" not in caplog.text  # a renderer's output is parsed, never logged
    if "ValueError" in script:
        assert "receipt renderer died of ValueError" in caplog.text
    assert shown(result)
    assert "PDF est enregistré" not in shown(result)
    assert child_zombies() == []


def test_receipts_in_the_background_come_out_in_order(spool: Path) -> None:
    with LoopbackPrinter() as printer:
        receipts = network_printer(spool, printer.port)
        futures = [receipts.submit(facts(o)) for o in ("created", "reactivated")]
        results = [f.result(30) for f in futures]
        receipts.close()
        deadline = time.monotonic() + 5
        while len(printer.jobs) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert all(r.ok and r.ticket for r in results)
    titles = [decode(job[len(PAPER_STATUS_QUERY) :]).lines[0] for job in printer.jobs]
    assert titles == ["Accusé de création de votre DMP", "Réactivation de votre DMP"]


def test_journey_callback_prints_in_the_background(spool: Path) -> None:
    from kiosk.core.flow import Outcome

    done = threading.Event()
    results: list[PrintResult] = []

    def on_result(result: PrintResult) -> None:
        results.append(result)
        done.set()

    with LoopbackPrinter() as printer:
        receipts = network_printer(spool, printer.port)
        callback = receipts.journey_callback(on_result)
        begin = time.monotonic()
        callback(facts(Outcome.REACTIVATED, access=ACCESS))
        assert time.monotonic() - begin < 0.2  # the journey is not held while it prints
        assert done.wait(30)
        receipts.close()
        ticket = decode(printer.wait_job()[len(PAPER_STATUS_QUERY) :])
    (result,) = results
    assert result.ok
    assert result.ticket
    assert ticket.lines[0] == "Réactivation de votre DMP"
    assert "s3cr3t-Pw_x-2026" in ticket.lines
