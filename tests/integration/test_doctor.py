"""`kiosk doctor --json` as a technician runs it, on a healthy sandbox kiosk and on each
broken case: the named check fails (or warns) with its hint, and every other check keeps
its healthy status, except the checks declared to depend on it, which are skipped (a
``warn`` that names the check they wait for).

The healthy kiosk: the real sandbox over mutual TLS, the pharmacy's certificates copied
beside the config, a ledger and its keys written by the real code, a Carte Vitale in
reader 0 and a pharmacist's CPS in reader 1 (emulators through the real pcscd), the
pharmacist code's hash, a network printer listening on loopback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from kiosk.billing.consent_record import ConsentRecord
from kiosk.billing.keys import SECRET_FILE, SIGNING_KEY_FILE, load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.core.pharmacist_code import hash_code
from kiosk.hardware.cards import cps_from_profile
from kiosk.hardware.cps import read_cps_public
from kiosk.hardware.cps_layout import CpsPublic
from kiosk.sim.emulators.cps_emulator import CpsEmulator
from kiosk.sim.emulators.emulated_card import EmulatedCard
from kiosk.sim.sandbox.pki import (
    PkiPaths,
    issue,
    load_cert,
    load_key,
    new_key,
    write_key,
    write_pem,
)
from tests.conftest import READERS, InsertCard, Pcscd, load_profile, run_kiosk, wait_for
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    CountingSandbox,
    Sandboxes,
    dmp_pki_fixture,
    foreign_pki_fixture,
    sandboxes_fixture,
)

pytestmark = pytest.mark.pcsc

DOCTOR_LIMIT = 10.0  # seconds: a few seconds, not a benchmark (bench/bench_doctor.py is)
HEALTHY_ENV = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
VITALE = "vitale-famille-martin.json"
CPS = "cps-dupont-titulaire.json"
TIMES: list[float] = []


@dataclass
class Site:
    """A healthy kiosk's files, its sandbox and its printer; tests break one thing."""

    root: Path
    sandbox: CountingSandbox
    printer: socket.socket
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "kiosk.toml"

    @property
    def certs(self) -> Path:
        return self.root / "certs"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def write_config(self) -> None:
        lines = []
        for section, values in self.values.items():
            lines.append(f"[{section}]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def set(self, section: str, **values: Any) -> None:
        self.values[section].update(values)
        self.write_config()

    def doctor(self) -> tuple[int, dict[str, dict[str, str]]]:
        started = time.monotonic()
        result = run_kiosk("doctor", "--config", str(self.config), "--json", env=HEALTHY_ENV)
        elapsed = time.monotonic() - started
        TIMES.append(elapsed)
        assert elapsed < DOCTOR_LIMIT, f"doctor took {elapsed:.1f} s"
        assert "Traceback" not in result.stderr, result.stderr
        checks = json.loads(result.stdout)["checks"]
        assert all(set(c) == {"name", "status", "why", "fix"} for c in checks)
        return result.returncode, {c["name"]: c for c in checks}

    def statuses(self) -> dict[str, str]:
        return {name: check["status"] for name, check in self.doctor()[1].items()}


def _write_ledger(state: Path) -> None:
    consent = ConsentRecord("v1", "ab" * 32, True, True, False, False, "fr", "10001234567")
    with Ledger(state / "ledger.db", load_or_create_keys(state, "kiosk-doctor")) as book:
        act = book.begin("DMP_OPEN", "10001234567", "299017500000001", consent)
        book.finish(act, "confirmed")
        book.checkpoint()


@pytest.fixture
def site(sandboxes: Sandboxes, tmp_path: Path) -> Iterator[Site]:
    sandbox = sandboxes.start()
    printer = socket.create_server(("127.0.0.1", 0))  # connections wait in its backlog
    root = tmp_path / "site"
    made = Site(root, sandbox, printer)
    made.certs.mkdir(parents=True)
    pki = sandbox.pki
    for source in (pki.ca, pki.auth, pki.auth_key, pki.sign, pki.sign_key):
        shutil.copy(source, made.certs / source.name)
    made.state.mkdir(mode=0o700)
    made.state.chmod(0o700)
    _write_ledger(made.state)
    (made.state / "receipts").mkdir(mode=0o700)
    made.values = {
        "dmp": {
            "endpoint": sandbox.url,
            "ca": "certs/ca.pem",
            "auth_cert": "certs/auth.pem",
            "auth_key": "certs/auth.key",
            "sign_cert": "certs/sign.pem",
            "sign_key": "certs/sign.key",
            "structure_id": sandbox.structure_id,
        },
        "ledger": {"path": "state/ledger.db", "kiosk_id": "kiosk-doctor"},
        "kiosk": {
            "pharmacy_name": "Pharmacie du test",
            "pharmacist_code_hash": hash_code("4321", n=2**14),  # the cheapest the config takes
            "spool": "state/receipts",
        },
        "printer": {"kind": "network", "host": "127.0.0.1", "port": printer.getsockname()[1]},
    }
    made.write_config()
    try:
        yield made
    finally:
        printer.close()


@pytest.fixture
def cards(insert_card: InsertCard) -> dict[str, Any]:
    """The healthy counter: a Vitale in reader 0, the pharmacist's CPS in reader 1."""
    return {
        "vitale": insert_card(load_profile(VITALE), 0),
        "cps": insert_card(load_profile(CPS), 1),
    }


def assert_only(
    before: dict[str, str],
    after: dict[str, dict[str, str]],
    name: str,
    status: str,
    hints: tuple[str, ...],
    dependents: tuple[str, ...] = (),
) -> None:
    """``name`` has ``status`` with each hint in its why or fix; the ``dependents`` are
    skipped warns; every other check is as healthy."""
    check = after[name]
    assert check["status"] == status, check
    text = f"{check['why']} {check['fix']}"
    for hint in hints:
        assert hint in text, check
    assert check["why"], check
    assert check["fix"], check
    for other, healthy in before.items():
        if other == name:
            continue
        if other in dependents:
            assert after[other]["status"] == "warn", after[other]
            assert "see " in after[other]["why"], after[other]
        else:
            assert after[other]["status"] == healthy, (other, after[other])


def tree(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file and directory under ``root``: mode, mtime and content hash."""
    found = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        found[str(path.relative_to(root))] = (info.st_mode, info.st_mtime_ns, digest)
    return found


# --- healthy -----------------------------------------------------------------------------


def test_a_healthy_kiosk_has_no_failure_and_doctor_changes_nothing(
    site: Site, cards: dict[str, Any]
) -> None:
    before = tree(site.root)
    code, checks = site.doctor()
    assert [c for c in checks.values() if c["status"] == "fail"] == []
    assert code == 0
    assert list(checks) == [
        "config", "pcscd", "readers", "cards", "cps", "certificate_ca", "certificate_tls",
        "certificate_signature", "dmp_endpoint", "clock", "ledger", "ledger_unresolved",
        "state_dir", "spool", "disk", "display", "printer", "service",
    ]  # fmt: skip
    for name in ("config", "pcscd", "readers", "cards", "cps", "dmp_endpoint", "ledger",
                 "ledger_unresolved", "printer", "clock", "disk"):  # fmt: skip
        assert checks[name]["status"] == "ok", checks[name]
    assert f"{READERS[0]}: Carte Vitale" in checks["cards"]["why"]
    assert f"{READERS[1]}: CPS" in checks["cards"]["why"]
    assert "pharmacien, section A" in checks["cps"]["why"]
    assert "3 of 3 tries left" in checks["cps"]["why"]
    assert "GET answered HTTP 405" in checks["dmp_endpoint"]["why"]
    assert "TLS" in checks["dmp_endpoint"]["why"]
    assert "1 signed checkpoints" in checks["ledger"]["why"]
    assert checks["display"]["status"] == "warn"  # no screen where the tests run
    assert "no display here" in checks["display"]["why"]
    assert checks["service"]["status"] == "warn"  # systemd is not PID 1 in the test box
    assert tree(site.root) == before  # not a byte, not a mode, not an mtime changed
    assert cards["cps"].card.tries_left == 3  # no PIN try spent
    assert site.sandbox.received("POST") == 0  # no SOAP call: one GET, no VIHF


def test_doctor_loads_neither_kivy_nor_the_simulation(site: Site) -> None:
    script = (
        "import sys; from pathlib import Path; from kiosk.appliance.doctor import diagnose;"
        f" diagnose(Path({str(site.config)!r}));"
        " bad = [m for m in sys.modules if m.split('.')[0] == 'kivy' or m.startswith('kiosk.sim')];"
        " print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=30, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_config_names_every_problem_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[dmp]\ndeadline = "soon"\nendpiont = "x"\n[printer]\nkind = "laser"\n')
    result = run_kiosk("doctor", "--config", str(config), "--json")
    assert result.returncode != 0
    assert "config" in result.stderr.splitlines()[-1]
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    why = checks["config"]["why"]
    for problem in ("[dmp] deadline", "'endpoint'", "[printer] kind"):
        assert problem in why
    assert checks["config"]["status"] == "fail"
    for name in ("ledger", "certificate_tls", "dmp_endpoint", "printer", "state_dir"):
        assert checks[name]["status"] == "warn", checks[name]
        assert "see config" in checks[name]["why"]
    failed = {name for name, c in checks.items() if c["status"] == "fail"}
    assert failed - {"pcscd", "readers", "cps"} == {"config"}  # the card stack needs no config


# --- the card stack ----------------------------------------------------------------------


def test_pcscd_stopped(site: Site, cards: dict[str, Any], pcscd: Pcscd) -> None:
    if not pcscd.handle.started_here:
        pytest.skip("pcscd was started by someone else: not ours to stop")
    before = site.statuses()
    pcscd.kill()
    try:
        code, after = site.doctor()
    finally:
        pcscd.start()
    assert code != 0
    assert_only(before, after, "pcscd", "fail", ("not running", "systemctl start pcscd"),
                dependents=("readers", "cards", "cps"))  # fmt: skip


def test_no_reader(site: Site, cards: dict[str, Any], pcscd: Pcscd, tmp_path: Path) -> None:
    if not pcscd.handle.started_here:
        pytest.skip("pcscd was started by someone else: not ours to stop")
    from kiosk.sim.pcscd import PcscdHandle, pcscd_running

    before = site.statuses()
    pcscd.kill()
    empty = tmp_path / "reader.conf.d"
    empty.mkdir()
    bare = subprocess.Popen(["/usr/sbin/pcscd", "--foreground", "--config", str(empty)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(pcscd_running, 10, "a pcscd without readers")
        code, after = site.doctor()
    finally:
        PcscdHandle(bare).stop()
        wait_for(lambda: not pcscd_running(), 10, "the bare pcscd to stop")
        pcscd.start()
    assert code != 0
    assert_only(before, after, "readers", "fail", ("no smart-card reader", "USB"),
                dependents=("cards", "cps"))  # fmt: skip


def test_cps_absent(site: Site, insert_card: InsertCard) -> None:
    insert_card(load_profile(VITALE), 0)
    session = insert_card(load_profile(CPS), 1)
    before = site.statuses()
    session.pull()
    wait_for(lambda: _absent(READERS[1]), 5, "the CPS to be pulled")
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "cps", "fail",
                ("no CPS", "no DMP can be opened", "insert the pharmacist's CPS"))  # fmt: skip


def _absent(reader: str) -> bool:
    from kiosk.hardware.pcsc import PcscContext

    context = PcscContext()
    try:
        return context.card_atrs().get(reader) is None
    finally:
        context.close()


@pytest.mark.parametrize(
    ("change", "hints"),
    [
        ({"profession": "10", "cnop_section": "A"}, ("médecin", "not a pharmacist's", "21")),
        ({"pin_tries_left": 0}, ("PIN blocked", "PUK")),
        ({"valid_until": "20200101"}, ("expired on 2020-01-01", "new CPS")),
    ],
    ids=["another-profession", "blocked", "expired"],
)
def test_a_cps_that_cannot_serve(
    site: Site, insert_card: InsertCard, change: dict[str, Any], hints: tuple[str, ...]
) -> None:
    insert_card(load_profile(VITALE), 0)
    healthy = insert_card(load_profile(CPS), 1)
    before = site.statuses()
    healthy.pull()
    wait_for(lambda: _absent(READERS[1]), 5, "the CPS to be pulled")
    insert_card({**load_profile(CPS), **change}, 1)
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "cps", "fail", hints)


def test_an_adjoint_cps_is_accepted_and_a_typed_wrong_pin_warns(
    site: Site, insert_card: InsertCard
) -> None:
    insert_card(load_profile(VITALE), 0)
    insert_card({**load_profile("cps-lefevre-adjoint.json"), "pin_tries_left": 2}, 1)
    _, after = site.doctor()
    assert after["cps"]["status"] == "warn", after["cps"]
    assert "section DA" in after["cps"]["why"]
    assert "2 of 3 tries left" in after["cps"]["why"]


def test_a_cps_that_never_answers_costs_its_deadline_only(
    site: Site, insert_card: InsertCard
) -> None:
    insert_card(load_profile(VITALE), 0)
    healthy = insert_card(load_profile(CPS), 1)
    before = site.statuses()
    healthy.pull()
    wait_for(lambda: _absent(READERS[1]), 5, "the CPS to be pulled")
    insert_card(load_profile(CPS), 1, mute=True)  # a dead chip: APDUs never answered
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "cps", "fail", ("did not finish within 4 s", "unplug the reader"))


class EmulatorChannel:
    """An ``apdu.Channel`` straight to an emulator, no PC/SC."""

    def __init__(self, emulator: EmulatedCard) -> None:
        self.emulator = emulator

    def transmit_raw(self, apdu: bytes) -> bytes:
        return self.emulator.process(apdu)


def test_the_public_file_tells_the_profession_without_the_pin() -> None:
    for name in (CPS, "cps-lefevre-adjoint.json"):
        card, pin = cps_from_profile(load_profile(name))
        emulator = CpsEmulator(card, pin)
        emulator.power_on()
        public = read_cps_public(EmulatorChannel(emulator))
        assert public == CpsPublic(card.serial, card.valid_until, card.profession,
                                   card.cnop_section)  # fmt: skip
        assert emulator.tries_left == 3  # no VERIFY sent
        assert not emulator.verified


# --- certificates ------------------------------------------------------------------------


def _reissue(site: Site, name: str, not_before: dt.datetime, not_after: dt.datetime) -> None:
    """Re-issue ``certs/NAME.pem`` for its own key, by the sandbox's CA, with these dates."""
    pki = site.sandbox.pki
    old = load_cert(site.certs / f"{name}.pem")
    try:
        usage = list(old.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usage = []
    cert = issue(
        old.subject, load_key(site.certs / f"{name}.key"), load_cert(pki.ca),
        load_key(pki.ca_key), usage=usage or None, not_before=not_before, not_after=not_after,
    )  # fmt: skip
    write_pem(site.certs / f"{name}.pem", cert)


def test_a_signature_certificate_expired(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    now = dt.datetime.now(dt.UTC)
    _reissue(site, "sign", not_before=now - dt.timedelta(days=400),
             not_after=now - dt.timedelta(days=3))  # fmt: skip
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "certificate_signature", "fail",
                ("sign.pem", "expired on", "renewal from IGC-Santé"))  # fmt: skip


def test_a_tls_certificate_expiring_within_30_days(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    now = dt.datetime.now(dt.UTC)
    _reissue(site, "auth", not_before=now - dt.timedelta(days=300),
             not_after=now + dt.timedelta(days=12, hours=1))  # fmt: skip
    code, after = site.doctor()
    assert code == 0  # a warning is not a failure
    assert_only(before, after, "certificate_tls", "warn",
                ("auth.pem", "expires in 12 days", "renewal"))  # fmt: skip


def test_a_signature_key_not_matching(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    write_key(site.certs / "other.key", new_key())
    site.set("dmp", sign_key="certs/other.key")
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "certificate_signature", "fail",
                ("does not match its key", "other.key", "the same .p12"))  # fmt: skip


def test_a_tls_key_not_matching_skips_the_endpoint(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    write_key(site.certs / "auth.key", new_key())
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "certificate_tls", "fail", ("does not match its key",),
                dependents=("dmp_endpoint", "clock"))  # fmt: skip
    assert "see certificate_tls" in after["dmp_endpoint"]["why"]


# --- the DMP service and the clock -------------------------------------------------------


def test_the_endpoint_unreachable(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    site.set("dmp", endpoint=f"https://127.0.0.1:{port}/si-dmp-server/v2/services")
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "dmp_endpoint", "fail",
                (f"TCP: cannot connect to 127.0.0.1:{port}", "TCP 443"),
                dependents=("clock",))  # fmt: skip
    assert "see dmp_endpoint" in after["clock"]["why"]


def test_the_authenticated_request_tells_a_refused_certificate(
    sandboxes: Sandboxes, foreign_pki: PkiPaths
) -> None:
    """The server checks our certificate: one from another CA gets no HTTP answer (TLS 1.3
    tells the refusal after the handshake, on the GET), and doctor says so."""
    from kiosk.appliance.doctor.endpoint_checks import StepFailed, reach

    sandbox = sandboxes.start()
    pki = sandbox.pki
    answer = reach(sandbox.url, pki.ca, pki.auth, pki.auth_key, 4.0)
    assert answer.status == 405
    assert list(answer.timings) == ["DNS", "TCP", "TLS", "GET"]
    with pytest.raises(StepFailed) as refused:
        reach(sandbox.url, pki.ca, foreign_pki.auth, foreign_pki.auth_key, 4.0)
    assert "refused our TLS client certificate" in refused.value.why
    assert "ORG AUTH_CLI" in refused.value.fix
    with pytest.raises(StepFailed) as untrusted:  # the server's certificate checked too
        reach(sandbox.url, foreign_pki.ca, pki.auth, pki.auth_key, 4.0)
    assert "server's certificate is not trusted" in untrusted.value.why


def test_the_clock_an_hour_off(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    site.sandbox.clock_offset = 3600.0  # the server's Date an hour ahead of ours
    code, after = site.doctor()
    assert code != 0
    seconds = int(after["clock"]["why"].split("local clock ")[1].split(" s ")[0])
    assert abs(seconds - 3600) <= 1, after["clock"]
    assert_only(before, after, "clock", "fail",
                ("s behind the DMP server's", "timedatectl set-ntp true", "VIHF"))  # fmt: skip


# --- the ledger and the storage ----------------------------------------------------------


def test_a_tampered_ledger(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    conn = sqlite3.connect(site.state / "ledger.db", isolation_level=None)
    try:
        conn.execute("DROP TRIGGER IF EXISTS entries_append_only_update")
        conn.execute("UPDATE entries SET amount_cents = 9900 WHERE seq = 2")
    finally:
        conn.close()
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "ledger", "fail",
                ("NOT intact", "entry 2", "kiosk ledger verify"))  # fmt: skip


def test_acts_left_pending(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    consent = ConsentRecord("v1", "ab" * 32, True, True, False, False, "fr", "10001234567")
    with Ledger(site.state / "ledger.db", load_or_create_keys(site.state, "kiosk-doctor")) as book:
        book.begin("DMP_OPEN", "10001234567", "299017500000002", consent)
    code, after = site.doctor()
    assert code == 0
    assert_only(before, after, "ledger_unresolved", "warn",
                ("1 act(s) pending", "CPS PIN", "kiosk ledger pending"))  # fmt: skip


def test_a_kiosk_never_provisioned(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    fresh = site.root / "fresh"
    fresh.mkdir(mode=0o700)
    fresh.chmod(0o700)
    site.set("ledger", path="fresh/ledger.db")
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "ledger", "fail", ("not provisioned", "kiosk provision"),
                dependents=("ledger_unresolved",))  # fmt: skip
    assert list(fresh.iterdir()) == []  # no ledger, no key created


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: test_disk_thresholds covers the check")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk(site: Site, cards: dict[str, Any], small_disk: Path) -> None:
    before = site.statuses()
    for item in site.state.iterdir():
        if item.is_file():
            shutil.copy2(item, small_disk / item.name)
    with (small_disk / "filler").open("wb") as filler, contextlib.suppress(OSError):
        while True:
            filler.write(b"\0" * 1_048_576)
    site.set("ledger", path=str(small_disk / "ledger.db"))
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "disk", "fail", ("MiB free", "cannot write below 100 MiB",
                                                 "journalctl --vacuum-size"))  # fmt: skip


def test_disk_thresholds(tmp_path: Path) -> None:
    from kiosk.appliance.doctor.storage_checks import disk_check

    free = shutil.disk_usage(tmp_path).free
    assert disk_check(tmp_path, fail_below=free + 2**30).status == "fail"
    assert disk_check(tmp_path, fail_below=1, warn_below=free + 2**30).status == "warn"
    assert disk_check(tmp_path / "not" / "yet", fail_below=1, warn_below=2).status == "ok"


@pytest.mark.parametrize(
    ("target", "mode", "hints"),
    [
        ("state", 0o755, ("mode 0755", "chmod 0700")),
        ("state/" + SECRET_FILE, 0o644, (f"{SECRET_FILE} 0644", "chmod 0600")),
    ],
    ids=["state-dir-0755", "secret-0644"],
)
def test_bad_permissions(
    site: Site, cards: dict[str, Any], target: str, mode: int, hints: tuple[str, ...]
) -> None:
    before = site.statuses()
    (site.root / target).chmod(mode)
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "state_dir", "fail", hints)


def test_the_printer_unreachable(site: Site, cards: dict[str, Any]) -> None:
    before = site.statuses()
    site.printer.close()
    code, after = site.doctor()
    assert code != 0
    assert_only(before, after, "printer", "fail", ("unreachable", "[printer] host"))


# --- what the review found ----------------------------------------------------------------


def test_the_endpoint_tries_each_address_in_turn(
    sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS answers an address that cannot be reached first (an IPv6 one, on a Pi with no
    IPv6 route): the next is tried, as the kiosk's transport does, and the check says
    which answered and which did not."""
    from kiosk.appliance.doctor.endpoint_checks import StepFailed, endpoint_check, reach

    sandbox = sandboxes.start()
    pki = sandbox.pki
    closed = socket.create_server(("127.0.0.1", 0))
    dead = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    real = socket.getaddrinfo
    first: list[Any] = [
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", dead, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", dead)),
    ]

    def unreachable_first(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [*first, *real(host, port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", unreachable_first)
    answer = reach(sandbox.url, pki.ca, pki.auth, pki.auth_key, 4.0)
    assert answer.status == 405
    assert answer.address == "127.0.0.1"
    assert [item.split(": ", 1)[0] for item in answer.refused] == ["[::1]", "127.0.0.1"], (
        answer.refused
    )
    check = endpoint_check(sandbox.url, answer)
    assert check.status == "ok", check
    assert "at 127.0.0.1 (tried first, no connection: [::1]" in check.why, check.why

    first.pop()  # nothing reachable at all: every address tried is named
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: first)
    with pytest.raises(StepFailed) as failed:
        reach(sandbox.url, pki.ca, pki.auth, pki.auth_key, 4.0)
    assert failed.value.why.startswith("TCP: cannot connect to 127.0.0.1:"), failed.value.why
    assert "[::1]" in failed.value.why, failed.value.why


def test_the_endpoint_budget_fits_in_its_deadline(site: Site) -> None:
    """The certificate checks come late (just within their wait) and the server never
    answers the handshake: the endpoint still fails for what it is (TLS), within its
    probe's deadline, not as a probe that "did not finish"."""
    from kiosk.appliance.doctor import PROBES
    from kiosk.appliance.doctor.config_checks import load
    from kiosk.appliance.doctor.report import Name, Run, ok, run_probes

    silent = socket.create_server(("127.0.0.1", 0))  # TCP accepted by the kernel, no TLS
    try:
        port = silent.getsockname()[1]
        site.set("dmp", endpoint=f"https://127.0.0.1:{port}/si-dmp-server/v2/services")
        config, _ = load(site.config)
        run = Run(config)
        (endpoint,) = [probe for probe in PROBES if Name.DMP_ENDPOINT in probe.names]

        def certificates() -> None:
            time.sleep(2.8)
            run.publish([ok(Name.CERTIFICATE_CA, "ca"), ok(Name.CERTIFICATE_TLS, "tls")])

        late = threading.Thread(target=certificates, daemon=True)
        started = time.monotonic()
        late.start()
        checks = {check.name: check for check in run_probes([endpoint], run)}
        elapsed = time.monotonic() - started
        late.join()
    finally:
        silent.close()
    check = checks[Name.DMP_ENDPOINT]
    assert check.status == "fail", check
    assert "did not finish" not in check.why, check
    assert check.why.startswith("TLS: no handshake"), check
    assert elapsed < endpoint.deadline, elapsed
    assert "did not finish" not in checks[Name.CLOCK].why, checks[Name.CLOCK]


@pytest.fixture
def nobody_dir() -> Iterator[tuple[Path, pwd.struct_passwd]]:
    """A directory owned by ``nobody`` under /tmp (every directory above it lets anyone
    through, unlike pytest's root 0700 ``tmp_path``), and that user: the service user of
    these tests, while doctor (the tests) runs as root."""
    if os.geteuid() != 0:
        pytest.skip("needs root: doctor's case (sudo kiosk doctor)")
    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody here")
    root = Path(tempfile.mkdtemp(prefix="doctor-nobody-", dir="/tmp"))
    os.chown(root, user.pw_uid, user.pw_gid)
    try:
        yield root, user
    finally:
        shutil.rmtree(root)


def _owned(path: Path, user: pwd.struct_passwd, mode: int = 0o600, data: bytes = b"x") -> Path:
    path.write_bytes(data)
    os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    "target", ["ledger.db", "ledger.db-wal", SECRET_FILE, SIGNING_KEY_FILE, "code-gate.json"]
)
def test_a_state_file_the_service_user_cannot_use(
    nobody_dir: tuple[Path, pwd.struct_passwd], target: str
) -> None:
    """A root-owned 0600 file in the service user's 0700 state directory: root (doctor)
    reads it, the service cannot. Judged for the service user, it fails, naming it."""
    from kiosk.appliance.doctor.report import Name
    from kiosk.appliance.doctor.storage_checks import directory_check, state_files

    root, nobody = nobody_dir
    state = root / "state"
    state.mkdir(mode=0o700)
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    for name in ("ledger.db", "ledger.db-wal", "ledger.db-shm", SECRET_FILE, SIGNING_KEY_FILE,
                 "code-gate.json"):  # fmt: skip
        _owned(state / name, nobody)
    private = (SECRET_FILE, SIGNING_KEY_FILE)
    used = state_files(state / "ledger.db")
    healthy = directory_check(Name.STATE_DIR, state, nobody, private, must_exist=True, used=used)
    assert healthy.status == "ok", healthy
    os.chown(state / target, 0, 0)  # root's, 0600
    check = directory_check(Name.STATE_DIR, state, nobody, private, must_exist=True, used=used)
    assert check.status == "fail", check
    assert f"the service user nobody cannot use: {target} (root 0600" in check.why, check
    assert f"chown nobody:nogroup {state / target}" in check.fix, check


def test_the_state_probe_judges_for_the_service_user(
    nobody_dir: tuple[Path, pwd.struct_passwd], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole probe, as doctor runs it, with ``nobody`` as the service user."""
    from kiosk.appliance.doctor import access, storage_checks
    from kiosk.appliance.doctor.report import Name, Run
    from kiosk.config import load_config

    root, nobody = nobody_dir
    state = root / "state"
    state.mkdir(mode=0o700)
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    _owned(state / "ledger.db", nobody)
    (state / SECRET_FILE).write_bytes(b"secret")
    (state / SECRET_FILE).chmod(0o600)  # root's
    config = root / "kiosk.toml"
    config.write_text(
        f'[ledger]\npath = "{state / "ledger.db"}"\n[kiosk]\nspool = "{root}/spool"\n'
    )
    monkeypatch.setattr(access, "SERVICE_USER", "nobody")
    checks = {c.name: c for c in storage_checks.probe(Run(load_config(config)))}
    assert checks[Name.STATE_DIR].status == "fail", checks[Name.STATE_DIR]
    assert SECRET_FILE in checks[Name.STATE_DIR].why
    assert checks[Name.SPOOL].status == "ok", checks[Name.SPOOL]


def test_certificates_the_service_user_cannot_read(
    nobody_dir: tuple[Path, pwd.struct_passwd], dmp_pki: PkiPaths
) -> None:
    from kiosk.appliance.certificates import CertRole, inspect_pair
    from kiosk.appliance.doctor.certificate_checks import certificate_check, unreadable
    from kiosk.appliance.doctor.report import Name

    root, nobody = nobody_dir
    certs = root / "certs"
    certs.mkdir()
    os.chown(certs, 0, nobody.pw_gid)
    certs.chmod(0o750)  # root:kiosk 0750, as provision makes /etc/kiosk/certs
    ca, cert, key = (_owned(certs / source.name, nobody, data=source.read_bytes())
                     for source in (dmp_pki.ca, dmp_pki.auth, dmp_pki.auth_key))  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    report = inspect_pair(cert, key, ca, CertRole.TLS_CLIENT, now, 30)

    def judged() -> Any:
        return certificate_check(Name.CERTIFICATE_TLS, report, unreadable([cert, key], nobody),
                                 nobody)  # fmt: skip

    assert judged().status == "ok", judged()
    os.chown(key, 0, 0)  # root's 0600: doctor reads it, the service cannot
    check = judged()
    assert check.status == "fail", check
    assert f"{key} (root:root 0600): nobody cannot read it" in check.why, check
    assert f"chown nobody:nogroup {key}" in check.fix, check
    os.chown(key, 0, nobody.pw_gid)
    key.chmod(0o640)  # root:kiosk 0640, as the config: readable through the group
    assert judged().status == "ok", judged()
    os.chown(certs, 0, 0)
    certs.chmod(0o700)  # the directory above them shuts the service out
    assert f"nobody cannot enter {certs}" in judged().why, judged()


def test_the_config_the_service_user_cannot_read(
    nobody_dir: tuple[Path, pwd.struct_passwd], site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.appliance.doctor import access
    from kiosk.appliance.doctor.config_checks import load

    root, nobody = nobody_dir
    config = root / "kiosk.toml"
    shutil.copy(site.config, config)  # root:root 0600
    config.chmod(0o600)
    monkeypatch.setattr(access, "SERVICE_USER", "nobody")
    _, check = load(config)
    assert check.status == "fail", check
    assert f"chown root:nogroup {config}" in check.fix
    os.chown(config, 0, nobody.pw_gid)
    config.chmod(0o640)  # root:kiosk 0640, as install.sh makes it
    assert load(config)[1].status == "ok", load(config)[1]


def test_devices_are_judged_for_the_service_user(
    nobody_dir: tuple[Path, pwd.struct_passwd],
) -> None:
    """The printer's device and the DRM nodes: root may open them, the service user only
    through its owner, group or other bits."""
    from kiosk.appliance.doctor.display_checks import display_check
    from kiosk.appliance.doctor.printer_checks import printer_check
    from kiosk.config import PrinterConfig

    root, nobody = nobody_dir
    device = root / "ttyAMA0"
    device.write_bytes(b"")
    device.chmod(0o660)  # root:root: as root:dialout with the user outside dialout
    printer = PrinterConfig(kind="serial", device=str(device))
    assert printer_check(printer).status == "ok"  # the caller, root
    refused = printer_check(printer, user=nobody)
    assert refused.status == "fail", refused
    assert "nobody cannot write it" in refused.why, refused
    assert "usermod -aG root nobody" in refused.fix, refused
    os.chown(device, 0, nobody.pw_gid)  # the device's group is the user's
    assert printer_check(printer, user=nobody).status == "ok"

    dri = root / "dri"
    dri.mkdir()
    dri.chmod(0o755)
    for node in ("card0", "renderD128"):
        (dri / node).write_bytes(b"")
        (dri / node).chmod(0o660)  # root:root
    env = {"DISPLAY": ""}
    assert display_check(dri, env).status == "ok"
    check = display_check(dri, env, nobody)
    assert check.status == "warn", check
    assert "nobody cannot read and write it" in check.why, check
    for node in ("card0", "renderD128"):
        os.chown(dri / node, 0, nobody.pw_gid)
    assert display_check(dri, env, nobody).status == "ok"


@pytest.mark.parametrize(
    ("tries", "said", "not_said"),
    [
        (2, "a wrong code was typed: 2 more wrong codes block it", "one more"),
        (1, "2 wrong codes were typed: one more wrong code blocks it", "2 more"),
    ],
)
def test_the_pin_tries_left_are_worded_by_the_count(tries: int, said: str, not_said: str) -> None:
    from kiosk.appliance.doctor.card_checks import describe_cps

    card = CpsPublic("0012345678", "20991231", "21", "A")
    check = describe_cps("Reader 1", card, tries, dt.datetime.now(dt.UTC))
    assert check.status == "warn", check
    assert said in check.why, check.why
    assert not_said not in check.why, check.why


def test_the_json_is_designs_and_the_text_shows_the_times(tmp_path: Path) -> None:
    """DESIGN §3: ``{"checks": [{"name", "status", "why", "fix"}]}``, nothing else (the
    probes' times are for the text output only)."""
    from kiosk.appliance.doctor.report import Check, Name, Status

    assert set(Check(Name.DISK, Status.OK, "w", "f", seconds=1.5).as_json()) == {
        "name", "status", "why", "fix"}  # fmt: skip
    config = tmp_path / "kiosk.toml"
    config.write_text('[printer]\nkind = "laser"\n')
    result = run_kiosk("doctor", "--config", str(config), "--json")
    document = json.loads(result.stdout)
    assert list(document) == ["checks"], document
    for check in document["checks"]:
        assert list(check) == ["name", "status", "why", "fix"], check
        assert all(isinstance(value, str) for value in check.values()), check
    text = run_kiosk("doctor", "--config", str(config))
    assert " ms)" in text.stdout, text.stdout


def test_doctor_times() -> None:
    """Not a benchmark: the wall times of this module's doctor runs, for the report."""
    if TIMES:
        print(f"\ndoctor runs: {len(TIMES)}, max {max(TIMES):.2f} s, "
              f"median {sorted(TIMES)[len(TIMES) // 2]:.2f} s")  # fmt: skip
