"""Printing the receipt from the kiosk: the renderer child, what it is told and how, the
ticket's layout, and what the kiosk process does not load."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.appliance.wiring import receipt_printer
from kiosk.config import Config, KioskConfig, PrinterConfig
from kiosk.dmp.models import Guardian, WebAccess
from kiosk.documents.content import TITLES, receipt_content
from kiosk.documents.facts import ReceiptFacts
from kiosk.documents.printing import SPOOL_KEEP, PrintResult, Problem, ReceiptPrinter
from kiosk.documents.render import PROTOCOL, Job, JobError
from kiosk.documents.ticket_layout import TicketLine, printable, ticket_lines
from kiosk.ui.i18n import render

ACCESS = WebAccess("P123456789", "s3cr3t-Pw_x-2026")
AT = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)


def facts(
    outcome: str = "created", language: str = "fr", access: WebAccess | None = None
) -> ReceiptFacts:
    """Jeanne Zoé Martin's accusé (her online access created when ``access`` is given)."""
    return ReceiptFacts(outcome, language, "Jeanne Zoé", "MARTIN", "19800512",
                        pharmacist="Claire DUPONT", web_access_requested=access is not None,
                        web_access=access)  # fmt: skip


def shown(result: PrintResult) -> str:
    """What the pharmacist reads about this receipt, in French ("": all went well)."""
    return " ".join(render(message, "fr") for message in result.messages())


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


# -- the kiosk process stays light -----------------------------------------------------


def test_importing_the_printer_loads_no_pdf_or_escpos_library() -> None:
    probe = (
        "import sys, kiosk.documents.printing\n"
        "heavy = ('fpdf', 'escpos', 'PIL', 'kivy', 'fontTools', 'yaml', 'qrcode', 'barcode')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert out.strip() == "[]"


# -- the child: real process, real PDF --------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "en"])
def test_pdf_from_the_child_process(
    tmp_path: Path,
    language: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    launched: list[tuple[Any, dict[str, Any]]] = []
    real_popen = subprocess.Popen

    def spy(args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        launched.append((args, kwargs))
        process: subprocess.Popen[bytes] = real_popen(args, **kwargs)
        return process

    monkeypatch.setattr(subprocess, "Popen", spy)
    caplog.set_level("DEBUG")
    spool = tmp_path / "spool"
    printer = ReceiptPrinter(KioskConfig(pharmacy_name="Pharmacie du Marché", spool=str(spool)))
    result = printer.print_receipt(facts("created", language, ACCESS), now=AT)

    assert result == PrintResult(pdf=result.pdf, ticket=False, ticket_wanted=False)
    assert result.pdf is not None
    assert result.pdf.parent == spool
    assert stat.S_IMODE(result.pdf.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.stat().st_mode) == 0o700
    text = pdf_text(result.pdf)
    assert TITLES["created"][language] in text
    assert "Pharmacie du Marché" in text
    assert ("23/11/2026 à 10:30" if language == "fr" else "23/11/2026 at 10:30") in text
    assert "Jeanne Zoé MARTIN" in text
    assert "12/05/1980" in text
    assert "Claire DUPONT" in text
    assert "P123456789" in text
    assert "s3cr3t-Pw_x-2026" in text
    # the job went on stdin: not in argv, not in the environment
    (args, kwargs), *_ = launched
    assert args == [sys.executable, "-m", "kiosk.documents.render"]
    assert kwargs["stdin"] == subprocess.PIPE
    for private in ("s3cr3t", "Zoé", "MARTIN", "19800512"):
        assert private not in " ".join(args)
        assert not any(private in value for value in kwargs["env"].values())
    # logged: the file's name, never who it is for
    assert result.pdf.name in caplog.text
    for secret in ("s3cr3t", "P123456789", "Marché", "Zoé", "MARTIN", "1980", "DUPONT"):
        assert secret not in caplog.text


def test_reactivation_pdf_without_web_access(tmp_path: Path) -> None:
    printer = ReceiptPrinter.from_config(
        Config(kiosk=KioskConfig(pharmacy_name="Pharmacie", spool=str(tmp_path)))
    )
    result = printer.print_receipt(facts("reactivated"))
    assert result.ok
    assert result.pdf is not None
    text = pdf_text(result.pdf)
    assert "Réactivation de votre DMP" in text
    assert "Mot de passe" not in text
    assert "Identifiant" not in text


def test_no_partial_file_is_left_in_the_spool(tmp_path: Path) -> None:
    printer = ReceiptPrinter(KioskConfig(pharmacy_name="Pharmacie", spool=str(tmp_path)))
    result = printer.print_receipt(facts(access=ACCESS))
    assert [p.name for p in tmp_path.iterdir()] == [result.pdf.name if result.pdf else None]


def test_child_rejects_a_malformed_job_without_a_traceback() -> None:
    done = subprocess.run([sys.executable, "-m", "kiosk.documents.render"], input='{"x": 1}',
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == "render: unknown protocol"


# -- the job and the result -------------------------------------------------------------


@pytest.mark.parametrize(
    "receipt",
    [
        ReceiptFacts("created", "en", "Léa", "MARTIN", "20150300",
                     Guardian("MARTIN", "Sophie", "mere"), "Claire DUPONT", bris_de_glace=False,
                     centre15=False, web_access_requested=True, web_access=ACCESS,
                     patient_left=True),
        ReceiptFacts("reactivated", "fr", "Jean", "DURAND", "19500000"),
    ],
)  # fmt: skip
def test_job_round_trip_keeps_every_field(tmp_path: Path, receipt: ReceiptFacts) -> None:
    usb = PrinterConfig(kind="usb", usb_vendor=0x04B8, usb_product=0x0202, width=56)
    job = Job(tmp_path, receipt, "Pharmacie", AT, usb, 3.5)
    again = Job.from_json(job.to_json())
    assert again == job
    assert again.facts == receipt
    for private in ("s3cr3t", "Léa", "MARTIN", "2015", "Sophie"):
        assert private not in repr(job)


def good_job() -> dict[str, Any]:
    job: dict[str, Any] = json.loads(
        Job(Path("/s"), facts(), "P", AT, PrinterConfig(), 5).to_json()
    )
    return job


def spoiled(**changes: Any) -> str:
    job = good_job()
    for key, value in changes.items():
        if key in job:
            job[key] = value
        else:
            job["facts"][key] = value
    return json.dumps(job)


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        json.dumps({"protocol": PROTOCOL}),
        spoiled(protocol=1),  # the job of a kiosk before the accusé said who it is for
        spoiled(now="2026-11-23T09:30:00"),  # naive time
        spoiled(printer={"colour": "red"}),
        spoiled(facts=["created"]),
        spoiled(centre15="no"),  # a flag that is not a boolean
        spoiled(guardian={"last_name": "MARTIN"}),
        spoiled(web_access="P123456789"),
    ],
)
def test_malformed_jobs(text: str) -> None:
    assert Job.from_json(json.dumps(good_job())).facts == facts()  # the unspoiled one reads
    with pytest.raises(JobError):
        Job.from_json(text)


def test_printer_problems_read_in_french_with_the_printer_address(tmp_path: Path) -> None:
    printer = ReceiptPrinter(
        KioskConfig(spool=str(tmp_path)),
        PrinterConfig(kind="network", host="192.0.2.7", port=9100),
        command=[sys.executable, "-c",
                 "import sys; sys.stdin.read(); "
                 "print('{\"ticket_error\": \"unreachable\", \"detail\": \"x\"}')"],
    )  # fmt: skip
    result = printer.print_receipt(facts())
    # no PDF reported by this renderer, a ticket error: both said, nothing raised
    assert result.problems == (Problem.TICKET_UNREACHABLE, Problem.CRASHED)
    assert shown(result)
    assert shown(result).startswith("Imprimante à tickets injoignable (192.0.2.7:9100)")
    assert "PDF est enregistré" not in shown(result)


# -- the ticket's layout ----------------------------------------------------------------


@pytest.mark.parametrize("width", [24, 32, 42, 56, 64])
def test_ticket_lines_fit_the_paper(width: int) -> None:
    long_name = "Grande Pharmacie de la Place de l'Hôtel-de-Ville et des Quatre-Chemins"
    lines = ticket_lines(receipt_content(facts(access=ACCESS), long_name, AT), width)
    assert all(len(line.text) <= width for line in lines)
    texts = [line.text for line in lines]
    assert TicketLine("s3cr3t-Pw_x-2026", bold=True, big=True) in lines  # never split
    assert TicketLine("P123456789", bold=True, big=True) in lines
    assert " ".join(texts).count("Hôtel-de-Ville") == 1  # wrapped at spaces, not hyphens
    assert lines[0].center
    assert lines[0].bold
    assert lines[0].big


def test_ticket_without_access_has_no_secrets() -> None:
    lines = ticket_lines(receipt_content(facts(), "Pharmacie", AT), 42)
    assert not any(line.big and not line.center for line in lines)
    assert "Mot de passe" not in " ".join(line.text for line in lines)
    assert "Identifiant" not in " ".join(line.text for line in lines)


def test_printable_keeps_french_and_replaces_what_cp858_lacks() -> None:
    french = "àâäçéèêëîïôöùûüÿ ÀÂÇÉÈÊËÎÏÔÙÛÜ « » €"
    assert printable(french) == french
    assert printable("Cœur — l’été…") == "Coeur - l'été..."
    assert printable("Ŝ ✓") == "S ?"
    for sample in (french, "Cœur — l’été…", "Ŝ ✓ 日本"):
        printable(sample).encode("cp858")  # always encodable


def test_relative_spool_is_the_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    printer = ReceiptPrinter(KioskConfig(pharmacy_name="Pharmacie", spool="receipts"))
    result = printer.print_receipt(facts())
    assert result.ok
    assert result.pdf is not None
    assert result.pdf.parent == tmp_path / "receipts"


def test_renderer_that_cannot_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    printer = ReceiptPrinter(
        KioskConfig(spool=str(tmp_path)), command=[str(tmp_path / "no-such-renderer")]
    )
    result = printer.print_receipt(facts(access=ACCESS))
    assert result.problems == (Problem.CRASHED,)
    assert result.pdf is None
    assert shown(result) == "Le programme d'impression du reçu s'est arrêté de façon inattendue."
    assert "receipt renderer could not start" in caplog.text


# -- the spool forgets the secrets (issue 12 item 13) -----------------------------------


def secret_receipt(spool: Path, age: float) -> Path:
    """A real receipt carrying ACCESS, spooled ``age`` seconds ago (kind = "none": the
    PDF is the only copy, nobody deletes it once printed)."""
    printer = ReceiptPrinter(KioskConfig(pharmacy_name="Pharmacie", spool=str(spool)),
                             purge_every=None)  # fmt: skip
    result = printer.print_receipt(facts(access=ACCESS))
    printer.close()
    assert result.pdf is not None
    assert ACCESS.password in pdf_text(result.pdf)
    then = time.time() - age
    os.utime(result.pdf, (then, then))
    return result.pdf


def test_an_old_secret_receipt_is_purged_when_the_kiosk_starts(tmp_path: Path) -> None:
    spool = tmp_path / "receipts"
    young = secret_receipt(spool, 60)  # still waiting for the spooler
    old = secret_receipt(spool, SPOOL_KEEP + 60)  # left by the kiosk's previous run
    leftover = spool / f".{old.name}.part"  # a renderer died writing it
    leftover.write_bytes(old.read_bytes())
    os.utime(leftover, (time.time() - SPOOL_KEEP - 60,) * 2)
    fresh_leftover = spool / f".{young.name}.part"  # a renderer killed with the kiosk
    fresh_leftover.write_bytes(young.read_bytes())
    config = Config(kiosk=KioskConfig(pharmacy_name="Pharmacie", spool=str(spool)))

    printer = receipt_printer(config)  # what DeviceKiosk builds at start-up
    try:
        assert not old.exists()
        assert not leftover.exists()
        assert not fresh_leftover.exists()  # no renderer runs yet: nobody will finish it
        assert young.exists()  # kept its quarter of an hour
    finally:
        printer.close()


def test_the_timer_purges_an_old_secret_receipt_without_any_new_receipt(tmp_path: Path) -> None:
    spool = tmp_path / "receipts"
    spool.mkdir(mode=0o700)
    timers_before = purge_timers()
    printer = ReceiptPrinter.from_config(
        Config(kiosk=KioskConfig(pharmacy_name="Pharmacie", spool=str(spool))), purge_every=0.05
    )
    try:
        pdf = secret_receipt(spool, 60)  # printed while the kiosk runs
        time.sleep(0.3)
        assert pdf.exists()  # not before its time
        then = time.time() - SPOOL_KEEP - 1  # its quarter of an hour is over
        os.utime(pdf, (then, then))
        deadline = time.monotonic() + 5
        while pdf.exists():
            assert time.monotonic() < deadline, "the timer did not purge the spool"
            time.sleep(0.02)
        assert list(spool.iterdir()) == []  # no receipt printed meanwhile
    finally:
        printer.close()
    assert purge_timers() <= timers_before  # close stopped the printer's timer


def purge_timers() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "spool-purge"}
