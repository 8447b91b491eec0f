"""Through the real stack (the emulated CPS in pcscd's reader, its PIN typed): a CPS
attached to another pharmacy than the kiosk's ``[dmp] structure_id`` is refused before
any DMP call, as a physician's or an expired one is."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.billing.vihf_trace import trace_path
from kiosk.config import load_config
from kiosk.core.cps_session import CpsState, pcsc_cps_session
from kiosk.sim.sandbox.client_config import dmp_section
from tests.conftest import CARDS, InsertCard, load_profile, run_kiosk
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    CountingSandbox,
    Sandboxes,
    dmp_pki_fixture,
    sandboxes_fixture,
)

pytestmark = pytest.mark.pcsc

CPS = load_profile("cps-dupont-titulaire.json")
ELSEWHERE = {**CPS, "structures": ["3130099999"]}


@pytest.fixture
def site(tmp_path: Path, sandboxes: Sandboxes) -> tuple[Path, CountingSandbox]:
    server = sandboxes.start()
    config = tmp_path / "kiosk.toml"
    config.write_text(
        dmp_section(server.pki.root, server.url, relative=False)
        + f'\n[ledger]\npath = "{tmp_path / "state" / "ledger.db"}"\nkiosk_id = "kiosk-t"\n',
        encoding="utf-8",
    )
    return config, server


def test_the_session_refuses_another_pharmacys_cps(
    insert_card: InsertCard, site: tuple[Path, CountingSandbox]
) -> None:
    config, _server = site
    session = pcsc_cps_session(structure_id=load_config(config).dmp.structure_id)
    insert_card(ELSEWHERE, slot=1)
    assert session.inserted().state is CpsState.NEEDS_PIN
    status, _answer = session.enter_pin(str(CPS["pin"]))
    assert status.state is CpsState.OTHER_STRUCTURE
    assert session.practitioner() is None


def test_the_same_cps_attached_here_is_ready(
    insert_card: InsertCard, site: tuple[Path, CountingSandbox]
) -> None:
    config, server = site
    assert CPS["structures"] == [server.structure_id]
    session = pcsc_cps_session(structure_id=load_config(config).dmp.structure_id)
    insert_card(CPS, slot=1)
    session.inserted()
    assert session.enter_pin(str(CPS["pin"]))[0].state is CpsState.READY


def test_kiosk_dmp_create_sends_nothing_for_another_pharmacys_cps(
    insert_card: InsertCard, site: tuple[Path, CountingSandbox]
) -> None:
    config, server = site
    insert_card(ELSEWHERE, slot=1)
    result = run_kiosk(
        "dmp", "create", "--consent", "--config", str(config),
        "--profile", str(CARDS / "vitale-famille-martin.json"), "--pin", str(CPS["pin"]),
    )  # fmt: skip
    assert result.returncode != 0
    assert "other_structure" in result.stderr
    assert "no DMP call was made" in result.stderr
    assert server.received("POST") == 0  # not even TD0.0
    assert not trace_path(Path(load_config(config).ledger.path)).exists()
