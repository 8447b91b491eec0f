"""`kiosk run --config FILE --autopilot PLAN` refuses, in one line on stderr with a
non-zero exit and before any display or window exists, to drive a kiosk whose DMP is not
a loopback sandbox trusting the sandbox's test CA (a real-looking endpoint, a loopback
one trusting another CA or a file that is no certificate), or with a broken plan; and a
loopback sandbox config with a good plan does get through to the display, whose Xvfb is
started before Kivy is imported.

"Before any window" is observed, not assumed: ``Xvfb`` on the child's PATH is a stand-in
that records its arguments and fails, so any attempt to start the display leaves a mark
(and ends the run at once, with no X server to clean up); Kivy logs its version when it
is imported, so a window opened before the display shows in stderr; and the run's working
directory must stay free of ``out/`` (no screenshot directory, no receipt spool) and the
config's ledger must not be created. No pcscd is needed: nothing reaches the cards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kiosk.appliance.startup_checks import check_config
from kiosk.config import load_config
from kiosk.core.pharmacist_code import hash_code
from kiosk.sim.data import DEFAULT_PLAN
from kiosk.sim.demo import demo_config
from kiosk.sim.sandbox.pki import PkiPaths, ensure_pki, load_pharmacy, write_pem

REAL_ENDPOINT = "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services"
LOOPBACK = "https://127.0.0.1:8443/si-dmp-server/v2/services"  # nothing listens: not reached
CERTIFICATES = ("ca", "auth_cert", "auth_key", "sign_cert", "sign_key")


@pytest.fixture(scope="module")
def sandbox_pki(tmp_path_factory: pytest.TempPathFactory) -> PkiPaths:
    return ensure_pki(tmp_path_factory.mktemp("sandbox-pki"))


class Kiosk:
    """``kiosk run`` as a technician would type it in ``work`` (no $DISPLAY), with a
    stand-in ``Xvfb`` first on the PATH that records each start in ``xvfb_log``."""

    def __init__(self, tmp_path: Path) -> None:
        self.work = tmp_path / "work"
        self.work.mkdir()
        fake_bin = tmp_path / "bin"
        fake_bin.mkdir()
        self.xvfb_log = tmp_path / "xvfb-started"
        xvfb = fake_bin / "Xvfb"
        xvfb.write_text(f'#!/bin/sh\necho "$@" >> "{self.xvfb_log}"\nexit 1\n')
        xvfb.chmod(0o755)
        self.env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        self.env["PATH"] = f"{fake_bin}{os.pathsep}{os.environ.get('PATH', '')}"

    def run(self, config: Path, plan: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config),
             "--autopilot", str(plan)],
            capture_output=True, text=True, timeout=60, env=self.env, cwd=self.work,
            check=False,
        )  # fmt: skip

    def assert_refused_before_any_window(
        self, result: subprocess.CompletedProcess[str], config: Path, *words: str
    ) -> None:
        assert result.returncode != 0, result.stdout
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("kiosk: "), result.stderr
        for word in words:
            assert word in result.stderr, result.stderr
        assert result.stdout == ""  # no summary: nothing was driven
        assert not self.xvfb_log.exists(), "a display was started before the refusal"
        assert "kivy" not in result.stderr.lower()  # Kivy was never imported: no window
        assert not (self.work / "out").exists()  # no out/shots, no receipts spool
        assert not Path(load_config(config).ledger.path).exists()  # the ledger not opened


@pytest.fixture
def kiosk(tmp_path: Path) -> Kiosk:
    return Kiosk(tmp_path)


def site_config(directory: Path, endpoint: str, certs: dict[str, Path]) -> Path:
    """A kiosk's config as `kiosk provision` would leave it in /etc/kiosk: the five
    certificate files beside it, the pharmacist code as a hash, the state elsewhere."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[dmp]", f'endpoint = "{endpoint}"']
    for key in CERTIFICATES:
        target = directory / "certs" / certs[key].name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(certs[key], target)
        lines.append(f'{key} = "{target}"')
    lines += [
        'structure_id = "3750012345"',
        "",
        "[ledger]",
        f'path = "{directory.parent / "var" / "ledger.db"}"',
        'kiosk_id = "kiosk-pharmacie-centrale-1"',
        "",
        "[kiosk]",
        'pharmacy_name = "Pharmacie Centrale"',
        f'pharmacist_code_hash = "{hash_code("13579")}"',
        f'spool = "{directory.parent / "var" / "receipts"}"',
    ]
    path = directory / "kiosk.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check_config(load_config(path))  # what a plain `kiosk run` checks passes: only the
    return path  # autopilot's own check can refuse it


def sandbox_certs(pki: PkiPaths) -> dict[str, Path]:
    return {"ca": pki.ca, "auth_cert": pki.auth, "auth_key": pki.auth_key,
            "sign_cert": pki.sign, "sign_key": pki.sign_key}  # fmt: skip


def other_ca(path: Path, common_name: str) -> Path:
    """A self-signed CA certificate that is not the sandbox's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ASIP-SANTE"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    write_pem(path, cert)
    return path


@pytest.mark.parametrize(
    "endpoint",
    [
        REAL_ENDPOINT,
        "https://127.0.0.1.example.org/si-dmp-server/v2/services",  # starts like loopback
        "https://localhost.example.org:8443/si-dmp-server/v2/services",
        "https://10.0.0.5:8443/si-dmp-server/v2/services",  # the pharmacy's LAN
    ],
)
def test_a_dmp_that_is_not_on_loopback_is_refused(
    kiosk: Kiosk, tmp_path: Path, sandbox_pki: PkiPaths, endpoint: str
) -> None:
    """Even with the sandbox's own certificates: the endpoint alone decides."""
    config = site_config(tmp_path / "etc-kiosk", endpoint, sandbox_certs(sandbox_pki))
    result = kiosk.run(config, DEFAULT_PLAN)
    host = endpoint.split("/")[2].split(":")[0]
    kiosk.assert_refused_before_any_window(result, config, "loopback sandbox", host)


@pytest.mark.parametrize("ca", ["IGC-Santé test", "not a certificate"])
def test_a_loopback_dmp_trusting_another_ca_is_refused(
    kiosk: Kiosk, tmp_path: Path, sandbox_pki: PkiPaths, ca: str
) -> None:
    """A kiosk whose DMP is reached through a loopback tunnel still trusts IGC-Santé:
    a loopback endpoint is not enough, the CA must be the sandbox's test CA."""
    foreign = tmp_path / "foreign-ca.pem"
    if ca == "not a certificate":
        foreign.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n", encoding="ascii")
    else:
        other_ca(foreign, ca)
    certs = {**sandbox_certs(sandbox_pki), "ca": foreign}
    config = site_config(tmp_path / "etc-kiosk", LOOPBACK, certs)
    result = kiosk.run(config, DEFAULT_PLAN)
    kiosk.assert_refused_before_any_window(result, config, "test CA", "[dmp] ca")


@pytest.mark.parametrize(
    ("plan", "words"),
    [
        ({"beneficiary": "zero"}, ["beneficiary", "expected an int, got str"]),
        ({"benificiary": 1}, ["unknown key 'benificiary'", "did you mean 'beneficiary'"]),
    ],
)
def test_a_broken_plan_is_refused_on_a_sandbox_kiosk(
    kiosk: Kiosk, tmp_path: Path, sandbox_pki: PkiPaths, plan: dict[str, object],
    words: list[str],
) -> None:  # fmt: skip
    config = demo_config(tmp_path, LOOPBACK, sandbox_pki.root, tmp_path / "out")
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    result = kiosk.run(config, plan_path)
    kiosk.assert_refused_before_any_window(result, config, "plan.json", *words)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"],
)
def test_a_loopback_sandbox_kiosk_is_driven_and_its_display_comes_first(
    kiosk: Kiosk, tmp_path: Path, sandbox_pki: PkiPaths, host: str
) -> None:
    """The control: a loopback sandbox config (any 127/8 address, ``localhost``, ``::1``)
    passes both checks and the run goes on to start its own Xvfb, which the stand-in
    makes fail at once. The display is asked for before Kivy is imported (importing
    Kivy's Window opens the window), so the failure is the only line on stderr."""
    url = f"https://{host}:8443/si-dmp-server/v2/services"
    config = demo_config(tmp_path, url, sandbox_pki.root, tmp_path / "out")
    assert load_pharmacy(sandbox_pki.root).structure_id in config.read_text()
    result = kiosk.run(config, DEFAULT_PLAN)
    assert result.returncode != 0
    assert kiosk.xvfb_log.exists(), result.stderr  # got through to the display
    assert kiosk.xvfb_log.read_text().split()[0] == "-displayfd"  # Xvfb -displayfd N -screen …
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "did not start" in result.stderr
    assert "kivy" not in result.stderr.lower()  # no window before the display
