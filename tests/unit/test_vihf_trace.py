"""The VIHF trace [EX_AIR-070]: the client tells of every VIHF it sends (one per attempt),
the billing writer appends it to an append-only, hash-chained SQLite file beside the
ledger, under the ledger's own patient key; a failing writer never breaks a DMP call."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import pytest

from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.vihf_trace import (
    TraceFileError,
    VihfTraceLog,
    open_trace,
    read_trace,
    trace_path,
    verify_trace,
)
from kiosk.dmp import transactions as m
from kiosk.dmp.client import DmpClient
from kiosk.dmp.models import CertifiedIdentity, DmpState, DmpStatus, Practitioner
from kiosk.dmp.service_errors import (
    DmpAuthenticationError,
    DmpProtocolError,
    DmpRejected,
    DmpTimeout,
    DmpUnavailable,
)
from kiosk.dmp.soap import Fault, build_envelope, build_fault, parse_envelope
from kiosk.dmp.trace import CallResult, VihfTrace, result_of
from kiosk.dmp.vihf import VihfSigner
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki, load_pharmacy

INS = "180057512345627"
PHARMACIST = Practitioner("810001234567", "21", "A", "DUPONT", "Claire")
BASE_URL = "https://dmp.test/si-dmp-server/v2/services"


def sent(assertion_id: str, at: str, ins: str | None = INS, result: str = "ok") -> VihfTrace:
    return VihfTrace(assertion_id, at, "TD0.2", "10001234567", "3750012345", result, 12, ins)


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def writer(ledger_dir: Path) -> VihfTraceLog:
    keys = load_or_create_keys(ledger_dir, "kiosk-test")
    return VihfTraceLog(trace_path(ledger_dir / "ledger.db"), keys.patient_key)


def test_the_trace_sits_beside_the_ledger() -> None:
    assert trace_path(Path("/var/lib/kiosk/ledger.db")) == Path("/var/lib/kiosk/ledger.trace.db")
    assert trace_path(Path("/x/ledger.trace.db")) == Path("/x/ledger.trace.db")


def test_rows_keep_the_ledgers_patient_key_and_never_the_ins(
    writer: VihfTraceLog, ledger_dir: Path
) -> None:
    writer(sent("_a1", "2026-03-01T10:00:00Z", ins=None))
    writer(sent("_a2", "2026-03-01T10:00:01Z"))
    keys = load_or_create_keys(ledger_dir, "kiosk-test")
    conn = open_trace(writer.path)
    try:
        rows = read_trace(conn)
        assert verify_trace(conn).ok
    finally:
        conn.close()
    assert [r.assertion_id for r in rows] == ["_a1", "_a2"]
    assert rows[0].patient_key is None  # TD0.0: no patient yet
    assert rows[1].patient_key == keys.patient_key(INS)  # the ledger's own function
    assert rows[1].as_json() == {
        "assertion_id": "_a2", "issued_at": "2026-03-01T10:00:01Z", "transaction": "TD0.2",
        "rpps": "10001234567", "structure_id": "3750012345", "result": "ok",
        "duration_ms": 12, "patient_key": keys.patient_key(INS),
    }  # fmt: skip
    for suffix in ("", "-wal"):
        part = writer.path.with_name(writer.path.name + suffix)
        if part.exists():
            assert INS.encode() not in part.read_bytes()
    assert writer.path.stat().st_mode & 0o777 == 0o600


def test_the_trace_is_append_only_and_chained(writer: VihfTraceLog) -> None:
    for n in range(3):
        writer(sent(f"_a{n}", f"2026-03-01T10:00:0{n}Z"))
    conn = sqlite3.connect(writer.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE vihf_trace SET result = 'ok' WHERE seq = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM vihf_trace")
        # someone who drops the triggers and edits a row is caught by the chain
        conn.execute("DROP TRIGGER vihf_trace_append_only_update")
        conn.execute("UPDATE vihf_trace SET result = 'Sender:DMP_EXISTS' WHERE seq = 2")
        conn.commit()
        verdict = verify_trace(conn)
    finally:
        conn.close()
    assert (verdict.ok, verdict.rows, verdict.bad_seq) == (False, 1, 2)


def test_the_calendars_ends_are_open_ends(writer: VihfTraceLog) -> None:
    """`--from 0001-01-01 --to 9999-12-31` once overflowed the Paris-to-UTC conversion."""
    writer(sent("_a", "2026-03-01T10:00:00Z"))
    conn = open_trace(writer.path)
    try:
        rows = read_trace(conn, dt.date.min, dt.date.max)
    finally:
        conn.close()
    assert [r.assertion_id for r in rows] == ["_a"]


def test_a_period_is_paris_days(writer: VihfTraceLog) -> None:
    writer(sent("_late", "2026-01-31T23:30:00Z"))  # 1 February in Paris
    writer(sent("_early", "2026-01-31T22:30:00Z"))  # 31 January, 23:30 in Paris
    conn = open_trace(writer.path)
    try:
        february = read_trace(conn, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
        january = read_trace(conn, None, dt.date(2026, 1, 31))
    finally:
        conn.close()
    assert [r.assertion_id for r in february] == ["_late"]
    assert [r.assertion_id for r in january] == ["_early"]


def test_another_file_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    other = tmp_path / "ledger.trace.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(TraceFileError, match="not a VIHF trace"):
        VihfTraceLog(other, lambda ins: "k").append(sent("_a", "2026-03-01T10:00:00Z"))
    with pytest.raises(TraceFileError, match="not a VIHF trace"):
        open_trace(other)
    assert other.read_bytes() == before
    with pytest.raises(TraceFileError, match="no VIHF trace here"):
        open_trace(tmp_path / "absent.trace.db")


def test_without_the_ledgers_keys_the_row_is_kept_without_patient_key(tmp_path: Path) -> None:
    def no_keys(_ins: str) -> str:
        raise FileNotFoundError("ledger.secret")

    writer = VihfTraceLog(tmp_path / "ledger.trace.db", no_keys)
    writer(sent("_a", "2026-03-01T10:00:00Z"))
    conn = open_trace(writer.path)
    try:
        assert [(r.assertion_id, r.patient_key) for r in read_trace(conn)] == [("_a", None)]
    finally:
        conn.close()


def test_the_event_hides_the_ins() -> None:
    event = sent("_a", "2026-03-01T10:00:00Z")
    assert INS not in repr(event) + str(event)
    assert event == sent("_a", "2026-03-01T10:00:00Z", ins=None)  # not part of equality


@pytest.mark.parametrize(
    ("error", "result"),
    [
        (None, "ok"),
        (DmpRejected("Sender:DMP_EXISTS", "Jeanne MARTIN has one"), "Sender:DMP_EXISTS"),
        (DmpRejected("the patient Jeanne MARTIN", "free text"), "unreadable-code"),
        (DmpTimeout("deadline"), CallResult.TIMEOUT),
        (DmpUnavailable("down"), CallResult.UNAVAILABLE),
        (DmpAuthenticationError("tls"), CallResult.AUTHENTICATION),
        (DmpProtocolError("garbled"), CallResult.PROTOCOL),
        (RuntimeError("bug"), CallResult.ERROR),
    ],
)
def test_results_are_typed_codes(error: BaseException | None, result: str) -> None:
    assert result_of(error) == result


# --- the client side: one event per VIHF sent, whatever the listener does -----------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("pki"))


class Transport:
    """The client's network interface answering from a script (bytes, or an error)."""

    def __init__(self, *script: bytes | Exception) -> None:
        self.script = list(script)
        self.assertion_ids: list[str] = []

    def post(self, url: str, payload: bytes, timeout: float) -> bytes:
        envelope = parse_envelope(payload)
        assert envelope.security is not None
        vihf = envelope.security.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
        assert vihf is not None
        self.assertion_ids.append(vihf.get("ID", ""))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def status_answer() -> bytes:
    body, _ = build_envelope("x", "", m.status_response(DmpStatus(DmpState.EXISTS, True)))
    return body


def client(pki: PkiPaths, transport: Transport, listener: object) -> DmpClient:
    signer = VihfSigner.from_files(pki.sign_key, pki.sign, load_pharmacy(pki.root).structure_id)
    return DmpClient(transport, BASE_URL, signer, on_vihf=listener)  # type: ignore[arg-type]


def identity_of(session_id: str) -> CertifiedIdentity:
    return CertifiedIdentity(INS, "MARTIN", "Jeanne", "19800512", session_id=session_id)


def test_each_attempt_is_one_event_with_its_own_assertion(pki: PkiPaths) -> None:
    seen: list[VihfTrace] = []
    transport = Transport(DmpUnavailable("reset"), status_answer())
    session = client(pki, transport, seen.append).session(PHARMACIST)
    session.status(identity_of(session.id))  # TD0.2 is retried once
    assert [e.assertion_id for e in seen] == transport.assertion_ids
    assert len(set(transport.assertion_ids)) == 2
    assert [(e.transaction, e.result) for e in seen] == [("TD0.2", "unavailable"), ("TD0.2", "ok")]
    assert {(e.rpps, e.structure_id, e.ins) for e in seen} == {
        ("10001234567", load_pharmacy(pki.root).structure_id, INS)
    }
    for event in seen:
        assert dt.datetime.strptime(event.issued_at, "%Y-%m-%dT%H:%M:%SZ")
        assert event.duration_ms >= 0


def test_a_fault_is_traced_by_its_code(pki: PkiPaths) -> None:
    seen: list[VihfTrace] = []
    fault = build_fault(Fault("Sender:DMP_EXISTS", "Jeanne MARTIN already has one"))
    session = client(pki, Transport(fault), seen.append).session(PHARMACIST)
    with pytest.raises(DmpRejected):
        session.status(identity_of(session.id))
    assert [e.result for e in seen] == ["Sender:DMP_EXISTS"]


def test_a_failing_listener_never_breaks_the_call(
    pki: PkiPaths, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_event: VihfTrace) -> None:
        raise sqlite3.OperationalError(f"disk full while writing {INS}")

    session = client(pki, Transport(status_answer()), broken).session(PHARMACIST)
    with caplog.at_level(logging.DEBUG, logger="kiosk"):  # the kiosk's own lines
        assert session.status(identity_of(session.id)).authorized
    assert "VIHF trace not recorded (OperationalError)" in caplog.text
    assert INS not in caplog.text
