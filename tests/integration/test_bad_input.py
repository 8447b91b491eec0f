"""Every ``kiosk`` command fed bad files and arguments (issue 14, item 5): missing, empty,
binary, non-UTF-8, huge (5 MB of text, a 50 MB sparse file), deeply nested (100,000
``[``), wrongly typed, a directory for a file, another program's SQLite file for a
ledger, out-of-range ports and dates. Each is refused in exactly one line on stderr
(``kiosk: …``), with a non-zero exit, no traceback and within its timeout, and leaves
every file as it was (no file written, changed or created under the test's tree).

Every row stops before any card reader is asked (a config, a file or an argument is
refused first), so none needs pcscd. The rows run in parallel, as subprocesses; the
summary table (command × input → exit, first line) is printed, which ``pytest -rA``
shows (with ``-s``: as it runs).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from tests.conftest import CARDS, ROOT
from tests.resilience.tables import table

TIMEOUT = 20.0  # seconds a row may take before it counts as hung
NESTING = 100_000
HEADER = "date_paiement;reference;montant;periode_debut;periode_fin"
BAD_DATES = ("2026-02-30", "0000-01-01", "99999-01-01", "yesterday")
BAD_PORTS = ("0", "70000", "-1", "abc")


@dataclass(frozen=True)
class Row:
    command: str  # e.g. "ledger report"
    given: str  # the bad input, e.g. "--config binary"
    args: tuple[str, ...]  # "{d}" stands for the inputs' directory
    stdin: str = ""


@dataclass(frozen=True)
class Outcome:
    row: Row
    code: int | None  # None: killed after TIMEOUT
    stderr: str
    seconds: float

    @property
    def first(self) -> str:
        lines = self.stderr.splitlines()
        return lines[0] if lines else ""

    def problem(self) -> str:
        """What is wrong with this outcome, "" when it is the one-line refusal wanted."""
        lines = self.stderr.splitlines()
        if self.code is None:
            return f"hung (killed after {TIMEOUT:.0f} s)"
        if "Traceback" in self.stderr or "unexpected error" in self.stderr:
            return "a traceback / unexpected error"
        if self.code == 0:
            return "exit 0"
        if len(lines) != 1:
            return f"{len(lines)} lines on stderr"
        if not lines[0].startswith("kiosk: "):
            return "the line does not start with 'kiosk: '"
        return ""


# --- the bad inputs ---------------------------------------------------------------------


def _vitale() -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (CARDS / "vitale-famille-martin.json").read_text(encoding="utf-8")
    )
    return data


def _write_inputs(d: Path) -> None:
    """The files every row picks from; a row never writes here (checked after)."""
    (d / "dir").mkdir()
    (d / "dir" / "sandbox.db").mkdir()  # `dmp list --data dir`: a directory for its db
    (d / "empty").write_bytes(b"")
    (d / "binary").write_bytes(bytes(range(256)) * 16 + b"\x00\xff\xfe" * 100)
    (d / "latin1").write_bytes('[ledger]\npath = "caf\xe9"\n# \xff\xfe\n'.encode("latin-1"))
    (d / "huge").write_text(("x" * 99 + "\n") * 50_000)  # 5 MB of text
    with (d / "sparse").open("wb") as handle:  # 50 MB of NULs, sparse
        handle.truncate(50 * 1024 * 1024)
    (d / "nested.json").write_text("[" * NESTING)
    (d / "nested.toml").write_text("a = " + "[" * NESTING)
    (d / "nested-closed.json").write_text("[" * NESTING + "]" * NESTING)
    (d / "list.json").write_text("[1, 2, 3]")  # a list for an object
    (d / "object.json").write_text('{"ins": "x"}')  # an object for a list
    vitale = _vitale()
    (d / "vitale-types.json").write_text(json.dumps({**vitale, "serial": 12, "beneficiaries": {}}))
    (d / "vitale-rank.json").write_text(
        json.dumps({**vitale, "beneficiaries": [{"birth_rank": "1"}]})
    )
    (d / "seed-types.json").write_text('[{"ins": 5, "status": "open"}]')
    (d / "seed-lists.json").write_text('[[1], {"ins": ["x"]}]')
    (d / "plan-types.json").write_text('{"beneficiary": "abc", "consent": "yes", "speech": 1}')
    (d / "plan-nested.json").write_text('{"mobile": {"a": [1, 2]}, "freeze_ui": 1e999}')
    (d / "config-types.toml").write_text(
        '[ledger]\npath = 5\n[dmp]\ndeadline = "abc"\n[printer]\nport = "9100"\n'
    )
    (d / "config-list.toml").write_text("dmp = [1, 2]\n[[ledger]]\npath = 'x'\n")
    for port in ("0", "70000", "-1"):
        (d / f"config-port{port}.toml").write_text(
            f'[printer]\nkind = "network"\nhost = "p"\nport = {port}\n'
        )
    (d / "config-portabc.toml").write_text(
        '[printer]\nkind = "network"\nhost = "p"\nport = "abc"\n'
    )
    (d / "config-date.toml").write_text("[kiosk]\npharmacy_name = 2026-02-30\n")
    (d / "config-date2.toml").write_text("[kiosk]\npharmacy_name = 0000-01-01\n")
    (d / "config-nan.toml").write_text("[dmp]\ndeadline = nan\n[kiosk]\nidle_warning = 1e999\n")
    # another program's SQLite file where a ledger is expected
    other = sqlite3.connect(d / "other.db")
    other.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    other.execute("INSERT INTO notes (body) VALUES ('not a ledger')")
    other.commit()
    other.close()
    # payment files: the CSV shape, wrong inside
    (d / "pay-types.csv").write_text(f"{HEADER}\n2026-04-15;R1;abc;2025-01-01;2025-01-31\n")
    (d / "pay-fields.csv").write_text(f"{HEADER}\n2026-04-15;R1\n")
    for n, day in enumerate(BAD_DATES):
        (d / f"pay-date{n}.csv").write_text(f"{HEADER}\n{day};R1;1,00;2025-01-01;2025-01-31\n")
    (d / "pay-huge.csv").write_text(
        HEADER + "\n" + ("2026-04-15;R;1,00;2025-01-01;2025-01-31\n" * 120_000)
    )
    # a real ledger with its keys, and a config naming it: where a bad CSV reaches
    state = d / "state"
    with Ledger(state / "ledger.db", load_or_create_keys(state, "kiosk-test")) as book:
        consent = ConsentRecord("v1", "ab" * 32, True, True, False, False, "fr", "10001234567")
        act = book.begin("DMP_OPEN", "10001234567", "299017500000001", consent)
        book.finish(act, "confirmed")
    (d / "ok.toml").write_text('[ledger]\npath = "state/ledger.db"\nkiosk_id = "kiosk-test"\n')
    # a ledger path whose config names a directory, garbage or another program's file
    for name in ("dir", "binary", "other.db", "empty", "sparse"):
        (d / f"ledger-{name}.toml").write_text(f'[ledger]\npath = "{name}"\n')


FILES = {  # label -> file name, for any file input
    "missing": "missing",
    "empty": "empty",
    "binary": "binary",
    "non-UTF-8": "latin1",
    "huge 5 MB": "huge",
    "sparse 50 MB": "sparse",
    "directory": "dir",
}
JSON_FILES = {  # huge: the 50 MB sparse file (the 5 MB text is the configs' and CSVs')
    **{label: name for label, name in FILES.items() if label != "huge 5 MB"},
    "nested": "nested.json",
    "list for object": "list.json",
}
CONFIGS = {
    **FILES,
    "nested": "nested.toml",
    "wrong types": "config-types.toml",
    "list for table": "config-list.toml",
    "nan/inf": "config-nan.toml",
    "date for text": "config-date.toml",
    "date 0000": "config-date2.toml",
    **{f"port {port}": f"config-port{port}.toml" for port in ("0", "70000", "-1", "abc")},
}
LEDGERS = {
    "missing": "missing.db",
    "directory": "dir",
    "garbage": "binary",
    "empty": "empty",
    "sparse 50 MB": "sparse",
    "other SQLite": "other.db",
}
CONFIG_COMMANDS = {  # command -> arguments that reach its config first
    "card read": ("card", "read"),
    "dmp status": ("dmp", "status"),
    "dmp create": ("dmp", "create", "--consent"),
    "ledger report": ("ledger", "report"),
    "ledger verify": ("ledger", "verify"),
    "ledger checkpoint": ("ledger", "checkpoint"),
    "ledger pending": ("ledger", "pending"),
    "ledger import-payments": ("ledger", "import-payments", "{d}/pay-types.csv"),
    "ledger export": ("ledger", "export", "--format", "csv", "--out", "{d}/out.csv"),
    "ledger reconcile": ("ledger", "reconcile"),
    "ledger trace": ("ledger", "trace"),
    "run": ("run",),
    "run --autopilot": ("run", "--autopilot", "{d}/plan-types.json"),
}
LEDGER_COMMANDS = {k: v for k, v in CONFIG_COMMANDS.items() if k.startswith("ledger")}
PROVISION = (
    "provision", "--pharmacy-name", "Pharmacie Test", "--finess", "750012345",
    "--kiosk-id", "kiosk-test", "--endpoint", "https://127.0.0.1:8443/x",
    "--out", "{d}/new/kiosk.toml", "--state-dir", "{d}/new/state",
)  # fmt: skip


CORE_CONFIGS = ("missing", "binary", "directory", "nested", "wrong types")


def _rows() -> Iterator[Row]:
    d = "{d}"
    martin = str(CARDS / "vitale-famille-martin.json")
    for command, args in CONFIG_COMMANDS.items():
        for label, name in CONFIGS.items():
            if command != "run" and label not in CORE_CONFIGS:
                continue  # the same loader: every bad config once, each command's catch once
            yield Row(command, f"--config {label}", (*args, "--config", f"{d}/{name}"))
    for command, args in LEDGER_COMMANDS.items():
        full = command in ("ledger report", "ledger checkpoint", "ledger import-payments")
        for label, name in LEDGERS.items():
            if full or label in ("directory", "garbage", "other SQLite"):
                yield Row(command, f"--ledger {label}", (*args, "--ledger", f"{d}/{name}"))
    for command in ("ledger report", "ledger checkpoint"):
        args = CONFIG_COMMANDS[command]
        yield Row(command, "[ledger] path directory", (*args, "--config", f"{d}/ledger-dir.toml"))
        yield Row(command, "[ledger] path SQLite", (*args, "--config", f"{d}/ledger-other.db.toml"))
    for n, day in enumerate(BAD_DATES):
        for command in ("report", "export", "trace"):
            if command != "report" and n % 2 != ("report", "export", "trace").index(command) % 2:
                continue
            extra = ("--format", "csv", "--out", f"{d}/out.csv") if command == "export" else ()
            option = ("--from", "--to")[n % 2]
            yield Row(
                f"ledger {command}", f"{option} {day}",
                ("ledger", command, *extra, option, day, "--config", f"{d}/ok.toml"),
            )  # fmt: skip
    for label, name in {
        **FILES, "nested": "nested.json", "wrong types": "pay-types.csv",
        "too few fields": "pay-fields.csv", "huge CSV, bad line": "pay-huge.csv",
        **{f"date {day}": f"pay-date{n}.csv" for n, day in enumerate(BAD_DATES)},
    }.items():  # fmt: skip
        yield Row(
            "ledger import-payments", f"CSV {label}",
            ("ledger", "import-payments", f"{d}/{name}", "--config", f"{d}/ok.toml"),
        )  # fmt: skip
    yield Row(
        "ledger verify", "--public-key garbage",
        ("ledger", "verify", "--public-key", f"{d}/binary", "--config", f"{d}/ok.toml"),
    )  # fmt: skip
    yield Row(
        "ledger verify", "--public-key directory",
        ("ledger", "verify", "--public-key", f"{d}/dir", "--config", f"{d}/ok.toml"),
    )  # fmt: skip
    yield Row(
        "ledger export", "--out directory",
        ("ledger", "export", "--format", "csv", "--out", f"{d}/dir", "--config", f"{d}/ok.toml"),
    )  # fmt: skip
    yield Row(
        "ledger export", "--format abc",
        ("ledger", "export", "--format", "abc", "--out", f"{d}/x", "--config", f"{d}/ok.toml"),
    )  # fmt: skip
    profiles = {
        **JSON_FILES, "wrong types": "vitale-types.json", "rank a string": "vitale-rank.json",
        "object for list": "object.json",
    }  # fmt: skip
    for n, (label, name) in enumerate(profiles.items()):
        yield Row("cards emulate", f"profile {label}", ("cards", "emulate", f"{d}/{name}"))
        yield Row("dmp status", f"--profile {label}", ("dmp", "status", "--profile", f"{d}/{name}"))
        if n % 3 == 0:  # the same reader as --profile: a few
            yield Row(
                "dmp status", f"--cps-profile {label}",
                ("dmp", "status", "--cps-profile", f"{d}/{name}", "--profile", martin),
            )  # fmt: skip
        if n % 3 == 1:
            yield Row(
                "dmp create",
                f"--profile {label}",
                ("dmp", "create", "--consent", "--profile", f"{d}/{name}"),
            )
    for port in BAD_PORTS:
        yield Row(
            "cards emulate",
            f"--vpcd-port {port}",
            ("cards", "emulate", martin, "--vpcd-port", port),
        )
    for port in ("65536", "70000", "-1", "abc"):  # 0 is "any free port" there
        yield Row(
            "dmp sandbox",
            f"--port {port}",
            ("dmp", "sandbox", "--data", f"{d}/sbx", "--port", port),
        )
    for reader in ("2", "abc"):
        yield Row(
            "cards emulate", f"--reader {reader}", ("cards", "emulate", martin, "--reader", reader)
        )
    seeds = {
        **JSON_FILES, "nested closed": "nested-closed.json", "object for list": "object.json",
        "wrong types": "seed-types.json", "lists for objects": "seed-lists.json",
    }  # fmt: skip
    for label, name in seeds.items():
        yield Row(
            "dmp sandbox", f"--seed {label}",
            ("dmp", "sandbox", "--data", f"{d}/sbx", "--port", "0", "--seed", f"{d}/{name}"),
        )  # fmt: skip
    for label, name in (("a file", "binary"), ("sparse file", "sparse")):
        yield Row(
            "dmp sandbox",
            f"--data {label}",
            ("dmp", "sandbox", "--data", f"{d}/{name}", "--port", "0"),
        )
    yield Row(
        "dmp sandbox",
        "--fault-delay -1",
        ("dmp", "sandbox", "--data", f"{d}/sbx", "--port", "0", "--fault-delay", "-1"),
    )
    yield Row(
        "dmp sandbox",
        "--fault garbage",
        ("dmp", "sandbox", "--data", f"{d}/sbx", "--fault", "\xe9=\xff"),
    )
    for label, name in {"missing": "missing", "a file": "binary", "directory db": "dir"}.items():
        yield Row("dmp list", f"--data {label}", ("dmp", "list", "--data", f"{d}/{name}"))
    yield Row(
        "dmp list", "sandbox.db garbage / other SQLite", ("dmp", "list", "--data", f"{d}/sbx-other")
    )
    plans = {
        **JSON_FILES, "wrong types": "plan-types.json", "nested values": "plan-nested.json",
    }  # fmt: skip
    for label, name in plans.items():
        yield Row(
            "run --autopilot", f"plan {label}",
            ("run", "--autopilot", f"{d}/{name}", "--config", f"{d}/ok.toml"),
        )  # fmt: skip
    yield Row(
        "run",
        "--shots a file",
        (
            "run",
            "--autopilot",
            f"{d}/plan-types.json",
            "--shots",
            f"{d}/binary",
            "--config",
            f"{d}/ok.toml",
        ),
    )
    for label, name in {"missing": "missing", "directory": "dir"}.items():
        yield Row("logs", f"--file {label}", ("logs", "--file", f"{d}/{name}"))
    for since in ("99999-01-01", "yesterday-ish", "\xe9"):  # journalctl reads 2026-02-30
        yield Row("logs", f"--since {since}", ("logs", "--since", since))
    for n, (label, name) in enumerate({**FILES, "nested": "nested.json"}.items()):
        if n % 2:
            yield Row(
                "provision",
                f"--sandbox with pharmacy.json {label}",
                (
                    *PROVISION[:1],
                    "--out",
                    f"{d}/new/kiosk.toml",
                    "--state-dir",
                    f"{d}/new/state",
                    "--sandbox",
                    f"{d}/sbx-{name}",
                ),
            )
            continue
        if n % 4 == 0:  # the CA is checked first: a p12 or a code file is reached after it
            yield Row(
                "provision", f"--ca {label}",
                (*PROVISION, "--ca", f"{d}/{name}", "--auth-cert", f"{d}/{name}",
                 "--auth-key", f"{d}/{name}", "--sign-cert", f"{d}/{name}",
                 "--sign-key", f"{d}/{name}", "--code-file", f"{d}/binary"),
            )  # fmt: skip
    yield Row("provision", "--sandbox a garbage ca.pem", (*PROVISION, "--sandbox", f"{d}/sbx-pki"))
    yield Row("provision", "--code-file directory", (*PROVISION, "--code-file", f"{d}/dir"))
    yield Row("provision", "--out a directory", (*PROVISION, "--out", f"{d}/dir"))
    yield Row("provision", "--state-dir a file", (*PROVISION, "--state-dir", f"{d}/binary"))
    yield Row("provision", "--finess abc", (*PROVISION, "--finess", "abc"))
    for port in ("70000", "abc"):
        yield Row(
            "provision",
            f"--endpoint port {port}",
            (*PROVISION, "--endpoint", f"https://127.0.0.1:{port}/x"),
        )
    yield Row("doctor", "--unknown-option", ("doctor", "--no-such-option"))
    yield Row("card read", "--timeout abc", ("card", "read", "--timeout", "abc"))
    yield Row(
        "dmp create",
        "--guardian garbage",
        ("dmp", "create", "--consent", "--guardian", "a:b:c", "--config", f"{d}/ok.toml"),
    )
    for day in BAD_DATES:
        yield Row(
            "dmp create",
            f"--guardian born {day}",
            (
                "dmp",
                "create",
                "--consent",
                "--guardian",
                f"MARTIN:Jeanne:mere:{day}",
                "--config",
                f"{d}/ok.toml",
            ),
        )
    yield Row("dmp status", "--beneficiary abc", ("dmp", "status", "--beneficiary", "abc"))
    yield Row(
        "dmp status",
        "--beneficiary 99",
        (
            "dmp",
            "status",
            "--beneficiary",
            "99",
            "--profile",
            martin,
            "--cps-profile",
            str(CARDS / "cps-dupont-titulaire.json"),
            "--config",
            f"{d}/ok.toml",
        ),
    )
    yield Row("kiosk", "no such command", ("no-such-command",))


ROWS = list(_rows())


def _sandbox_dirs(d: Path) -> None:
    """``--data`` / ``--sandbox`` directories that hold bad files."""
    other = d / "sbx-other"
    other.mkdir()
    (other / "sandbox.db").write_bytes((d / "other.db").read_bytes())
    pki = d / "sbx-pki"  # what provision --sandbox reads: a CA, a pharmacy
    pki.mkdir()
    (pki / "ca.pem").write_bytes(
        b"-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n"
    )
    (pki / "pharmacy.json").write_text('{"name": "Pharmacie Test", "finess": "750012345"}')
    for name in (*FILES.values(), "nested.json"):
        where = d / f"sbx-{name}"
        where.mkdir()
        (where / "ca.pem").write_bytes((pki / "ca.pem").read_bytes())
        source = d / name
        if source.is_dir():
            (where / "pharmacy.json").mkdir()
        elif source.exists():
            (where / "pharmacy.json").write_bytes(source.read_bytes())


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` and a digest of each file (a directory: "dir")."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_dir():
            found[str(path.relative_to(root))] = "dir"
        else:
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            found[str(path.relative_to(root))] = digest.hexdigest()
    return found


def _run(row: Row, d: Path, env: dict[str, str]) -> Outcome:
    args = [arg.replace("{d}", str(d)) for arg in row.args]
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kiosk.cli", *args],
            capture_output=True, input=row.stdin, text=True, errors="replace",
            timeout=TIMEOUT, env=env, cwd=d, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        return Outcome(row, None, stderr, time.monotonic() - started)
    return Outcome(row, done.returncode, done.stderr, time.monotonic() - started)


def _table(outcomes: list[Outcome]) -> str:
    width = max(len(o.row.command) for o in outcomes)
    given = max(len(o.row.given) for o in outcomes)
    lines = [f"{'command':{width}}  {'input':{given}}  exit  first line of stderr"]
    for o in outcomes:
        code = "hung" if o.code is None else str(o.code)
        mark = "  <-- " + o.problem() if o.problem() else ""
        lines.append(
            f"{o.row.command:{width}}  {o.row.given:{given}}  {code:>4}  {o.first[:150]}{mark}"
        )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad-input")
    _write_inputs(d)
    _sandbox_dirs(d)
    return d


def test_every_command_refuses_bad_input_in_one_line(inputs: Path) -> None:
    env = {
        **os.environ,
        "KIOSK_CONFIG": str(inputs / "ok.toml"),  # never /etc/kiosk, whatever the row
        "KIOSK_LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
        "DISPLAY": "",  # no row may open a window
    }
    before = _snapshot(inputs)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(4, (os.cpu_count() or 2) * 2)) as pool:
        outcomes = list(pool.map(lambda row: _run(row, inputs, env), ROWS))
    took = time.monotonic() - started
    after = _snapshot(inputs)
    print(f"\n{len(outcomes)} bad inputs in {took:.1f} s\n{_table(outcomes)}")
    summary = table(
        "bad_input", f"Bad input: {len(outcomes)} runs of every command, in {took:.0f} s",
        "command", "inputs tried", "refused in one line, non-zero exit", "problems",
    )  # fmt: skip
    for command in sorted({o.row.command for o in outcomes}):
        theirs = [o for o in outcomes if o.row.command == command]
        good = sum(not o.problem() for o in theirs)
        summary.add(command, len(theirs), good, len(theirs) - good)
    bad = [
        f"{o.row.command} {o.row.given}: {o.problem()}\n{o.stderr[-2000:]}"
        for o in outcomes
        if o.problem()
    ]
    assert not bad, f"{len(bad)} row(s) not refused in one line:\n" + "\n".join(bad)
    changed = sorted(set(before) ^ set(after) | {k for k in before if after.get(k) != before[k]})
    assert not changed, f"files written, changed or created: {changed}"
