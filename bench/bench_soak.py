"""Soak: thousands of consecutive headless journeys with random outcomes against the DMP
sandbox; the kiosk process's resident memory, descriptors and threads must stay flat,
the ledger verify and agree with the sandbox.

This process is the kiosk (``Journey`` + ``Services`` as ``kiosk run`` wires them, a real
ledger file, the DMP client over mutual TLS, the receipt printer's child); the sandbox
runs in a child process whose faults are set before every journey; with ``--cards
pcsc`` or ``insert`` an emulated card in another child goes through pcscd and vpcd (run
under ``flock /tmp/borne-pcsc.lock``). The engine is tests/resilience/soak_run.py, which
the CI's short soak (tests/resilience/test_soak.py) runs too.

Journeys: 30 % created (a third with web access, some for a child through the holder),
8 % a DMP another structure opened, 7 % a returning patient whose DMP this kiosk opened,
10 % a closed DMP reactivated, 12 % refused, 5 % the card pulled on the consent screen,
28 % a service fault (tests/resilience/soak_plan.py FAULTS: identity, status, creation,
reactivation and web-access faults, lost and late answers, an uncertain creation).

Slopes are least-squares over the samples taken after the warm-up, per 1,000 journeys.
Prints one JSON object (progress on stderr unless ``--json``).

Usage: python bench/bench_soak.py [--journeys N] [--seed S] [--cards profile|pcsc|insert]
       [--receipts-every N] [--workdir DIR] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.resilience.soak_cards import MODES  # noqa: E402
from tests.resilience.soak_run import SoakOptions, run_soak  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cards", choices=MODES, default="pcsc")
    parser.add_argument(
        "--receipts-every", type=int, default=10, help="a receipt child every Nth accusé (0: none)"
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=None, help="journeys left out of slopes")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="a new directory to keep (logs, journal, state)"
    )
    parser.add_argument("--json", action="store_true", help="only the JSON object, no progress")
    args = parser.parse_args(argv)
    if args.journeys < 1 or args.samples < 2 or args.receipts_every < 0:
        parser.error("--journeys must be >= 1, --samples >= 2 and --receipts-every >= 0")

    def progress(line: str) -> None:
        print(f"soak: {line}", file=sys.stderr, flush=True)

    began = time.monotonic()
    result = run_soak(
        SoakOptions(
            journeys=args.journeys,
            seed=args.seed,
            cards=args.cards,
            receipts_every=args.receipts_every,
            samples=args.samples,
            warm_up=args.warm_up,
            workdir=args.workdir,
            progress=None if args.json else progress,
        )
    )
    result["cpu_count"] = os.cpu_count()
    result["wall_s"] = round(time.monotonic() - began, 1)
    result["utc"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps(result))
    ok = result["ledger_verify"]["ok"] and result["agreement"]["agree"] and not result["stuck"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
