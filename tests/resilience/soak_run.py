"""The soak: consecutive headless journeys through the kiosk's real core, measured.

This process is the kiosk: ``Journey`` + ``Services`` wired as ``kiosk run`` wires them
(``kiosk.appliance.wiring``: the ledger file, the DMP client with its VIHF trace, the
receipt printer's child, the ledger-room check, the pharmacist-code gate), with the CPS
as read once at start-up. The DMP sandbox runs in another process
(:mod:`tests.resilience.soak_sandbox`) whose faults this one sets before every journey;
the card comes as :mod:`tests.resilience.soak_cards` says. Between journeys, at quiet
moments (the journey's worker and the receipt idle, after a journey without a fault, so
the one kept-alive TLS connection is there), it samples its own resident memory,
descriptors and threads.

At the end: start-up recovery (``Journey.recover``, what the next start would do), then
``verify`` and the agreement of ledger and sandbox (:mod:`tests.resilience.soak_agreement`).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.appliance import wiring
from kiosk.config import load_config
from kiosk.core.code_gate import CodeGate
from kiosk.core.journey import Journey, Services
from kiosk.core.lazy import Lazy
from kiosk.core.pharmacist_code import hash_code, hashed_code_checker
from kiosk.dmp.traits import practitioner_from_cps, traits_from_vitale
from kiosk.dmp.transport import HttpsTransport
from kiosk.documents.facts import ReceiptFacts
from kiosk.documents.printing import ReceiptPrinter
from kiosk.hardware.cards import cps_from_profile, read_profile, vitale_from_profile
from kiosk.logs import setup_logging
from kiosk.sim.data import DEMO_CPS
from kiosk.sim.sandbox.server import derived_ins
from tests.resilience.soak_agreement import agreement
from tests.resilience.soak_cards import cards_for
from tests.resilience.soak_child import JsonChild
from tests.resilience.soak_figures import Sample, figures, sample
from tests.resilience.soak_journeys import Driver
from tests.resilience.soak_plan import CODE, Planner, patient_profile


@dataclass(frozen=True)
class SoakOptions:
    journeys: int = 5000
    seed: int = 1
    cards: str = "profile"  # soak_cards.MODES
    receipts_every: int = 10  # the receipt's child for every Nth accusé (0: none)
    deadline: float = 1.0  # the DMP client's, seconds (a timeout fault costs it)
    fault_delay: float = 1.5  # how long the sandbox stalls on a timeout fault
    samples: int = 200  # about this many, evenly spread
    warm_up: int | None = None  # journeys left out of the slopes (default: a tenth, >= 50)
    workdir: Path | None = None  # kept afterwards (config, kiosk.log, journal, state)
    progress: Callable[[str], None] | None = None


def _config_text(dmp_section: str, deadline: float) -> str:
    """The site's config: its ledger (and the code gate's state) in ``../state``."""
    return (
        f"{dmp_section}deadline = {deadline}\n\n"
        '[ledger]\npath = "../state/ledger.db"\nkiosk_id = "kiosk-soak"\n\n'
        f'[kiosk]\nspool = "spool"\npharmacist_code_hash = "{hash_code(CODE)}"\n'
    )


class _Receipts:
    """The receipt printer's background job for every ``every``-th accusé (a child
    process each, ~0.5 s of CPU: all of them would double the soak's time); only the
    last job is kept, to wait for it before a sample."""

    def __init__(self, printer: ReceiptPrinter | None, every: int) -> None:
        self.printer = printer
        self.every = every
        self.last: Future[Any] | None = None
        self.accuses = 0
        self.printed = 0

    def __call__(self, facts: ReceiptFacts) -> None:
        self.accuses += 1
        if self.printer is not None and self.accuses % self.every == 0:
            self.printed += 1
            self.last = self.printer.submit(facts)

    def wait(self) -> None:
        if self.last is not None:
            self.last.result(timeout=60)

    def close(self) -> None:
        if self.printer is not None:
            self.printer.close()


def run_soak(options: SoakOptions) -> dict[str, Any]:
    if options.workdir is not None:
        options.workdir.mkdir(parents=True)  # a fresh one: the ledger must start empty
        return _run(options, options.workdir)
    with tempfile.TemporaryDirectory(prefix="borne-soak-") as tmp:
        return _run(options, Path(tmp))


def _run(options: SoakOptions, tmp: Path) -> dict[str, Any]:
    say = options.progress or (lambda _line: None)
    site, state = tmp / "site", tmp / "state"  # the config and logs; the kiosk's state
    site.mkdir()
    sandbox = JsonChild(
        "tests.resilience.soak_sandbox", str(tmp / "sandbox"), str(options.fault_delay),
        timeout=60,
    )  # fmt: skip
    log_file = (site / "kiosk.log").open("w", encoding="utf-8")
    cards = None
    try:
        ready = sandbox.read()
        config_path = site / "kiosk.toml"
        config_path.write_text(_config_text(ready["dmp_section"], options.deadline), "utf-8")
        config = load_config(config_path)
        setup_logging(logging.INFO, log_file)
        cps, _pin = cps_from_profile(read_profile(DEMO_CPS))
        practitioner = practitioner_from_cps(cps)
        ledger = Lazy(lambda: wiring.open_ledger(config))
        client = Lazy(lambda: wiring.dmp_client(config))
        every = options.receipts_every
        receipts = _Receipts(wiring.receipt_printer(config) if every else None, every)
        gate = CodeGate(hashed_code_checker(config.kiosk.pharmacist_code_hash, state), state)
        cards = cards_for(options.cards, config)
        services = Services(
            read_vitale=cards.read_vitale,
            client=client,
            ledger=ledger,
            practitioner=lambda: practitioner,
            rpps=lambda: cps.rpps,
            check_code=gate.try_code,
            print_receipt=receipts,
            ledger_room=wiring.ledger_room(ledger),
        )
        driver = Driver(cards)
        journey = Journey(services, on_change=driver.on_change, on_finished=driver.on_finished)
        driver.journey = journey
        journey.warm_up()
        journey.wait_idle(60)
        cards.start(journey)
        result = _journeys(options, sandbox, driver, receipts, site / "journal.jsonl", say)
        sandbox.ask("faults", faults={})
        result["recovered_at_restart"] = journey.recover()
        receipts.wait()
        verdict = ledger().verify()
        result["ledger_verify"] = {"ok": verdict.ok, "entries": verdict.entries,
                                   "message": verdict.message}  # fmt: skip
        acts = ledger().read(lambda conn: conn.execute(
            "SELECT act_code, status, amount_cents, duplicate_of, patient_key FROM acts"
        ).fetchall())  # fmt: skip
        journal = [json.loads(line) for line in (site / "journal.jsonl").read_text().splitlines()]
        result["agreement"] = agreement(
            acts, sandbox.ask("list")["dmps"], ledger().keys.patient_key, cps.rpps,
            config.dmp.structure_id, journal,
        )  # fmt: skip
        result["receipts"] = {"accuses": receipts.accuses, "printed": receipts.printed,
                              "every": every}  # fmt: skip
        journey.close()
        receipts.close()
        ledger().close()
        return result
    finally:
        if cards is not None:
            cards.close()
        sandbox.close()
        logging.getLogger().handlers.clear()
        sys.excepthook, threading.excepthook = sys.__excepthook__, threading.__excepthook__
        log_file.close()


def _journeys(
    options: SoakOptions,
    sandbox: JsonChild,
    driver: Driver,
    receipts: _Receipts,
    journal_path: Path,
    say: Callable[[str], None],
) -> dict[str, Any]:
    journey = driver.journey
    keys = journey.services.ledger().keys
    planner = Planner(options.seed)
    every = max(1, options.journeys // options.samples)
    warm_up = options.warm_up if options.warm_up is not None else max(50, options.journeys // 10)
    samples: list[Sample] = [sample(0)]
    outcomes: Counter[str] = Counter()
    stuck_on: Counter[str] = Counter()
    stuck, due = 0, every
    began = time.monotonic()
    with journal_path.open("w", encoding="utf-8") as journal:
        for number in range(options.journeys):
            plan = planner.next(number)
            profile = patient_profile(options.seed, plan.patient, plan.child)
            card = vitale_from_profile(profile)
            ins = derived_ins(traits_from_vitale(card, 1 if plan.child else 0))
            if plan.seed:
                sandbox.ask("seed", entries=[{"ins": ins, "status": plan.seed}])
            sandbox.ask("faults", faults=plan.faults)
            outcome = driver.run(plan, profile)
            stuck += outcome is None
            if driver.stuck_on:
                stuck_on[f"{plan.label}: {driver.stuck_on}"] += 1
            if outcome is not None:
                planner.done(plan, outcome)
            outcomes[str(outcome)] += 1
            journal.write(json.dumps({
                "n": number, "label": plan.label, "kind": plan.kind, "seed": plan.seed,
                "expected": str(plan.expected), "outcome": str(outcome),
                "key": keys.patient_key(ins), "stuck_on": driver.stuck_on,
            }) + "\n")  # fmt: skip
            done = number + 1
            if (done >= due and not plan.faults) or done == options.journeys:
                receipts.wait()
                # the DMP client's idle kept-alive connection (at most MAX_IDLE, reused by
                # the next call) is open after a journey without faults and closed after
                # most with: closed before each sample, so the last, taken whatever the
                # last journey was, counts the same descriptors as the others
                transport = journey.services.client().transport
                assert isinstance(transport, HttpsTransport)  # the real one, over TLS
                transport.close()
                samples.append(sample(done))
                due = done + every
            if done % max(1, options.journeys // 20) == 0:
                s = samples[-1]
                say(
                    f"{done}/{options.journeys} journeys, {done / (time.monotonic() - began):.1f}"
                    f"/s, rss {s.rss_kib / 1024:.1f} MiB, fds {s.fds}, threads {s.threads}"
                )
    elapsed = time.monotonic() - began
    return {
        "bench": "soak",
        "journeys": options.journeys,
        "seed": options.seed,
        "cards": options.cards,
        "deadline_s": options.deadline,
        "journeys_per_s": round(options.journeys / elapsed, 2),
        "journeys_s": round(elapsed, 1),
        "outcomes": dict(sorted(outcomes.items())),
        "stuck": stuck,
        "stuck_on": dict(stuck_on),
        "process": figures(samples, warm_up),
        "samples_columns": ["journeys", "rss_kib", "fds", "threads", "sqlite_kib"],
        "samples": [[s.journeys, s.rss_kib, s.fds, s.threads, s.sqlite_kib] for s in samples],
    }
