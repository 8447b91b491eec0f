"""``kiosk run`` wires one pharmacist-code gate for the attestation and the admin, kept
beside the ledger: three wrong codes in all lock both, and a restart does not clear it.
(DeviceKiosk is built as `kiosk run` builds it; no window is opened.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.appliance.device import DeviceKiosk
from kiosk.config import Config, parse_config
from kiosk.core.code_gate import STATE_FILE, CodeLocked, WrongCode
from kiosk.core.pharmacist_code import hash_code


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config({
        "ledger": {"path": str(tmp_path / "state" / "ledger.db")},
        "kiosk": {"pharmacist_code_hash": hash_code("2468"), "spool": str(tmp_path / "spool")},
    })  # fmt: skip


@pytest.fixture
def kiosks(config: Config) -> Iterator[list[DeviceKiosk]]:
    built: list[DeviceKiosk] = []
    yield built
    for kiosk in built:
        kiosk.close()


def test_one_gate_for_the_attestation_and_the_admin(
    config: Config, kiosks: list[DeviceKiosk]
) -> None:
    kiosk = DeviceKiosk(config)
    kiosks.append(kiosk)
    assert kiosk.app.admin_desk is not None
    admin = kiosk.app.admin_desk.context.gate
    attest = kiosk.services.check_code  # what the journey asks on the attestation screen
    assert attest("1111") == WrongCode(2)
    assert admin.try_code("2222") == WrongCode(1)  # one count, wherever typed
    assert isinstance(attest("3333"), CodeLocked)
    assert isinstance(admin.try_code("2468"), CodeLocked)  # one lock: even the right code
    assert (Path(config.ledger.path).parent / STATE_FILE).exists()


def test_a_restart_keeps_the_lock(config: Config, kiosks: list[DeviceKiosk]) -> None:
    first = DeviceKiosk(config)
    kiosks.append(first)
    for code in ("1111", "2222", "3333"):
        first.services.check_code(code)
    first.close()
    restarted = DeviceKiosk(config)
    kiosks.append(restarted)
    assert isinstance(restarted.services.check_code("2468"), CodeLocked)


def test_the_sites_times_and_key_guard_reach_the_journey_and_the_keys(
    tmp_path: Path, kiosks: list[DeviceKiosk]
) -> None:
    """[kiosk] idle_warning / idle_grace / key_guard_ms, as a site sets them."""
    from kiosk.core.flow import Timeouts
    from kiosk.ui.widgets import key_guard_s, set_key_guard_ms

    site = parse_config({
        "ledger": {"path": str(tmp_path / "state" / "ledger.db")},
        "kiosk": {"pharmacist_code_hash": hash_code("2468"), "spool": str(tmp_path / "spool"),
                  "idle_warning": 120, "idle_grace": 45, "key_guard_ms": 500, "language": "en"},
    })  # fmt: skip
    try:
        kiosk = DeviceKiosk(site)
        kiosks.append(kiosk)
        flow = kiosk.journey.flow
        assert flow.timeouts == Timeouts(120.0, 45.0)
        assert (flow.language, flow.home_language) == ("en", "en")
        assert key_guard_s() == 0.5
    finally:
        set_key_guard_ms(300)


def test_the_kiosk_built_holds_no_service_library_yet(tmp_path: Path) -> None:
    """What ``kiosk run`` builds before its first frame (a fresh interpreter, no window):
    the card stack, SQLite, cryptography, XML signing and the receipt printer all load
    behind the welcome screen (DeviceKiosk.start_services, Journey.warm_up)."""
    import json

    from tests.conftest import fresh_modules

    site = {
        "ledger": {"path": str(tmp_path / "state" / "ledger.db")},
        "kiosk": {"pharmacist_code_hash": hash_code("2468"), "spool": str(tmp_path / "spool")},
    }
    loaded = fresh_modules(
        "import json\n"
        "from kiosk.appliance.device import DeviceKiosk\n"
        "from kiosk.config import parse_config\n"
        f"kiosk = DeviceKiosk(parse_config(json.loads({json.dumps(site)!r})))\n"
    )
    assert "kiosk.ui.app" in loaded  # the window's code is there, as in `kiosk run`
    heavy = ("smartcard", "sqlite3", "cryptography", "lxml", "signxml", "hashlib")
    later = ("kiosk.documents.printing", "kiosk.billing.ledger", "kiosk.dmp.client")
    early = [m for m in loaded if m.split(".")[0] in heavy or m.startswith(later)]
    assert early == []
