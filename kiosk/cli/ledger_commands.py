"""``kiosk ledger``: the remuneration ledger's reports, checks, payments and exports."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from kiosk.cli.options import ConfigOption, JsonOption, emit_json, emit_rows, fail
from kiosk.config import ConfigError, load_config

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from kiosk.billing.ledger import Ledger, LedgerFile

T = TypeVar("T")

ledger_app = typer.Typer(no_args_is_help=True, help="The remuneration ledger.")

LedgerOption = Annotated[
    Path | None, typer.Option("--ledger", help="Ledger file (default: [ledger] path).")
]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: expected YYYY-MM-DD, got {text!r}")


def _path(ledger: Path | None, config: Path | None) -> tuple[Path, str]:
    try:
        cfg = load_config(config).ledger
    except ConfigError as exc:
        fail(str(exc))
    return ledger or Path(cfg.path), cfg.kiosk_name()


def _existing(path: Path) -> LedgerFile:
    """The ledger file, identified without a write: absent, empty, not a ledger or of an
    unknown version is a one-line refusal, the file left as it is."""
    from kiosk.billing.chain import LedgerError
    from kiosk.billing.ledger import FileKind, identify

    try:
        found = identify(path)
    except LedgerError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: cannot read the ledger ({exc.strerror or exc})")
    if found.kind is FileKind.ABSENT:
        fail(f"{path}: no ledger here (the kiosk creates it at its first act)")
    if found.kind is FileKind.BLANK:
        fail(f"{path}: an empty file, not a ledger (the kiosk creates its ledger when it starts)")
    return found


def _writable(path: Path, default_kiosk_id: str) -> Ledger:
    """The ledger opened to write, with its own keys (never made here) and under the kiosk
    id it records: missing keys, or keys not this ledger's, are refused before any write."""
    from kiosk.billing.chain import LedgerError
    from kiosk.billing.keys import load_keys
    from kiosk.billing.ledger import Ledger

    found = _existing(path)
    try:
        keys = load_keys(path.parent, found.kiosk_id or default_kiosk_id)
        return Ledger(path, keys, create=False, check_keys=True)
    except LedgerError as exc:
        fail(str(exc))
    except (OSError, sqlite3.Error) as exc:
        fail(f"{path}: cannot open the ledger ({exc}); nothing was written")


def _query(path: Path, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` on a read-only connection; a damaged file is a one-line error."""
    conn = _read_only(path)
    try:
        return work(conn)
    except sqlite3.Error as exc:
        fail(f"{path}: cannot read the ledger ({exc}); run `kiosk ledger verify`")
    finally:
        conn.close()


def _read_only(path: Path) -> sqlite3.Connection:
    from kiosk.billing.ledger import read_only_connection

    _existing(path)
    try:
        return read_only_connection(path)
    except sqlite3.Error as exc:
        fail(f"{path}: cannot open the ledger ({exc})")


@ledger_app.command("report")
def report(
    ledger: LedgerOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Openings, amounts due, paid and outstanding over a period."""
    from kiosk.billing.ledger import recorded_kiosk_id
    from kiosk.billing.reports import report as build

    path, _ = _path(ledger, config)
    start, end = _day(from_, "--from"), _day(to, "--to")

    def figures_of(conn: sqlite3.Connection) -> dict[str, object]:
        # the kiosk the file records, never the config's id for another kiosk's file
        return {"kiosk_id": recorded_kiosk_id(conn), **build(conn, start, end)}

    figures: dict[str, Any] = _query(path, figures_of)
    if as_json:
        emit_json(figures)
        return
    typer.echo(
        f"{figures['openings']} openings, due {figures['amount_due_cents'] / 100:.2f} EUR, "
        f"paid {figures['amount_paid_cents'] / 100:.2f} EUR, "
        f"outstanding {figures['outstanding_cents'] / 100:.2f} EUR"
    )


def _count_checkpoints(conn: sqlite3.Connection) -> int:
    try:
        return int(conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0])
    except sqlite3.Error:
        return 0


@ledger_app.command("verify")
def verify(
    ledger: LedgerOption = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="The kiosk's public key (hex) to check the signed checkpoints."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Exit 0 when intact; 2 naming the first altered entry; 3 when the entries hold but
    the signed checkpoints are not this key's (the key is missing or not this ledger's)."""
    from kiosk.billing.keys import PUBLIC_KEY_FILE, load_public_key, public_key_beside
    from kiosk.billing.ledger_verify import verify_file

    path, _ = _path(ledger, config)
    _existing(path)
    key_file = public_key or path.parent / PUBLIC_KEY_FILE
    key: Ed25519PublicKey | None
    try:
        if public_key is not None:
            if not public_key.exists():
                fail(f"{public_key}: no such public key file")
            key = load_public_key(public_key)
        else:
            key = public_key_beside(path.parent)
    except (OSError, ValueError, TypeError) as exc:
        fail(f"{key_file}: not a public key ({exc})")
    conn = _read_only(path)
    try:
        verdict = verify_file(conn, key)
        signed = 0 if key is not None or not verdict.ok else _count_checkpoints(conn)
    finally:
        conn.close()
    if verdict.key_mismatch:
        fail(
            f"ledger not verified: the key is missing or not this ledger's ({verdict.message});"
            f" the chain of its {verdict.entries} entries holds, its signatures are unchecked:"
            " give this kiosk's public key with --public-key",
            code=3,
        )
    if not verdict.ok:
        fail(f"ledger NOT intact: {verdict.message}", code=2)
    unchecked = f", {signed} checkpoints unchecked: give --public-key" if signed else ""
    note = (
        f", {verdict.checkpoints} signed checkpoints"
        if key
        else f" (no public key: chain only{unchecked})"
    )
    typer.echo(f"ledger intact: {verdict.entries} entries{note}, head {verdict.head[:16]}")


@ledger_app.command("import-payments")
def import_payments(
    file: Annotated[Path, typer.Argument(help="CSV: date_paiement;reference;montant;…")],
    ledger: LedgerOption = None,
    config: ConfigOption = None,
) -> None:
    """Record payments received; re-importing a reference changes nothing."""
    from kiosk.billing.chain import LedgerError
    from kiosk.billing.payments import PaymentFileError, parse_payments

    path, kiosk_id = _path(ledger, config)
    _existing(path)
    try:
        payments = parse_payments(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text")
    except OSError as exc:  # a directory, a file we may not read
        fail(f"{file}: cannot read ({exc.strerror or exc})")
    except PaymentFileError as exc:
        fail(f"{file}: {exc}; nothing was imported")
    book = _writable(path, kiosk_id)
    try:
        with book:
            added = book.import_payments(payments)
    except (LedgerError, sqlite3.Error) as exc:
        fail(f"{file}: {exc}; nothing was imported")
    typer.echo(f"{added} payment(s) imported, {len(payments) - added} already recorded")


@ledger_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or pdf.")],
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    ledger: LedgerOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    config: ConfigOption = None,
) -> None:
    """CSV for a French spreadsheet, a workbook (xlsx), or a one-page PDF summary for the
    accountant."""
    from kiosk.billing import exports

    if fmt not in ("csv", "xlsx", "pdf"):
        fail(f"--format: expected csv, xlsx or pdf, got {fmt!r}")
    path, _ = _path(ledger, config)
    start, end = _day(from_, "--from"), _day(to, "--to")

    def write(conn: sqlite3.Connection) -> None:
        if fmt == "csv":
            exports.export_csv(conn, out, start, end)
        elif fmt == "xlsx":
            exports.export_xlsx(conn, out, start, end)
        else:
            exports.export_pdf(conn, out, start, end, path.parent)

    try:
        _query(path, write)
    except OSError as exc:
        fail(f"{out}: cannot write ({exc.strerror or exc})")
    typer.echo(f"written {out}")


@ledger_app.command("checkpoint")
def checkpoint(ledger: LedgerOption = None, config: ConfigOption = None) -> None:
    """Sign the chain head now (one checkpoint per day is also made automatically)."""
    path, kiosk_id = _path(ledger, config)
    with _writable(path, kiosk_id) as book:
        record = book.checkpoint()
    if record is None:
        fail("the ledger is empty: nothing to sign")
    typer.echo(f"checkpoint {record['day']}: entry {record['seq']}, head {record['head'][:16]}")


@ledger_app.command("pending")
def pending(
    ledger: LedgerOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Acts left pending or uncertain (a crash, a lost answer), waiting for resolution."""
    from dataclasses import asdict

    from kiosk.billing.ledger import unresolved_acts

    path, _ = _path(ledger, config)
    acts = [asdict(act) for act in _query(path, unresolved_acts)]
    emit_rows(
        as_json, "pending", acts,
        lambda act: f"{act['opened_utc']}  {act['act_code']}  {act['status']}  {act['act_id']}",
        f"{len(acts)} act(s) waiting for resolution",
    )  # fmt: skip


@ledger_app.command("reconcile")
def reconcile(
    ledger: LedgerOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Per payment period: openings, due, paid, balance; and what no payment covers yet."""
    from kiosk.billing.payments import PeriodBalance
    from kiosk.billing.reports import reconciliation

    path, _ = _path(ledger, config)
    periods, uncovered = _query(path, reconciliation)

    def row(p: PeriodBalance) -> dict[str, object]:
        return {
            "period_start": p.period_start, "period_end": p.period_end,
            "openings": p.openings, "due_cents": p.due_cents, "paid_cents": p.paid_cents,
            "balance_cents": p.balance_cents, "references": list(p.references),
        }  # fmt: skip

    if as_json:
        emit_json(
            {
                "periods": [row(p) for p in periods],
                "not_covered": row(uncovered) if uncovered else None,
            }
        )
        return
    for p in [*periods, *([uncovered] if uncovered else [])]:
        typer.echo(
            f"{p.period_start}..{p.period_end}: {p.openings} openings, due "
            f"{p.due_cents / 100:.2f}, paid {p.paid_cents / 100:.2f}, "
            f"balance {p.balance_cents / 100:.2f} EUR {' '.join(p.references) or '(not paid)'}"
        )


@ledger_app.command("trace")
def trace(
    ledger: LedgerOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    check: Annotated[
        bool, typer.Option("--verify", help="Check the trace's chain first (exit 2 if broken).")
    ] = False,
) -> None:
    """Every VIHF sent to the DMP service over a period (Paris days): assertion ID, issue
    time, transaction, RPPS, structure, result, duration, patient key; never an INS or a
    name [EX_AIR-070]. Read from the trace beside the ledger (or --ledger TRACE.db)."""
    from kiosk.billing.vihf_trace import (
        TraceFileError,
        open_trace,
        read_trace,
        trace_path,
        verify_trace,
    )

    path, _ = _path(ledger, config)
    start, end = _day(from_, "--from"), _day(to, "--to")
    if start and end and end < start:
        fail(f"--to {end} is before --from {start}")
    where = trace_path(path)
    try:
        conn = open_trace(where)
    except TraceFileError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{where}: cannot read the VIHF trace ({exc.strerror or exc})")
    try:
        verdict = verify_trace(conn) if check else None
        rows = [record.as_json() for record in read_trace(conn, start, end)]
    except sqlite3.Error as exc:
        fail(f"{where}: cannot read the VIHF trace ({exc})")
    finally:
        conn.close()
    if verdict is not None and not verdict.ok:
        fail(f"{where}: VIHF trace NOT intact: row {verdict.bad_seq} altered, removed or moved", 2)
    emit_rows(
        as_json, "trace", rows,
        lambda r: (f"{r['issued_at']}  {r['transaction']:<6}  {r['result']:<24}"
                   f"  {r['duration_ms']:>6} ms  {r['rpps']}  {r['structure_id']}"
                   f"  {r['assertion_id']}"),
        f"{len(rows)} VIHF(s) sent",
    )  # fmt: skip
