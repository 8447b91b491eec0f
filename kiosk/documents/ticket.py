"""The receipt as an ESC/POS ticket (python-escpos): same text as the PDF, word-wrapped
to the printer's width (``ticket_layout``), in code page CP858 (PC858: every French
letter, and €), the QR code to Mon espace santé printed by the printer itself (GS ( k),
then a cut.

Runs in the renderer child (``kiosk.documents.render``), never in the kiosk process:
escpos pulls in Pillow, qrcode, python-barcode and PyYAML, so it is imported only inside
``print_ticket``. ``ticket_lines`` (the layout) is pure and imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.config import PrinterConfig
from kiosk.documents.content import ReceiptContent
from kiosk.documents.ticket_layout import TicketLine, ticket_lines

if TYPE_CHECKING:
    from escpos.escpos import Escpos

# The code page escpos selects (ESC t 19 on the default profile); its codec: ticket_layout.
CODEPAGE = "CP858"
QR_DOT = 6  # dots per QR module: a 29-module code is ~22 mm wide at 203 dpi
STATUS_WAIT = 0.5  # seconds a printer gets to answer the paper-status query


class TicketProblem(StrEnum):
    """Why no ticket came out; the kiosk turns these into a message for the pharmacist."""

    UNREACHABLE = "unreachable"  # off, unplugged, wrong address: nothing connected
    NO_PAPER = "no_paper"  # the printer said its paper sensor is empty
    INTERRUPTED = "interrupted"  # connected, then the link failed while sending
    DRIVER = "driver"  # pyusb/pyserial or libusb missing on this machine
    FAILED = "failed"  # anything else


class TicketError(Exception):
    def __init__(self, problem: TicketProblem, detail: str) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail  # an exception type name or a device address, no patient data


def _connect(config: PrinterConfig, io_timeout: float) -> Escpos:
    """Open the printer named by ``config``; TicketError when it cannot be reached."""
    from escpos import printer as escpos_printer
    from escpos.exceptions import DeviceNotFoundError

    device: Escpos
    where = config.kind
    if config.kind == "network":
        device = escpos_printer.Network(config.host, config.port, timeout=io_timeout)
        where = f"{config.host}:{config.port}"
    elif config.kind == "usb":
        device = escpos_printer.Usb(
            config.usb_vendor, config.usb_product, timeout=int(io_timeout * 1000)
        )
        where = f"usb {config.usb_vendor:04x}:{config.usb_product:04x}"
    elif config.kind == "serial":
        # the read timeout only bounds the status query: writes wait for the printer
        device = escpos_printer.Serial(config.device, timeout=STATUS_WAIT)
        where = config.device
    elif config.kind == "file":
        device = escpos_printer.File(config.device)
        where = config.device
    else:
        raise TicketError(TicketProblem.FAILED, f"no ticket printer of kind {config.kind!r}")
    if not device.is_usable():
        raise TicketError(TicketProblem.DRIVER, f"{config.kind} support is not installed")
    try:
        device.open()
    except DeviceNotFoundError:
        raise TicketError(TicketProblem.UNREACHABLE, where) from None
    except Exception as exc:  # noqa: BLE001 - e.g. usb.core.NoBackendError: no libusb
        problem = TicketProblem.DRIVER if "Backend" in type(exc).__name__ else TicketProblem.FAILED
        raise TicketError(problem, type(exc).__name__) from None
    return device


def _paper_out(device: Escpos, config: PrinterConfig, io_timeout: float) -> tuple[bool, bool]:
    """Ask the printer for its paper sensor (DLE EOT 4): (paper out, it answered). A
    printer that does not answer within STATUS_WAIT is assumed to have paper: not every
    model answers on every link."""
    from escpos.constants import RT_MASK_NOPAPER, RT_STATUS_PAPER

    if config.kind == "network":
        sock = device.device
        sock.settimeout(STATUS_WAIT)
        try:
            status: bytes = device.query_status(RT_STATUS_PAPER)
        except TimeoutError:
            return False, False
        finally:
            sock.settimeout(io_timeout)
    elif config.kind == "serial":  # reads time out after STATUS_WAIT (see _connect)
        status = device.query_status(RT_STATUS_PAPER)
    else:
        return False, False  # file: write-only; usb: some models stall on a read
    return bool(status) and status[0] & RT_MASK_NOPAPER == RT_MASK_NOPAPER, bool(status)


def _received(device: Escpos) -> bool:
    """After the cut, the status asked again: the printer answers once every byte before
    the question reached it. One that answered before the ticket and now does not (its
    link died, it was switched off) did not get the whole ticket: the sockets had taken
    the bytes, the printer had not."""
    from escpos.constants import RT_STATUS_PAPER

    try:
        return bool(device.query_status(RT_STATUS_PAPER))
    except TimeoutError:
        return False


def _send(device: Escpos, lines: list[TicketLine]) -> None:
    from escpos.constants import QR_ECLEVEL_M

    device.hw("INIT")  # ESC @: left-aligned, normal size, not bold
    device.charcode(CODEPAGE)
    center = bold = big = False
    for line in lines:  # a style command only where the style changes
        if line.center != center:
            center = line.center
            device.set(align="center" if center else "left")
        resized = line.big != big
        if resized:
            big = line.big
            if big:
                device.set(double_height=True)
            else:
                device.set(normal_textsize=True)
        if line.bold != bold or resized:  # ESC ! (the size) also resets ESC E (bold)
            bold = line.bold
            device.set(bold=bold)
        if line.qr:  # native: the printer draws it, aligned like the text (centered)
            device.qr(line.qr, ec=QR_ECLEVEL_M, size=QR_DOT, native=True)
        else:
            device.textln(line.text)
    device.cut()


def _quiet_escpos_import() -> None:
    """Import escpos without its import-time litter.

    ``escpos.capabilities`` calls ``mkdtemp()`` on every import (a new /tmp directory per
    receipt, never removed) and caches its parsed printer database as a pickle there. The
    pickle goes to ``ESCPOS_CAPABILITIES_PICKLE_DIR`` when set (``print_ticket`` sets it to
    a private cache); the stray ``mkdtemp()`` lands in a directory removed right after.
    """
    with tempfile.TemporaryDirectory(prefix="kiosk-escpos-") as scratch:
        saved = tempfile.tempdir
        tempfile.tempdir = scratch
        try:
            import escpos.printer  # noqa: F401
        finally:
            tempfile.tempdir = saved


def print_ticket(
    content: ReceiptContent,
    config: PrinterConfig,
    io_timeout: float = 5.0,
    cache: Path | None = None,
) -> None:
    """Print ``content`` on the ESC/POS printer ``config`` names, or raise TicketError.

    ``cache``: a private directory (0700) for escpos's parsed printer database; without
    one (or when it cannot be made) the database is parsed again, ~0.1 s slower.
    """
    if cache is not None:
        try:
            cache.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            cache = None  # the spool is broken: the ticket matters more than the cache
    if cache is not None:
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(cache)
    _quiet_escpos_import()
    device = _connect(config, io_timeout)
    try:
        try:
            paper_out, answers = _paper_out(device, config, io_timeout)
        except OSError:
            raise TicketError(TicketProblem.INTERRUPTED, "status query") from None
        if paper_out:
            raise TicketError(TicketProblem.NO_PAPER, config.kind)
        try:
            _send(device, ticket_lines(content, config.width))
            received = not answers or _received(device)
        except OSError as exc:
            raise TicketError(TicketProblem.INTERRUPTED, type(exc).__name__) from None
        except Exception as exc:  # noqa: BLE001 - whatever escpos raises: no ticket
            raise TicketError(TicketProblem.FAILED, type(exc).__name__) from None
        if not received:
            raise TicketError(TicketProblem.INTERRUPTED, "no status after the ticket")
    finally:
        with contextlib.suppress(Exception):  # a broken link cannot be closed cleanly
            device.close()
