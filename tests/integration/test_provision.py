"""`kiosk provision` as a technician runs it: the real CLI in a subprocess, from flags (PEM,
PKCS#12), from prompts on a terminal, refusals that name the file and write nothing,
re-provisioning that keeps the ledger and its keys, a training kiosk against a sandbox."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pty
import select
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from kiosk.appliance.startup_checks import check_config
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.config import load_config
from kiosk.core.code_gate import Accepted, CodeGate
from kiosk.core.pharmacist_code import code_matches, hash_code, hashed_code_checker
from kiosk.sim.sandbox.pki import PkiPaths, _name, ensure_pki, issue, new_key, write_key, write_pem
from tests.conftest import CARDS, ROOT, run_kiosk
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    Sandboxes,
    dmp_pki_fixture,
    sandboxes_fixture,
)

CODE = "97531864"
SECRETS = ("ledger.secret", "ledger-signing.key", "ledger-signing.pub", "ledger.db")


@pytest.fixture(scope="module", name="pki")
def pki_fixture(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("provision-pki"))


class Site:
    """A scratch /etc/kiosk and /var/lib/kiosk, and the flags pointing at them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.out, self.state = root / "etc" / "kiosk.toml", root / "state"
        self.certs = self.out.parent / "certs"
        root.mkdir(exist_ok=True)
        self.code_file = root / "code"
        self.code_file.write_text(CODE + "\n")

    def flags(self, *more: str) -> list[str]:
        return ["--out", str(self.out), "--state-dir", str(self.state),
                "--code-file", str(self.code_file), *more]  # fmt: skip

    def snapshot(self) -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(self.root.rglob("*")) if p.is_file()}


def provision(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with stdin not a terminal: nothing may be prompted."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "provision", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def site_flags(pki: PkiPaths, **certs: Path) -> list[str]:
    chosen = {"ca": pki.ca, "auth-cert": pki.auth, "auth-key": pki.auth_key,
              "sign-cert": pki.sign, "sign-key": pki.sign_key}  # fmt: skip
    for name, path in certs.items():
        chosen.pop(name.replace("_", "-").replace("-p12", "-cert"), None)
        chosen.pop(name.replace("_", "-").replace("-p12", "-key"), None)
        chosen[name.replace("_", "-")] = path
    flags = [
        "--pharmacy-name", "Pharmacie du Port", "--finess", "130012345",
        "--kiosk-id", "kiosk-port-1", "--endpoint", "https://dmp.example.fr/services",
    ]  # fmt: skip
    for name, path in chosen.items():
        flags += [f"--{name}", str(path)]
    return flags


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_provisioned(site: Site, pki: PkiPaths) -> None:
    config = load_config(site.out)
    check_config(config)  # what `kiosk run` checks before any window
    assert config.dmp.structure_id == "3130012345"
    assert config.ledger.kiosk_id == "kiosk-port-1"
    assert config.ledger.path == str(site.state / "ledger.db")
    assert code_matches(CODE, config.kiosk.pharmacist_code_hash)
    assert mode(site.out) == 0o640
    assert mode(site.certs) == 0o750
    assert mode(site.out.parent) == 0o750  # created by provision here (the install makes it so)
    for name in ("ca.pem", "auth.pem", "auth.key", "sign.pem", "sign.key"):
        assert mode(site.certs / name) == 0o600, name
    assert mode(site.state) == 0o700
    for name in ("ledger.secret", "ledger-signing.key", "code-gate.json"):
        assert mode(site.state / name) == 0o600, name
    assert (site.certs / "auth.pem").read_bytes() == pki.auth.read_bytes()
    assert (site.certs / "sign.key").read_bytes() == pki.sign_key.read_bytes()
    gate = CodeGate(hashed_code_checker(config.kiosk.pharmacist_code_hash), site.state)
    assert gate.try_code(CODE) == Accepted()  # a fresh gate: not locked on the first run


def test_provision_from_pem(pki: PkiPaths, tmp_path: Path) -> None:
    site = Site(tmp_path)
    result = provision(*site_flags(pki), *site.flags("--json"))
    assert result.returncode == 0, result.stderr
    assert_provisioned(site, pki)
    summary = json.loads(result.stdout)
    assert summary["config"] == str(site.out)
    assert str(site.state / "ledger.secret") in summary["written"]
    assert summary["kept"] == []
    assert any("kiosk doctor --config" in line for line in summary["remains"])
    assert any("owners:" in line for line in summary["remains"])  # no `kiosk` user here
    assert CODE not in result.stdout + result.stderr


def _p12(pki: PkiPaths, cert: Path, key: Path, path: Path, password: bytes) -> Path:
    private = serialization.load_pem_private_key(key.read_bytes(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    leaf = x509.load_pem_x509_certificate(cert.read_bytes())
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"pharmacy", private, leaf, [ca], serialization.BestAvailableEncryption(password)
    ))  # fmt: skip
    return path


def test_provision_from_pkcs12_passwords_from_a_file(pki: PkiPaths, tmp_path: Path) -> None:
    site = Site(tmp_path)
    auth = _p12(pki, pki.auth, pki.auth_key, tmp_path / "AUTH_CLI.p12", b"mot de passe 1")
    sign = _p12(pki, pki.sign, pki.sign_key, tmp_path / "SIGN.p12", b"mot de passe 2")
    passwords = tmp_path / "passwords"
    passwords.write_text("mot de passe 1\nmot de passe 2\n")
    result = provision(*site_flags(pki, auth_p12=auth, sign_p12=sign),
                       "--p12-password-file", str(passwords), *site.flags())  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_provisioned(site, pki)
    assert (site.certs / "auth.key").read_bytes() == pki.auth_key.read_bytes()
    assert "mot de passe" not in result.stdout + result.stderr
    assert "still to do:" in result.stdout


def _expired(pki: PkiPaths, tmp_path: Path) -> dict[str, Path]:
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key, now = new_key(), dt.datetime.now(dt.UTC)
    cert = issue(
        _name("ORG AUTH_CLI"), key, ca, ca_key, usage=[ExtendedKeyUsageOID.CLIENT_AUTH],
        not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1),
    )  # fmt: skip
    write_pem(tmp_path / "old-auth.pem", cert)
    write_key(tmp_path / "old-auth.key", key)
    return {"auth_cert": tmp_path / "old-auth.pem", "auth_key": tmp_path / "old-auth.key"}


REFUSALS: dict[str, Callable[[PkiPaths, Path], tuple[dict[str, Path], list[str], str]]] = {
    "wrong PKCS#12 password": lambda pki, tmp: (
        {"auth_p12": _p12(pki, pki.auth, pki.auth_key, tmp / "AUTH_CLI.p12", b"right")},
        ["--p12-password-file", str(_write(tmp / "pw", "wrong\n"))],
        "AUTH_CLI.p12: wrong PKCS#12 password",
    ),
    "certificate not matching its key": lambda pki, _tmp: (
        {"sign_key": pki.auth_key}, [], f"{pki.sign}: does not match its key {pki.auth_key}"
    ),
    "expired certificate": lambda pki, tmp: (_expired(pki, tmp), [], "old-auth.pem: expired on"),
    "signature certificate for TLS": lambda pki, _tmp: (
        {"auth_cert": pki.sign, "auth_key": pki.sign_key}, [],
        f"{pki.sign}: not a TLS client certificate",
    ),
    "certificate from another CA": lambda pki, tmp: (
        {"ca": ensure_pki(tmp / "other").ca}, [], f"{pki.auth}: not issued by the CA in",
    ),
    "missing key file": lambda _pki, tmp: (
        {"sign_key": tmp / "absent.key"}, [], f"{tmp / 'absent.key'}: no such file"
    ),
}  # fmt: skip


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", REFUSALS)
def test_a_bad_certificate_is_refused_naming_the_file(
    case: str, pki: PkiPaths, tmp_path: Path
) -> None:
    (tmp_path / "inputs").mkdir()
    certs, more, message = REFUSALS[case](pki, tmp_path / "inputs")
    site = Site(tmp_path / "site")
    before = site.snapshot()
    result = provision(*site_flags(pki, **certs), *more, *site.flags())
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("kiosk: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert site.snapshot() == before  # nothing written
    assert not site.out.parent.exists()
    assert not site.state.exists()


def test_a_refused_reprovision_leaves_the_site_as_it_was(pki: PkiPaths, tmp_path: Path) -> None:
    site = Site(tmp_path)
    assert provision(*site_flags(pki), *site.flags()).returncode == 0
    before = site.snapshot()
    result = provision(*site_flags(pki, auth_cert=pki.sign, auth_key=pki.sign_key), *site.flags())
    assert result.returncode != 0
    assert f"{pki.sign}: not a TLS client certificate" in result.stderr
    assert site.snapshot() == before


def test_reprovisioning_keeps_the_ledger_and_its_keys(pki: PkiPaths, tmp_path: Path) -> None:
    site = Site(tmp_path)
    assert provision(*site_flags(pki), *site.flags()).returncode == 0
    config = load_config(site.out)
    with Ledger(Path(config.ledger.path), load_or_create_keys(site.state, "kiosk-port-1")):
        pass  # the kiosk ran: its ledger exists
    with site.out.open("a", encoding="utf-8") as handle:  # the printer, set by hand
        handle.write('host = "192.0.2.7"\n')
    edited = site.out.read_text().replace('kind = "none"', 'kind = "network"')
    site.out.write_text(edited)
    kept = {name: (site.state / name).read_bytes() for name in SECRETS}
    site.code_file.write_text("2468\n")

    result = provision(*site_flags(pki), "--pharmacy-name", "Pharmacie du Quai",
                       *site.flags("--json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {name: (site.state / name).read_bytes() for name in SECRETS} == kept
    summary = json.loads(result.stdout)
    assert {Path(p).name for p in summary["kept"]} >= set(SECRETS)
    again = load_config(site.out)
    assert again.kiosk.pharmacy_name == "Pharmacie du Quai"  # the last flag wins
    assert code_matches("2468", again.kiosk.pharmacist_code_hash)
    assert (again.printer.kind, again.printer.host) == ("network", "192.0.2.7")
    assert not any("printer:" in line for line in summary["remains"])
    check_config(again)


def test_missing_flags_without_a_terminal_are_refused(pki: PkiPaths, tmp_path: Path) -> None:
    site = Site(tmp_path)
    flags = site_flags(pki)
    without_finess = flags[:2] + flags[4:]
    result = provision(*without_finess, *site.flags())
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "kiosk: --finess: missing (and stdin is not a terminal to ask for it)"
    )
    no_code = provision(*flags, "--out", str(site.out), "--state-dir", str(site.state))
    assert no_code.returncode != 0
    assert "--code-file: missing" in no_code.stderr
    wrong_first = provision(*site_flags(pki, auth_cert=pki.sign, auth_key=pki.sign_key),
                            "--out", str(site.out), "--state-dir", str(site.state))  # fmt: skip
    assert f"{pki.sign}: not a TLS client" in wrong_first.stderr  # before the code is asked
    p12 = _p12(pki, pki.auth, pki.auth_key, tmp_path / "a.p12", b"pw")
    no_password = provision(*site_flags(pki, auth_p12=p12), *site.flags())
    assert f"{p12}: its password is needed: --p12-password-file" in no_password.stderr
    bad = provision(*site_flags(pki), "--finess", "12345", *site.flags())
    assert "--finess: expected the 9-character FINESS number" in bad.stderr
    site.code_file.write_text("12ab\n")
    bad_code = provision(*site_flags(pki), *site.flags())
    assert "the pharmacist code is 4 to 8 digits" in bad_code.stderr
    assert not site.out.parent.exists()
    assert not site.state.exists()


def test_service_user_owns_the_secrets_when_root(pki: PkiPaths, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("ownership is only set when provisioning as root")
    import grp
    import pwd

    nobody = pwd.getpwnam("nobody")
    site = Site(tmp_path)
    result = provision(*site_flags(pki), *site.flags("--user", "nobody", "--json"))
    assert result.returncode == 0, result.stderr
    assert not any("owners:" in line for line in json.loads(result.stdout)["remains"])
    for path in (site.certs / "auth.key", site.state, site.state / "ledger.secret"):
        assert (path.stat().st_uid, path.stat().st_gid) == (nobody.pw_uid, nobody.pw_gid)
    config = site.out.stat()
    assert (config.st_uid, grp.getgrgid(config.st_gid).gr_gid) == (0, nobody.pw_gid)
    assert (site.certs.stat().st_uid, site.certs.stat().st_gid) == (0, nobody.pw_gid)


class Terminal:
    """`kiosk provision` on a pseudo-terminal (its controlling terminal, as for a person)."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "kiosk.cli", "provision", *args]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: never returns
            os.execve(sys.executable, command, env)
        self.transcript, self.seen = "", 0  # what was printed; how much of it was matched

    def expect(self, text: str, timeout: float = 20) -> None:
        """Wait for ``text`` printed after what was matched so far."""
        deadline = time.monotonic() + timeout
        while text not in self.transcript[self.seen :]:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in {self.transcript!r}"
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # the child exited
                    chunk = b""
                assert chunk, f"exited before {text!r}: {self.transcript!r}"
                self.transcript += chunk.decode("utf-8", "replace")
        self.seen = self.transcript.index(text, self.seen) + len(text)

    def answer(self, prompt: str, line: str) -> None:
        self.expect(prompt)
        os.write(self.fd, line.encode() + b"\r")

    def argv(self) -> list[str]:
        return Path(f"/proc/{self.pid}/cmdline").read_bytes().decode().split("\x00")

    def finish(self) -> int:
        self.expect("still to do:")
        with contextlib.suppress(OSError):
            while chunk := os.read(self.fd, 4096):
                self.transcript += chunk.decode("utf-8", "replace")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def test_interactive_prompts_never_echo_the_code(pki: PkiPaths, tmp_path: Path) -> None:
    site = Site(tmp_path)
    p12 = _p12(pki, pki.auth, pki.auth_key, tmp_path / "AUTH_CLI.p12", b"s3cret-p12")
    term = Terminal("--out", str(site.out), "--state-dir", str(site.state))
    term.answer("Pharmacy name:", "Pharmacie du Port")
    term.answer("FINESS number:", "1300123")  # a mistake: asked again
    term.answer("FINESS number:", "130012345")
    term.answer("Kiosk id:", "kiosk-port-1")
    term.answer("DMP endpoint [https://lps2.dmp.gouv.fr/si-dmp-server/v2/services]:",
                "https://dmp.example.fr/services")  # fmt: skip
    term.answer("CA certificate (.pem):", str(pki.ca))
    term.answer('TLS client certificate ("ORG AUTH_CLI") (.p12 or .pem):', str(p12))
    term.answer(f"Password of {p12}:", "s3cret-p12")
    term.answer('Signature certificate ("ORG SIGN") (.p12 or .pem):', str(pki.sign))
    term.answer(f"Private key of {pki.sign}:", str(pki.sign_key))
    term.answer("Pharmacist code (4 to 8 digits):", CODE)
    assert not any(CODE in arg for arg in term.argv())
    term.answer("The same code again:", "11112222")
    term.expect("the two codes differ")
    term.answer("Pharmacist code (4 to 8 digits):", CODE)
    term.answer("The same code again:", CODE)
    assert term.finish() == 0, term.transcript
    assert CODE not in term.transcript  # never echoed
    assert "s3cret-p12" not in term.transcript
    assert "1300123" in term.transcript  # what is not secret is echoed as typed
    assert_provisioned(site, pki)


def test_a_training_kiosk_talks_to_its_sandbox(sandboxes: Sandboxes, tmp_path: Path) -> None:
    server = sandboxes.start()
    site = Site(tmp_path / "site")
    result = provision("--sandbox", str(server.pki.root), "--endpoint", server.url,
                       *site.flags())  # fmt: skip
    assert result.returncode == 0, result.stderr
    port = server.server_address[1]
    assert f"kiosk dmp sandbox --data {server.pki.root} --port {port}" in result.stdout
    config = load_config(site.out)
    check_config(config)
    assert config.dmp.structure_id == server.structure_id
    assert config.ledger.kiosk_id == "kiosk-training"
    status = run_kiosk(
        "dmp", "status", "--config", str(site.out), "--json",
        "--profile", str(CARDS / "vitale-famille-martin.json"),
        "--cps-profile", str(CARDS / "cps-dupont-titulaire.json"),
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "not_found"
    assert server.received("status") == 1


def test_a_sandbox_directory_without_its_pki_is_refused(tmp_path: Path) -> None:
    site = Site(tmp_path)
    result = provision("--sandbox", str(tmp_path / "empty"), *site.flags())
    assert result.returncode != 0
    assert f"--sandbox {tmp_path / 'empty'}: no ca.pem" in result.stderr


def test_sandbox_defaults_and_a_name_that_needs_quoting(tmp_path: Path) -> None:
    sandbox = ensure_pki(tmp_path / "sandbox")
    site = Site(tmp_path / "site")
    name = 'Pharmacie "L\'Étoile" \\ Nord'
    result = provision("--sandbox", str(sandbox.root), "--pharmacy-name", name, *site.flags())
    assert result.returncode == 0, result.stderr
    config = load_config(site.out)
    assert config.dmp.endpoint == "https://127.0.0.1:8443/si-dmp-server/v2/services"
    assert config.kiosk.pharmacy_name == name
    assert config.dmp.structure_id == "3750012345"  # the sandbox's pharmacy.json
    assert (site.certs / "ca.pem").read_bytes() == sandbox.ca.read_bytes()
    assert f"kiosk dmp sandbox --data {sandbox.root}\n" in result.stdout


def test_an_unreadable_secret_is_never_replaced(pki: PkiPaths, tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.state.mkdir()
    (site.state / "ledger.secret").write_text("not hex\n")
    before = site.snapshot()
    result = provision(*site_flags(pki), *site.flags())
    assert result.returncode != 0
    assert f"{site.state / 'ledger.secret'}: exists but cannot be read" in result.stderr
    assert site.snapshot() == before
    assert not site.out.parent.exists()


def test_a_certificate_expiring_soon_is_taken_with_a_warning(pki: PkiPaths, tmp_path: Path) -> None:
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key, now = new_key(), dt.datetime.now(dt.UTC)
    cert = issue(_name("ORG SIGN"), key, ca, ca_key, not_after=now + dt.timedelta(days=12))
    write_pem(tmp_path / "sign-soon.pem", cert)
    write_key(tmp_path / "sign-soon.key", key)
    site = Site(tmp_path / "site")
    flags = site_flags(pki, sign_cert=tmp_path / "sign-soon.pem",
                       sign_key=tmp_path / "sign-soon.key")  # fmt: skip
    result = provision(*flags, *site.flags("--json"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["warnings"] == [
        line.removeprefix("certificate: ") for line in summary["remains"][:1]
    ]
    assert "sign-soon.pem: expires in 11 days" in summary["warnings"][0]
    assert any(f"delete {site.code_file}" in line for line in summary["remains"])


def _reprovisioned_site(pki: PkiPaths, root: Path, *more: str) -> Site:
    """A site provisioned once (as ``nobody`` when root: ownership is then set)."""
    site = Site(root)
    result = provision(*site_flags(pki), *site.flags(*more))
    assert result.returncode == 0, result.stderr
    return site


def _as_service(*more: str) -> tuple[str, ...]:
    return ("--user", "nobody", *more) if os.geteuid() == 0 else more


def _refused_in_one_line(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("kiosk: ")
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


LINKS = ("state/code-gate.json", "state/ledger-signing.pub", "state/ledger.secret",
         "etc/certs/auth.key", "state", "etc/certs")  # fmt: skip


@pytest.mark.parametrize("name", LINKS)
def test_a_symbolic_link_in_the_state_or_certs_directory_is_refused(
    name: str, pki: PkiPaths, tmp_path: Path
) -> None:
    """The kiosk user owns the state directory: a link it plants there must not hand it
    the link's target on the next re-provision as root (nor be written through)."""
    site = _reprovisioned_site(pki, tmp_path / "site", *_as_service())
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "file").write_text("root's\n")
    link = site.root / name
    if link.is_dir():  # a directory: its copy is the target
        os.rename(link, victim / "copy")
        target = victim / "copy"
    elif name.endswith(".pub"):
        link.unlink()
        target = victim / "absent"  # dangling: must not be created
    else:
        link.unlink()
        target = victim / "file"
    link.symlink_to(target)
    before = {str(p): (p.lstat().st_uid, p.lstat().st_mode) for p in [victim, *victim.rglob("*")]}
    snapshot = site.snapshot()
    result = provision(*site_flags(pki), *site.flags(*_as_service()))
    _refused_in_one_line(result, f"{link}: is a symbolic link")
    after = {str(p): (p.lstat().st_uid, p.lstat().st_mode) for p in [victim, *victim.rglob("*")]}
    assert after == before  # the target's owner and mode untouched
    assert not (victim / "absent").exists()
    assert site.snapshot() == snapshot  # nothing written
    assert link.is_symlink()


@pytest.mark.parametrize("lost", ["ledger.secret", "ledger-signing.key"])
def test_a_ledger_without_its_secret_or_key_is_refused(
    lost: str, pki: PkiPaths, tmp_path: Path
) -> None:
    site = _reprovisioned_site(pki, tmp_path)
    with Ledger(site.state / "ledger.db", load_or_create_keys(site.state, "kiosk-port-1")):
        pass
    (site.state / lost).unlink()
    before = site.snapshot()
    result = provision(*site_flags(pki), *site.flags())
    _refused_in_one_line(result, f"a ledger without its {lost}")
    assert "restore" in result.stderr
    assert "the backup or the old device" in result.stderr
    assert site.snapshot() == before
    assert not (site.state / lost).exists()


def _rsa_pem(pki: PkiPaths) -> bytes:
    return pki.auth_key.read_bytes()  # a certificate's RSA key: not the ledger's Ed25519


BAD_SECRETS = {
    "an RSA signing key": ("ledger-signing.key", _rsa_pem, "is not an Ed25519 key"),
    "garbage signing key": ("ledger-signing.key", lambda _pki: b"garbage\n", "cannot be read"),
    "a short secret": ("ledger.secret", lambda _pki: b"abcd\n", "is not a ledger secret"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_SECRETS)
def test_a_wrong_secret_is_refused_before_anything_is_written(
    case: str, pki: PkiPaths, tmp_path: Path
) -> None:
    name, data, message = BAD_SECRETS[case]
    site = Site(tmp_path)
    site.state.mkdir()
    (site.state / name).write_bytes(data(pki))
    before = site.snapshot()
    result = provision(*site_flags(pki), *site.flags())
    _refused_in_one_line(result, f"{site.state / name}: exists but {message}")
    assert site.snapshot() == before
    assert not site.out.parent.exists()  # no certificate written either


def test_an_unexpected_failure_while_writing_is_one_line(
    pki: PkiPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.appliance import provision as module
    from kiosk.appliance.certificates import CertRole
    from kiosk.appliance.provision_config import ProvisionError
    from kiosk.appliance.provision_config import Site as SiteInfo

    def broken(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(module, "write_state", broken)
    endpoint = "https://dmp.example.fr/services"
    info = SiteInfo("Pharmacie du Port", "130012345", "kiosk-port-1", endpoint,
                    hash_code(CODE), tmp_path / "state")  # fmt: skip
    request = module.Request(
        info, pki.ca, module.PairSource(CertRole.TLS_CLIENT, pki.auth, pki.auth_key),
        module.PairSource(CertRole.SIGNATURE, pki.sign, pki.sign_key), tmp_path / "kiosk.toml",
    )  # fmt: skip
    expected = r"stopped while writing \(RuntimeError: disk on fire\); stopped part way"
    with pytest.raises(ProvisionError, match=expected):
        module.provision(request)
    assert not (tmp_path / "kiosk.toml").exists()  # the config, written last, is not


def test_reprovisioning_keeps_the_ledger_path_and_its_kiosk_id(
    pki: PkiPaths, tmp_path: Path
) -> None:
    from tests.integration.ledger_writer import consent, ins

    site = _reprovisioned_site(pki, tmp_path)
    books = site.state / "books.db"  # moved by hand, in the state directory
    site.out.write_text(site.out.read_text().replace(str(site.state / "ledger.db"), str(books)))
    with Ledger(books, load_or_create_keys(site.state, "kiosk-port-1")) as book:
        book.begin("DMP_OPEN", "10001234567", ins(1), consent("10001234567"))
    again = provision(*site_flags(pki), *site.flags("--json"))
    assert again.returncode == 0, again.stderr
    assert load_config(site.out).ledger.path == str(books)
    assert str(books) in json.loads(again.stdout)["kept"]

    renamed = [*site_flags(pki)[:4], "--kiosk-id", "kiosk-port-2", *site_flags(pki)[6:]]
    before = site.snapshot()
    refused = provision(*renamed, *site.flags())
    _refused_in_one_line(refused, f"the ledger {books} was written as kiosk 'kiosk-port-1'")
    assert "--new-kiosk-id" in refused.stderr
    assert site.snapshot() == before
    # the config edited by hand to the new id: the ledger's own entries still say the old one
    site.out.write_text(site.out.read_text().replace('"kiosk-port-1"', '"kiosk-port-2"'))
    assert provision(*renamed, *site.flags()).returncode != 0
    accepted = provision(*renamed, *site.flags("--new-kiosk-id"))
    assert accepted.returncode == 0, accepted.stderr
    assert load_config(site.out).ledger.kiosk_id == "kiosk-port-2"


def test_a_ledger_path_outside_the_state_directory_is_refused(
    pki: PkiPaths, tmp_path: Path
) -> None:
    site = _reprovisioned_site(pki, tmp_path)
    elsewhere = tmp_path / "elsewhere" / "ledger.db"
    site.out.write_text(site.out.read_text().replace(str(site.state / "ledger.db"), str(elsewhere)))
    result = provision(*site_flags(pki), *site.flags())
    _refused_in_one_line(result, f"its [ledger] path {elsewhere} is not in --state-dir")


def test_every_command_loads_none_of_provisions_imports() -> None:
    """`kiosk run` pays for `import kiosk.cli`: provision's heavy imports are deferred."""
    code = (
        "import sys, kiosk.cli; print(' '.join(m for m in ('kiosk.dmp.client', 'signxml', "
        "'lxml', 'cryptography.x509', 'kiosk.appliance.provision', "
        "'kiosk.appliance.certificates') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60, check=True)  # fmt: skip
    assert result.stdout.strip() == ""
    from kiosk.appliance.provision_config import SERVICES_PATH
    from kiosk.dmp.client import SERVICES_PATH as CLIENTS

    assert SERVICES_PATH == CLIENTS  # provision's copy, kept without importing the client


def test_a_pkcs12_intermediate_is_kept_after_the_leaf(pki: PkiPaths, tmp_path: Path) -> None:
    """IGC-Santé's PKCS#12 carry the leaf's intermediate authority: it chains the leaf to
    the CA file and is written after the leaf (the root, the CA file's, is not)."""
    ca = x509.load_pem_x509_certificate(pki.ca.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    middle_key = new_key()
    middle = issue(_name("ORGANISATIONS"), middle_key, ca, ca_key, ca=True)
    leaf_key = new_key()
    leaf = issue(_name("ORG AUTH_CLI"), leaf_key, middle, middle_key,
                 usage=[ExtendedKeyUsageOID.CLIENT_AUTH])  # fmt: skip
    p12 = tmp_path / "AUTH_CLI.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"pharmacy", leaf_key, leaf, [middle, ca], serialization.BestAvailableEncryption(b"pw")
    ))  # fmt: skip
    (tmp_path / "pw").write_text("pw\n")
    site = Site(tmp_path / "site")
    result = provision(*site_flags(pki, auth_p12=p12), "--p12-password-file",
                       str(tmp_path / "pw"), *site.flags())  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = x509.load_pem_x509_certificates((site.certs / "auth.pem").read_bytes())
    assert written == [leaf, middle]
    check_config(load_config(site.out))
