"""The sandbox, as the service, refuses a pharmacist's VIHF without the speciality role
(the CNOP section beside the profession) before the request reaches the service, and
accepts the same pharmacist's VIHF that carries it; over TLS, nothing mocked."""

from __future__ import annotations

import pytest

from kiosk.dmp.models import Practitioner
from kiosk.dmp.service_errors import DmpRejected
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    DmpClients,
    Sandboxes,
    adult,
    dmp_clients_fixture,
    dmp_pki_fixture,
    sandboxes_fixture,
)


def test_a_pharmacist_without_the_section_is_refused(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start()
    session = dmp_clients.client(server).session(Practitioner("810001234567", "21", ""))
    with pytest.raises(DmpRejected) as refused:
        session.certified_identity(adult(1))
    assert refused.value.code == "Sender:VIHF_INVALID"
    assert "CNOP section" in refused.value.reason
    assert server.received("identity") == 0  # refused at authentication
    assert server.assertion_ids == []


@pytest.mark.parametrize("section", ["A", "DA"])
def test_a_pharmacist_with_the_section_is_served(
    sandboxes: Sandboxes, dmp_clients: DmpClients, section: str
) -> None:
    server = sandboxes.start()
    session = dmp_clients.client(server).session(Practitioner("810001234567", "21", section))
    assert session.certified_identity(adult(1)).ins
    assert server.received("identity") == 1
