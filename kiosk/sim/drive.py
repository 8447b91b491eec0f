"""``kiosk run --autopilot``: the device's own kiosk, driven through its real widgets by a
plan, then a JSON summary. Refused unless the config's DMP endpoint is a loopback sandbox
(a test plan must never type the pharmacist code and the CPS PIN on a real kiosk)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from kiosk.appliance.device import DeviceKiosk, RunOptions
from kiosk.appliance.observer import KioskObserver
from kiosk.config import Config, loopback_host
from kiosk.sim.plan import AutopilotError, Plan
from kiosk.sim.sandbox.pki import TEST_CA_NAME

DEFAULT_SHOTS = Path("out/shots")
HEADLESS_SIZE = (800, 480)
Watchers = Callable[[DeviceKiosk], Iterable[KioskObserver]]


def check_drivable(config: Config) -> None:
    """A plan drives only a kiosk whose DMP is our sandbox on this machine: the endpoint
    is a loopback address and the CA it trusts is the sandbox's test CA."""
    host, loopback = loopback_host(config.dmp.endpoint)
    if not loopback:
        raise AutopilotError(
            f"--autopilot drives only a kiosk whose [dmp] endpoint is a loopback sandbox, "
            f"not {host or config.dmp.endpoint!r}"
        )
    if _ca_name(Path(config.dmp.ca)) != TEST_CA_NAME:
        raise AutopilotError(
            "--autopilot drives only a kiosk that trusts the sandbox's test CA ([dmp] ca)"
        )


def _ca_name(path: Path) -> str | None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


def run_watched(config: Config, size: tuple[int, int] | None, watchers: Watchers) -> None:
    """The device's kiosk with ``watchers`` attached, until its window closes."""
    from kiosk.ui.kivy_setup import configure_kivy

    configure_kivy(size)
    kiosk = DeviceKiosk(config, RunOptions(size=size))
    for observer in watchers(kiosk):
        kiosk.watch(observer)
    kiosk.run()


def run_autopilot(
    config: Config,
    plan: Plan,
    shots: Path,
    *,
    size: tuple[int, int] | None = None,
    cps_pin: str | None = None,
    more: Watchers = lambda _kiosk: (),
) -> dict[str, Any]:
    """Tap through one journey; headless, under our own Xvfb. The pharmacist types
    ``cps_pin`` (else the plan's ``cps_pin``) when the CPS asks for it."""
    from kiosk.sim.pharmacist import PharmacistTypesPin
    from kiosk.sim.xvfb import ensure_display

    xvfb = ensure_display()  # before anything imports Kivy's Window, which opens it there
    result: dict[str, Any] = {}

    def watchers(kiosk: DeviceKiosk) -> Iterable[KioskObserver]:
        from kiosk.sim.autopilot import Autopilot  # Kivy's Window: once configured

        def done(summary: dict[str, Any]) -> None:
            result.update(summary)
            kiosk.app.stop()

        yield Autopilot(plan, shots, done)
        pin = cps_pin or plan.cps_pin
        if pin:
            yield PharmacistTypesPin(kiosk, pin)
        yield from more(kiosk)

    try:
        run_watched(config, size or (HEADLESS_SIZE if xvfb is not None else None), watchers)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    result["ledger_entry"] = last_entry(config)
    return result


def last_entry(config: Config) -> dict[str, Any] | None:
    """The last act entry, without any patient key (the autopilot's summary)."""
    path = Path(config.ledger.path)
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT seq, act_code, status, amount_cents, hash FROM entries"
            " WHERE kind = 'act' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    seq, act_code, status, amount, digest = row
    return {"seq": seq, "act_code": act_code, "status": status, "amount_cents": amount,
            "hash": digest}  # fmt: skip
