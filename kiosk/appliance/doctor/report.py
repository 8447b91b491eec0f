"""What ``kiosk doctor`` reports: checks as data, and the run that makes them.

A :class:`Check` has a stable ``name`` (:class:`Name`), a typed ``status`` and two lines
of English for the technician: ``why`` (what was found) and ``fix`` (what to do). The
decision is the status, never the sentence. A probe is one function that makes one or
more checks; every probe runs on its own thread with its own deadline, so a hung reader
or a silent network costs that deadline, never the whole doctor. A probe that needs
another's result waits for it (:meth:`Run.wait`); a check that cannot run because
another failed is a ``warn`` naming that check (:func:`skipped`), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.config import Config

log = logging.getLogger(__name__)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


class Name(StrEnum):
    """The checks, in the order they are reported (docs: README, ``kiosk doctor``)."""

    CONFIG = "config"  # the config file parses, every problem named, required keys set
    PCSCD = "pcscd"  # a PC/SC context establishes
    READERS = "readers"  # readers present, the role each serves ([readers] pins, ATR)
    CARDS = "cards"  # which card sits in which reader
    CPS = "cps"  # the pharmacist's CPS: present, profession, validity, PIN state
    CERTIFICATE_CA = "certificate_ca"  # [dmp] ca: a CA certificate, dates
    CERTIFICATE_TLS = "certificate_tls"  # [dmp] auth_cert/auth_key: pair, CA, dates, usage
    CERTIFICATE_SIGNATURE = "certificate_signature"  # [dmp] sign_cert/sign_key: the same
    DMP_ENDPOINT = "dmp_endpoint"  # DNS, TCP, TLS with our certificate, a GET: latency
    CLOCK = "clock"  # local clock against the DMP server's Date; NTP when systemd runs
    LEDGER = "ledger"  # opens read-only, chain and checkpoints verify, checkpoint age
    LEDGER_UNRESOLVED = "ledger_unresolved"  # acts left pending or uncertain
    STATE_DIR = "state_dir"  # the ledger's directory and keys: owner, modes, writable
    SPOOL = "spool"  # the receipts' spool: owner, mode, writable
    DISK = "disk"  # free space on the ledger's file system
    DISPLAY = "display"  # KMS/DRM device, render node (GL), a display server
    PRINTER = "printer"  # the [printer] reachable
    SERVICE = "service"  # kiosk.service installed, enabled, running


@dataclass(frozen=True, slots=True)
class Check:
    name: Name
    status: Status
    why: str
    fix: str = ""
    seconds: float = 0.0  # how long its probe took (not in the JSON)

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "why": self.why, "fix": self.fix}


def ok(name: Name, why: str, fix: str = "") -> Check:
    return Check(name, Status.OK, why, fix)


def warn(name: Name, why: str, fix: str) -> Check:
    return Check(name, Status.WARN, why, fix)


def fail(name: Name, why: str, fix: str) -> Check:
    return Check(name, Status.FAIL, why, fix)


def skipped(name: Name, cause: Name, what: str) -> Check:
    """``name`` could not run because ``cause`` did not pass."""
    return warn(name, f"not checked: {what} (see {cause})", f"fix {cause} first")


def worst(statuses: Sequence[Status]) -> Status:
    if Status.FAIL in statuses:
        return Status.FAIL
    return Status.WARN if Status.WARN in statuses else Status.OK


@dataclass
class Run:
    """What every probe of one doctor run shares: the config (None when it could not be
    read), the moment of the run, and the checks made so far."""

    config: Config | None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    _done: dict[Name, Check] = field(default_factory=dict)
    _late: set[Name] = field(default_factory=set)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, checks: Sequence[Check], *, final: bool = False) -> None:
        """Make ``checks`` known (a probe may publish some before it ends). ``final``: a
        probe's own last word, which replaces what it published earlier (with its time),
        never the runner's verdict that it was late."""
        with self._changed:
            for check in checks:
                known = self._done.get(check.name)
                if known is None or (final and check.name not in self._late):
                    self._done[check.name] = check
            self._changed.notify_all()

    def late(self, checks: Sequence[Check]) -> None:
        """The runner's verdict on the checks of a probe past its deadline."""
        with self._changed:
            for check in checks:
                if check.name not in self._done:
                    self._late.add(check.name)
                    self._done[check.name] = check
            self._changed.notify_all()

    def wait(self, name: Name, timeout: float) -> Check | None:
        """The check ``name`` once made, None if it is not within ``timeout`` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: name in self._done, timeout)
            return self._done.get(name)

    def results(self) -> list[Check]:
        with self._changed:
            return [self._done[name] for name in Name if name in self._done]


@dataclass(frozen=True)
class Probe:
    """``run`` makes the checks ``names`` (in that order) within ``deadline`` seconds;
    ``stuck`` says what to do when it does not."""

    names: tuple[Name, ...]
    run: Callable[[Run], list[Check]]
    deadline: float
    stuck: str = "run `kiosk doctor` again; if it stays stuck, restart the device"


def run_probes(probes: Sequence[Probe], run: Run, given: Sequence[Check] = ()) -> list[Check]:
    """Every probe on its own daemon thread (a probe stuck in a system call cannot keep
    the doctor from ending); checks in :class:`Name` order."""
    run.publish(given)
    threads = []
    started = time.monotonic()
    for probe in probes:
        thread = threading.Thread(
            target=_run_probe, args=(probe, run), name=f"doctor-{probe.names[0]}", daemon=True
        )
        thread.start()
        threads.append((probe, thread))
    for probe, thread in threads:
        thread.join(max(0.0, started + probe.deadline - time.monotonic()))
        if thread.is_alive():
            late = f"did not finish within {probe.deadline:g} s"
            run.late(
                [replace(fail(n, late, probe.stuck), seconds=probe.deadline) for n in probe.names]
            )
    return run.results()


def _run_probe(probe: Probe, run: Run) -> None:
    started = time.monotonic()
    try:
        checks = probe.run(run)
    except Exception as exc:  # a doctor reports, it never crashes
        log.exception("doctor probe %s failed", probe.names[0])
        checks = [
            fail(
                name,
                f"the check itself failed ({type(exc).__name__}: {exc})",
                "report this to the kiosk's maintainers with `kiosk doctor --json`",
            )
            for name in probe.names
        ]
    elapsed = time.monotonic() - started
    made = {check.name for check in checks}
    missing = [
        fail(n, "the probe made no result", "report this to the kiosk's maintainers")
        for n in probe.names
        if n not in made
    ]
    run.publish([replace(check, seconds=elapsed) for check in [*checks, *missing]], final=True)
