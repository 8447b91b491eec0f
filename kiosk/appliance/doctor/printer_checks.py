"""``printer``: the ESC/POS ticket printer of ``[printer]``, reached as the receipt child
would: ``none`` needs nothing (receipts are spooled as PDF only), ``network`` a TCP
connection to host:port within ``CONNECT_TIMEOUT`` (nothing is sent), ``usb`` a device with
its idVendor/idProduct under ``/sys/bus/usb/devices``, ``serial`` and ``file`` a device
node that exists and is writable by the service user (:mod:`.access`: doctor runs as root,
who may write any device; judged for the caller only when that user does not exist)."""

from __future__ import annotations

import pwd
import socket
import time
from pathlib import Path

from kiosk.appliance.doctor.access import WRITE, denied, name_of_group, service_user
from kiosk.appliance.doctor.report import Check, Name, Run, fail, ok, skipped
from kiosk.config import PrinterConfig

CONNECT_TIMEOUT = 1.0
USB_DEVICES = Path("/sys/bus/usb/devices")
NAMES = (Name.PRINTER,)
POWER_FIX = "switch the printer on, check its cable and paper"


def probe(run: Run) -> list[Check]:
    if run.config is None:
        return [skipped(Name.PRINTER, Name.CONFIG, "no usable config")]
    return [printer_check(run.config.printer, user=service_user())]


def printer_check(
    printer: PrinterConfig,
    usb_devices: Path = USB_DEVICES,
    user: pwd.struct_passwd | None = None,
) -> Check:
    """``user``: who must be able to write the device (None: the caller)."""
    if printer.kind == "none":
        return ok(Name.PRINTER, "no ticket printer ([printer] kind = none): receipts PDF only")
    if printer.kind == "network":
        return _network(printer.host, printer.port)
    if printer.kind == "usb":
        return _usb(printer.usb_vendor, printer.usb_product, usb_devices)
    return _device(Path(printer.device), printer.kind, user)


def _network(host: str, port: int) -> Check:
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            ms = (time.perf_counter() - started) * 1000
    except OSError as exc:
        return fail(
            Name.PRINTER,
            f"network printer {host}:{port} unreachable ({exc})",
            f"{POWER_FIX}; print its self-test page to read its address and set it"
            " in [printer] host",
        )
    return ok(Name.PRINTER, f"network printer {host}:{port} answers ({ms:.0f} ms to connect)")


def _read_id(path: Path) -> int | None:
    try:
        return int(path.read_text().strip(), 16)
    except (OSError, ValueError):
        return None


def _usb(vendor: int, product: int, devices: Path) -> Check:
    wanted = f"{vendor:04x}:{product:04x}"
    try:
        found = [
            d.name
            for d in devices.iterdir()
            if _read_id(d / "idVendor") == vendor and _read_id(d / "idProduct") == product
        ]
    except OSError:
        found = []
    if not found:
        return fail(
            Name.PRINTER,
            f"USB printer {wanted} is not connected",
            f"{POWER_FIX}; `lsusb` must list {wanted} ([printer] usb_vendor, usb_product)",
        )
    return ok(Name.PRINTER, f"USB printer {wanted} connected ({devices}/{found[0]})")


def _device(device: Path, kind: str, user: pwd.struct_passwd | None) -> Check:
    if not device.exists():
        return fail(
            Name.PRINTER,
            f"{kind} printer {device}: no such device",
            f"{POWER_FIX}; check [printer] device (`ls -l {device.parent}`)",
        )
    refused = denied(device, user, WRITE)
    if refused is not None:
        who = user.pw_name if user is not None else "the kiosk user"
        try:
            group = name_of_group(device.stat().st_gid)
        except OSError:
            group = "lp, dialout"
        return fail(
            Name.PRINTER,
            f"{kind} printer {refused}",
            f"put {who} in the device's group: `usermod -aG {group} {who}`, then"
            " `systemctl restart kiosk`",
        )
    return ok(Name.PRINTER, f"{kind} printer {device} present and writable")
