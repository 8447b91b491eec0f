"""``kiosk doctor``: every check of a kiosk, ok/warn/fail with one line of why and one of
fix (:mod:`.report` for the checks' names and the run). It changes nothing: no file
written, no ledger or key created, no PIN try spent, and a running kiosk sees at most
one brief shared connection to its CPS. The probes run concurrently, each within its
deadline, so a healthy kiosk is checked in well under three seconds."""

from __future__ import annotations

from pathlib import Path

from kiosk.appliance.doctor import (
    card_checks,
    certificate_checks,
    config_checks,
    display_checks,
    endpoint_checks,
    ledger_checks,
    printer_checks,
    service_checks,
    storage_checks,
)
from kiosk.appliance.doctor.report import Check, Name, Probe, Run, Status, run_probes

__all__ = ["PROBES", "Check", "Name", "Status", "diagnose"]

PROBES = (
    Probe(card_checks.NAMES, card_checks.probe, 4.0, card_checks.STUCK),
    Probe(certificate_checks.NAMES, certificate_checks.probe, certificate_checks.DEADLINE),
    Probe(
        endpoint_checks.NAMES,
        endpoint_checks.probe,
        endpoint_checks.DEADLINE,
        "the network or the DMP service hangs: " + endpoint_checks.NETWORK_FIX,
    ),
    Probe(
        ledger_checks.NAMES,
        ledger_checks.probe,
        5.0,
        "the ledger is locked or very slow to read: check the storage (`dmesg`)",
    ),
    Probe(
        storage_checks.NAMES,
        storage_checks.probe,
        2.0,
        "the storage does not answer: check it (`dmesg`, `df -h`)",
    ),
    Probe(display_checks.NAMES, display_checks.probe, 1.0),
    Probe(printer_checks.NAMES, printer_checks.probe, 2.0),
    Probe(service_checks.NAMES, service_checks.probe, 3.0),
)


def diagnose(config: Path | None = None) -> list[Check]:
    """Every check, in :class:`Name` order (``config``: as ``kiosk --config``)."""
    loaded, config_check = config_checks.load(config)
    return run_probes(PROBES, Run(loaded), [config_check])
