"""`kiosk ledger` as the pharmacist and the technician use it: the report's JSON
(docs/architecture.md §3) over a period, payment files imported once and refused whole
when malformed, verify and checkpoint, each failure one line on stderr."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kiosk.billing.chain import CONFIRMED, FAILED
from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.billing.ledger_verify import verify_file
from kiosk.billing.payments import parse_payments
from kiosk.billing.reports import report as build_report
from kiosk.billing.tariffs import DMP_OPEN, DMP_REACTIVATE, TariffSchedule
from tests.conftest import run_kiosk

RPPS_1, RPPS_2 = "10001234567", "10007654321"
PATIENTS = {
    name: f"2990175{n:08d}" for n, name in enumerate("ABCDEFGH", start=1)
}  # 15-character INS-like strings, never to be seen again
REPORT_FIELDS = {
    "openings", "reactivations", "already_existed", "refused", "failed", "pending",
    "amount_due_cents", "amount_paid_cents", "outstanding_cents", "by_month", "by_pharmacist",
}  # fmt: skip
HEADER = "date_paiement;reference;montant;periode_debut;periode_fin"
PAYMENTS = (
    f"\ufeff{HEADER}\n"
    "15/04/2026;ROSP-2025-01;1,00;01/01/2025;31/01/2025\n"
    "2026-04-15;ROSP-2025-02;2,00;2025-02-01;2025-02-28\n"
)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def journey(book: Ledger, code: str, rpps: str, patient: str, at: str, *outcomes: str) -> str:
    consent = ConsentRecord("v3", "cd" * 32, True, False, True, False, "fr", rpps)
    act_id = book.begin(code, rpps, PATIENTS[patient], consent, at=utc(at))
    for outcome in outcomes:
        book.finish(act_id, outcome, at=utc(at) + dt.timedelta(seconds=20))
    return act_id


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path]:
    """A ledger over January to March 2025 (Paris days), its keys, and a config naming it."""
    ledger = tmp_path / "state" / "ledger.db"
    tariffs = TariffSchedule().with_change(DMP_OPEN, dt.date(2025, 3, 1), 150)
    with Ledger(ledger, load_or_create_keys(ledger.parent, "kiosk-test"), tariffs) as book:
        journey(book, DMP_OPEN, RPPS_1, "A", "2025-01-30T23:30:00", CONFIRMED)  # Paris 31 Jan
        journey(book, DMP_OPEN, RPPS_2, "B", "2025-01-31T23:30:00", CONFIRMED)  # Paris 1 Feb
        journey(book, DMP_OPEN, RPPS_1, "C", "2025-02-10T09:00:00", CONFIRMED)
        journey(book, DMP_OPEN, RPPS_2, "A", "2025-02-10T10:00:00", CONFIRMED)  # duplicate
        journey(book, DMP_OPEN, RPPS_1, "D", "2025-02-10T11:00:00", FAILED)
        journey(book, DMP_OPEN, RPPS_1, "E", "2025-02-11T11:00:00", "already_existed")
        journey(book, DMP_OPEN, RPPS_2, "F", "2025-02-12T11:00:00", "uncertain")
        journey(book, DMP_REACTIVATE, RPPS_2, "G", "2025-02-13T11:00:00", CONFIRMED)
        journey(book, DMP_OPEN, RPPS_2, "H", "2025-03-05T11:00:00", CONFIRMED)  # 1,50 €
        refused = ConsentRecord("v3", "cd" * 32, False, False, False, False, "fr", RPPS_1)
        book.record_refusal(DMP_OPEN, RPPS_1, refused, at=utc("2025-02-14T08:00:00"))
    config = tmp_path / "kiosk.toml"
    config.write_text('[ledger]\npath = "state/ledger.db"\nkiosk_id = "kiosk-test"\n')
    return ledger, config


def kiosk_ok(*args: str) -> str:
    result = run_kiosk(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def kiosk_fails(*args: str) -> str:
    result = run_kiosk(*args)
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kiosk: ")
    return lines[0]


def report(ledger: Path, *args: str) -> dict[str, Any]:
    stdout = kiosk_ok("ledger", "report", "--ledger", str(ledger), "--json", *args)
    assert len(stdout.strip().splitlines()) == 1
    figures: dict[str, Any] = json.loads(stdout)
    return figures


def entry_count(ledger: Path) -> int:
    """What `kiosk ledger verify` says."""
    out = kiosk_ok("ledger", "verify", "--ledger", str(ledger))
    match = re.search(r"ledger intact: (\d+) entries", out)
    assert match, out
    return int(match.group(1))


def snapshot(ledger: Path) -> tuple[int, dict[str, Any]]:
    """Entry count and report, in process (cheaper than the CLI when it is not the subject)."""
    conn = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        verdict = verify_file(conn, None)
        assert verdict.ok, verdict.message
        return verdict.entries, build_report(conn)
    finally:
        conn.close()


def test_report_has_the_design_fields_and_figures(site: tuple[Path, Path]) -> None:
    figures = report(site[0])
    assert figures.keys() >= REPORT_FIELDS
    assert {k: figures[k] for k in REPORT_FIELDS - {"by_month", "by_pharmacist"}} == {
        "openings": 4, "reactivations": 1, "already_existed": 1, "refused": 1, "failed": 1,
        "pending": 1, "amount_due_cents": 450, "amount_paid_cents": 0, "outstanding_cents": 450,
    }  # fmt: skip
    assert figures["by_month"] == [
        {"month": "2025-01", "openings": 1, "amount_due_cents": 100},
        {"month": "2025-02", "openings": 2, "amount_due_cents": 200},
        {"month": "2025-03", "openings": 1, "amount_due_cents": 150},
    ]
    assert figures["by_pharmacist"] == [
        {"rpps": RPPS_1, "openings": 2},
        {"rpps": RPPS_2, "openings": 2},
    ]
    assert all(isinstance(figures[k], int) for k in REPORT_FIELDS - {"by_month", "by_pharmacist"})


def test_report_reads_the_configured_ledger(site: tuple[Path, Path]) -> None:
    stdout = kiosk_ok("ledger", "report", "--config", str(site[1]), "--json")
    assert json.loads(stdout)["openings"] == 4
    text = kiosk_ok("ledger", "report", "--config", str(site[1]))
    assert "4 openings" in text
    assert "due 4.50" in text


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2025-02-01", "2025-02-28",
         {"openings": 2, "reactivations": 1, "failed": 1, "already_existed": 1, "refused": 1,
          "pending": 1, "amount_due_cents": 200, "amount_paid_cents": 200,
          "outstanding_cents": 0, "months": ["2025-02"]}),
        ("2025-01-31", "2025-01-31",
         {"openings": 1, "amount_due_cents": 100, "amount_paid_cents": 0, "pending": 0,
          "months": ["2025-01"]}),
        ("2025-01-01", "2025-01-30",
         {"openings": 0, "amount_due_cents": 0, "months": [], "amount_paid_cents": 0}),
        ("2025-03-01", None,
         {"openings": 1, "amount_due_cents": 150, "refused": 0, "months": ["2025-03"]}),
        (None, "2025-02-10",
         {"openings": 3, "amount_due_cents": 300, "amount_paid_cents": 100, "failed": 1,
          "pending": 0, "months": ["2025-01", "2025-02"]}),
    ],
)  # fmt: skip
def test_report_from_to_filters_by_paris_day(
    site: tuple[Path, Path], start: str | None, end: str | None, expected: dict[str, Any]
) -> None:
    with Ledger(site[0], load_or_create_keys(site[0].parent, "kiosk-test")) as book:
        book.import_payments(parse_payments(PAYMENTS))
    args = [*(["--from", start] if start else []), *(["--to", end] if end else [])]
    figures = report(site[0], *args)
    months = expected.pop("months")
    assert {k: figures[k] for k in expected} == expected
    assert [m["month"] for m in figures["by_month"]] == months
    assert (
        figures["outstanding_cents"] == figures["amount_due_cents"] - figures["amount_paid_cents"]
    )
    assert sum(p["openings"] for p in figures["by_pharmacist"]) == figures["openings"]


@pytest.mark.parametrize("args", [["--from", "2025-13-01"], ["--to", "01/02/2025"]])
def test_report_refuses_a_bad_day(site: tuple[Path, Path], args: list[str]) -> None:
    assert "expected YYYY-MM-DD" in kiosk_fails("ledger", "report", "--ledger", str(site[0]), *args)


def _csv(where: Path, text: str, name: str = "paiements.csv") -> Path:
    path = where / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_payments_twice_adds_nothing_the_second_time(
    site: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger, config = site
    before = entry_count(ledger)
    csv = _csv(tmp_path, PAYMENTS)
    cmd = ("ledger", "import-payments", str(csv), "--ledger", str(ledger), "--config", str(config))
    assert "2 payment(s) imported, 0 already recorded" in kiosk_ok(*cmd)
    assert entry_count(ledger) == before + 2
    paid = report(ledger)
    assert (paid["amount_paid_cents"], paid["outstanding_cents"]) == (300, 150)
    assert "0 payment(s) imported, 2 already recorded" in kiosk_ok(*cmd)
    assert entry_count(ledger) == before + 2
    assert report(ledger) == paid


GOOD = "2026-04-15;ROSP-OK;3,00;2025-03-01;2025-03-31"


@pytest.mark.parametrize(
    ("body", "line"),
    [
        (f"{GOOD}\n2026-04-15;ROSP-X;41.5;2025-01-01;2025-01-31\n", 3),
        (f"{GOOD}\n2026-04-15;ROSP-X;1 244,00;2025-01-01\n", 3),
        (f"{GOOD}\n\n2026-04-15;ROSP-X;-3,00;2025-01-01;2025-01-31\n", 4),
        (f"{GOOD}\n2026-04-31;ROSP-X;3,00;2025-01-01;2025-01-31\n", 3),
        (f"{GOOD}\n2026-04-15;ROSP-X;3,00;2025-02-01;2025-01-31\n", 3),
        (f"{GOOD}\n2026-04-15;ROSP-OK;3,00;2025-03-01;2025-03-31\n", 3),
    ],
    ids=["amount-dot", "field-count", "negative", "bad-date", "period-reversed", "dup-ref"],
)
def test_a_malformed_csv_is_refused_whole_naming_the_line(
    site: tuple[Path, Path], tmp_path: Path, body: str, line: int
) -> None:
    ledger, config = site
    before = snapshot(ledger)
    csv = _csv(tmp_path, f"{HEADER}\n{body}")
    message = kiosk_fails("ledger", "import-payments", str(csv), "--ledger", str(ledger),
                          "--config", str(config))  # fmt: skip
    assert f"line {line}:" in message
    assert "nothing was imported" in message
    assert snapshot(ledger) == before


def test_a_wrong_header_or_encoding_or_missing_file_is_one_line(
    site: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger = str(site[0])
    before = snapshot(site[0])
    wrong = _csv(tmp_path, f"date;ref;montant;debut;fin\n{GOOD}\n")
    assert "line 1:" in kiosk_fails("ledger", "import-payments", str(wrong), "--ledger", ledger)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(f"{HEADER}\n{GOOD}\n".replace("ROSP-OK", "ROSP-é").encode("latin-1"))
    assert "not UTF-8" in kiosk_fails("ledger", "import-payments", str(latin), "--ledger", ledger)
    missing = tmp_path / "absent.csv"
    assert "no such file" in kiosk_fails(
        "ledger", "import-payments", str(missing), "--ledger", ledger
    )
    assert snapshot(site[0]) == before


def test_a_reference_reimported_with_other_values_imports_nothing(
    site: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger, config = site
    base = ("ledger", "import-payments")
    kiosk_ok(*base, str(_csv(tmp_path, PAYMENTS)), "--ledger", str(ledger), "--config", str(config))
    before = snapshot(ledger)
    other_amount = "2026-04-15;ROSP-2025-02;2,50;2025-02-01;2025-02-28"
    changed = _csv(tmp_path, f"{HEADER}\n{GOOD}\n{other_amount}\n", "changed.csv")
    message = kiosk_fails(*base, str(changed), "--ledger", str(ledger), "--config", str(config))
    assert "ROSP-2025-02" in message
    assert "nothing was imported" in message
    assert snapshot(ledger) == before
    assert before[1]["amount_paid_cents"] == 300


def test_verify_on_a_missing_file_is_a_clear_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "ledger.db"
    message = kiosk_fails("ledger", "verify", "--ledger", str(missing))
    assert str(missing) in message
    assert "no ledger" in message
    assert not missing.exists()
    assert not missing.parent.exists()
    assert "no ledger" in kiosk_fails("ledger", "report", "--ledger", str(missing), "--json")


def test_checkpoint_signs_the_head_and_verify_counts_it(site: tuple[Path, Path]) -> None:
    ledger, config = site
    before = kiosk_ok("ledger", "verify", "--ledger", str(ledger))
    signed_before = int(re.search(r"(\d+) signed checkpoints", before).group(1))  # type: ignore[union-attr]
    count = snapshot(ledger)[0]
    out = kiosk_ok("ledger", "checkpoint", "--ledger", str(ledger), "--config", str(config))
    assert re.fullmatch(rf"checkpoint \d{{4}}-\d\d-\d\d: entry {count}, head [0-9a-f]{{16}}\n", out)
    after = kiosk_ok("ledger", "verify", "--ledger", str(ledger))
    assert f"{signed_before + 1} signed checkpoints" in after
    # Again the same day: today's checkpoint is replaced, not added.
    kiosk_ok("ledger", "checkpoint", "--ledger", str(ledger), "--config", str(config))
    assert f"{signed_before + 1} signed checkpoints" in kiosk_ok(
        "ledger", "verify", "--ledger", str(ledger)
    )


def test_a_checkpoint_or_import_under_another_kiosk_id_still_verifies(
    site: tuple[Path, Path], tmp_path: Path
) -> None:
    """The CLI's kiosk id (config, else the host name) may differ from the one the entries
    were written with: a genuine ledger must still verify."""
    ledger = site[0]
    other = tmp_path / "other.toml"
    other.write_text('[ledger]\nkiosk_id = "kiosk-renamed"\n')
    kiosk_ok("ledger", "checkpoint", "--ledger", str(ledger), "--config", str(other))
    assert "signed checkpoints" in kiosk_ok("ledger", "verify", "--ledger", str(ledger))
    kiosk_ok("ledger", "import-payments", str(_csv(tmp_path, PAYMENTS)), "--ledger", str(ledger),
             "--config", str(other))  # fmt: skip
    kiosk_ok("ledger", "checkpoint", "--ledger", str(ledger), "--config", str(other))
    assert "signed checkpoints" in kiosk_ok("ledger", "verify", "--ledger", str(ledger))


def test_checkpoint_of_an_empty_ledger_fails(tmp_path: Path) -> None:
    message = kiosk_fails("ledger", "checkpoint", "--ledger", str(tmp_path / "ledger.db"))
    assert "empty" in message


def test_the_cli_never_prints_an_ins(site: tuple[Path, Path], tmp_path: Path) -> None:
    ledger, config = site
    outputs = [
        run_kiosk("ledger", "report", "--ledger", str(ledger), "--json"),
        run_kiosk("ledger", "report", "--ledger", str(ledger)),
        run_kiosk("ledger", "verify", "--ledger", str(ledger)),
        run_kiosk("ledger", "import-payments", str(_csv(tmp_path, PAYMENTS)), "--ledger",
                  str(ledger), "--config", str(config)),
        run_kiosk("ledger", "checkpoint", "--ledger", str(ledger), "--config", str(config)),
    ]  # fmt: skip
    text = "".join(r.stdout + r.stderr for r in outputs)
    assert all(r.returncode == 0 for r in outputs), text
    for ins in PATIENTS.values():
        assert ins not in text
    data = b"".join(p.read_bytes() for p in ledger.parent.glob("ledger.db*"))
    for ins in PATIENTS.values():
        assert ins.encode() not in data


def test_reconcile_lists_periods_and_what_no_payment_covers(tmp_path: Path) -> None:
    from kiosk.billing.consent_record import ConsentRecord
    from kiosk.billing.keys import load_or_create_keys
    from kiosk.billing.ledger import Ledger, Payment

    state = tmp_path / "state"
    consent = ConsentRecord("v1", "ab" * 32, True, True, True, False, "fr", "10001234567")
    with Ledger(state / "ledger.db", load_or_create_keys(state, "kiosk-test")) as book:
        for i, day in enumerate(["2026-03-02", "2026-06-10", "2027-02-01"]):
            at = dt.datetime.fromisoformat(day + "T10:00:00+00:00")
            act = book.begin("DMP_OPEN", "10001234567", f"2800575123{i:05d}", consent, at=at)
            book.finish(act, "confirmed", at=at)
        book.import_payments([Payment("2027-04-15", "ROSP-2026", 300, "2026-01-01", "2026-12-31")])
    result = run_kiosk("ledger", "reconcile", "--ledger", str(state / "ledger.db"), "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    (period,) = answer["periods"]
    assert (period["openings"], period["due_cents"], period["paid_cents"]) == (2, 200, 300)
    assert period["balance_cents"] == -100  # overpaid
    assert period["references"] == ["ROSP-2026"]
    assert answer["not_covered"]["openings"] == 1
    assert answer["not_covered"]["due_cents"] == 100
