"""Every VIHF sent is traced [EX_AIR-070]: the real client against the TLS sandbox, the
trace written beside the ledger, read back with ``kiosk ledger trace`` in a subprocess.
One row per VIHF the sandbox received (same assertion IDs, in order), with the
transaction and a typed result; never an INS or a name in the file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kiosk.appliance import wiring
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.vihf_trace import VihfTraceLog, trace_path
from kiosk.config import load_config
from kiosk.dmp.models import Consent, Contact
from kiosk.dmp.service_errors import DmpRejected, DmpTimeout
from kiosk.dmp.trace import VihfTrace
from kiosk.sim.sandbox.client_config import dmp_section
from tests.conftest import CARDS, run_kiosk
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    PHARMACIST,
    PHARMACIST_RPPS,
    CountingSandbox,
    DmpClients,
    Sandboxes,
    adult,
    dmp_clients_fixture,
    dmp_pki_fixture,
    sandboxes_fixture,
)

MARTIN = CARDS / "vitale-famille-martin.json"
CPS = CARDS / "cps-dupont-titulaire.json"
ROW_FIELDS = {
    "assertion_id", "issued_at", "transaction", "rpps", "structure_id", "result",
    "duration_ms", "patient_key",
}  # fmt: skip


def trace_of(*args: str) -> list[dict[str, Any]]:
    result = run_kiosk("ledger", "trace", *args, "--json")
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)["trace"]
    return rows


def trace_bytes(ledger: Path) -> bytes:
    trace = trace_path(ledger)
    return b"".join(
        part.read_bytes() for part in (trace, trace.with_name(trace.name + "-wal")) if part.exists()
    )


def assert_no_patient_in(data: bytes, *secrets: str) -> None:
    for secret in (*secrets, "MARTIN", "Jeanne"):
        assert secret.encode() not in data, secret


def test_a_journey_is_traced_call_by_call(
    sandboxes: Sandboxes, dmp_clients: DmpClients, tmp_path: Path
) -> None:
    server = sandboxes.start(faults={"reactivate": "timeout"}, fault_delay=5.0)
    ledger = tmp_path / "state" / "ledger.db"
    keys = load_or_create_keys(ledger.parent, "kiosk-test")
    client = dmp_clients.client(server)
    client.on_vihf = VihfTraceLog(trace_path(ledger), keys.patient_key)
    session = client.session(PHARMACIST)
    traits = adult(7)

    identity = session.certified_identity(traits)
    session.status(identity)
    session.create(identity, Consent(True))
    session.create_web_access(identity, Contact(mobile="0612345678"))
    with pytest.raises(DmpRejected):
        session.create(identity, Consent(True))  # exists now: the service's fault
    with pytest.raises(DmpTimeout):
        session.reactivate(identity, Consent(True))  # the sandbox never answers

    rows = trace_of("--ledger", str(ledger))
    assert [r["assertion_id"] for r in rows] == server.assertion_ids
    assert len(set(server.assertion_ids)) == 6
    assert [(r["transaction"], r["result"]) for r in rows] == [
        ("TD0.0", "ok"), ("TD0.2", "ok"), ("TD1.1", "ok"), ("TD1.5a", "ok"),
        ("TD1.1", "Sender:DMP_EXISTS"), ("TD1.2", "timeout"),
    ]  # fmt: skip
    assert all(set(r) == ROW_FIELDS for r in rows)
    assert {(r["rpps"], r["structure_id"]) for r in rows} == {
        (PHARMACIST_RPPS, server.structure_id)
    }
    assert rows[0]["patient_key"] is None  # TD0.0 names no patient yet
    assert {r["patient_key"] for r in rows[1:]} == {keys.patient_key(identity.ins)}
    assert rows[-1]["duration_ms"] >= 900  # the client's deadline of 1 s
    assert_no_patient_in(trace_bytes(ledger), identity.ins, traits.holder_nir)

    table = run_kiosk("ledger", "trace", "--ledger", str(ledger))
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[-1] == "6 VIHF(s) sent"
    assert "Sender:DMP_EXISTS" in table.stdout


@pytest.fixture
def site(tmp_path: Path, sandboxes: Sandboxes) -> tuple[Path, CountingSandbox]:
    """A kiosk config for a sandbox: its [dmp] section and a ledger in ``state/``."""
    server = sandboxes.start()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        dmp_section(server.pki.root, server.url, relative=False)
        + f'\n[ledger]\npath = "{tmp_path / "state" / "ledger.db"}"\nkiosk_id = "kiosk-t"\n',
        encoding="utf-8",
    )
    return config, server


def test_kiosk_dmp_create_is_traced_beside_the_configs_ledger(
    site: tuple[Path, CountingSandbox],
) -> None:
    config, server = site
    created = run_kiosk(
        "dmp", "create", "--consent", "--config", str(config), "--profile", str(MARTIN),
        "--cps-profile", str(CPS), "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    rows = trace_of("--config", str(config))
    assert [(r["transaction"], r["result"]) for r in rows] == [
        ("TD0.0", "ok"), ("TD0.2", "ok"), ("TD1.1", "ok"),
    ]  # fmt: skip
    assert [r["assertion_id"] for r in rows] == server.assertion_ids
    ledger = Path(load_config(config).ledger.path)
    conn = sqlite3.connect(ledger)
    try:
        (ledger_key,) = conn.execute("SELECT DISTINCT patient_key FROM acts").fetchone()
    finally:
        conn.close()
    assert {r["patient_key"] for r in rows[1:]} == {ledger_key}  # the ledger's own key
    ins = server.store.list()[0]["ins"]
    assert_no_patient_in(trace_bytes(ledger), str(ins))


def test_the_kiosks_own_client_traces_its_calls(site: tuple[Path, CountingSandbox]) -> None:
    """``kiosk run`` (and the demo) build their client with wiring.dmp_client."""
    config, server = site
    session = wiring.dmp_client(load_config(config)).session(PHARMACIST)
    identity = session.certified_identity(adult(9))
    session.status(identity)
    rows = trace_of("--config", str(config))
    assert [r["transaction"] for r in rows] == ["TD0.0", "TD0.2"]
    assert [r["assertion_id"] for r in rows] == server.assertion_ids


def test_kiosk_dmp_status_without_ledger_keys_makes_none(
    site: tuple[Path, CountingSandbox],
) -> None:
    config, _server = site
    status = run_kiosk(
        "dmp", "status", "--config", str(config), "--profile", str(MARTIN),
        "--cps-profile", str(CPS), "--json",
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    rows = trace_of("--config", str(config))
    assert [(r["transaction"], r["patient_key"]) for r in rows] == [
        ("TD0.0", None), ("TD0.2", None),
    ]  # fmt: skip
    state = Path(load_config(config).ledger.path).parent
    assert not (state / "ledger.secret").exists()  # a diagnosis makes no ledger keys


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ledger", "{tmp}/nothing/ledger.db"], "no VIHF trace here"),
        (["--ledger", "{tmp}/other.trace.db"], "not a VIHF trace"),
        (["--ledger", "{tmp}/garbage.trace.db"], "not a VIHF trace"),
        (["--ledger", "{tmp}/x.db", "--from", "2026-13-01"], "--from: expected YYYY-MM-DD"),
        (["--ledger", "{tmp}/x.db", "--from", "2026-03-02", "--to", "2026-03-01"], "before"),
        (["--ledger", "{tmp}/altered.trace.db", "--verify"], "NOT intact: row 2"),
    ],
    ids=["missing", "another SQLite file", "not SQLite", "bad date", "reversed period", "altered"],
)
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    other = sqlite3.connect(tmp_path / "other.trace.db")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    (tmp_path / "garbage.trace.db").write_bytes(b"not a database at all" * 10)
    altered = VihfTraceLog(tmp_path / "altered.trace.db", lambda _ins: "k")
    for n in range(3):
        altered(VihfTrace(f"_a{n}", f"2026-03-01T10:00:0{n}Z", "TD0.2", "1", "s", "ok", 5, None))
    conn = sqlite3.connect(altered.path)
    conn.execute("DROP TRIGGER vihf_trace_append_only_update")
    conn.execute("UPDATE vihf_trace SET result = 'ok, really' WHERE seq = 2")
    conn.commit()
    conn.close()
    result = run_kiosk("ledger", "trace", *(a.format(tmp=tmp_path) for a in args), "--json")
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
