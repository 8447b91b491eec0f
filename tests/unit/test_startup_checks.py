"""``kiosk run``'s checks before any window: the receipts' spool must be private."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.appliance.startup_checks import check_config
from kiosk.config import Config, ConfigError, parse_config
from kiosk.core.pharmacist_code import hash_code
from tests.conftest import run_kiosk

CERTIFICATES = ("ca", "auth_cert", "auth_key", "sign_cert", "sign_key")
CODE_HASH = hash_code("2468")


def runnable(tmp_path: Path, spool: Path) -> Config:
    """A config that passes every other start-up check."""
    certs = tmp_path / "certs"
    certs.mkdir(exist_ok=True)
    dmp: dict[str, object] = {
        "endpoint": "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services",
        "structure_id": "3750012345",
    }
    for key in CERTIFICATES:
        (certs / f"{key}.pem").write_text("PEM", encoding="utf-8")
        dmp[key] = str(certs / f"{key}.pem")
    data = {"dmp": dmp, "kiosk": {"pharmacist_code_hash": CODE_HASH, "spool": str(spool)}}
    return parse_config(data, "kiosk.toml")


def test_a_spool_others_can_read_is_refused_naming_it(tmp_path: Path) -> None:
    spool = tmp_path / "receipts"
    spool.mkdir()
    spool.chmod(0o755)
    with pytest.raises(ConfigError) as caught:
        check_config(runnable(tmp_path, spool))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"kiosk.toml [kiosk] spool: {spool} is open to others (mode 0755)")
    assert f"chmod 700 {spool}" in message


def test_kiosk_run_refuses_an_open_spool_in_one_line_before_any_window(tmp_path: Path) -> None:
    spool = tmp_path / "receipts"
    spool.mkdir()
    spool.chmod(0o755)
    config = runnable(tmp_path, spool)
    text = "[dmp]\n" + "".join(
        f'{key} = "{getattr(config.dmp, key)}"\n'
        for key in ("endpoint", "structure_id", *CERTIFICATES)
    )
    text += f'[kiosk]\npharmacist_code_hash = "{CODE_HASH}"\nspool = "{spool}"\n'
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    result = run_kiosk("run", "--config", str(path), env={"DISPLAY": ""})
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert f"[kiosk] spool: {spool} is open to others (mode 0755)" in line


@pytest.mark.parametrize("mode", [0o750, 0o701, 0o710, 0o704], ids=lambda mode: f"{mode:04o}")
def test_any_group_or_other_access_to_the_spool_is_refused(tmp_path: Path, mode: int) -> None:
    spool = tmp_path / "receipts"
    spool.mkdir()
    spool.chmod(mode)
    with pytest.raises(ConfigError, match=rf"\[kiosk\] spool: .* \(mode {mode:04o}\)"):
        check_config(runnable(tmp_path, spool))


def test_a_private_or_absent_spool_is_accepted(tmp_path: Path) -> None:
    absent = tmp_path / "receipts"
    check_config(runnable(tmp_path, absent))  # the first receipt creates it 0700
    absent.mkdir(mode=0o700)
    absent.chmod(0o700)
    check_config(runnable(tmp_path, absent))


def test_a_spool_that_is_a_file_is_refused(tmp_path: Path) -> None:
    spool = tmp_path / "receipts"
    spool.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[kiosk\] spool: .* is not a directory"):
        check_config(runnable(tmp_path, spool))
