"""Each error code of the DMP service, sent by the sandbox over real TLS, reaches the
client and the journey as its own problem [V EX_GEN-1145]: injected on the operation
that meets it (``OP=soap_fault:CODE``), and, for the codes the sandbox sends of its own
accord, by doing what makes it refuse. An unknown code stays the generic problem."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.core import flow as f
from kiosk.dmp.models import Consent, Contact, PatientTraits
from kiosk.dmp.service_errors import SERVICE_ERRORS, DmpProblem, DmpRejected, ServiceCode
from kiosk.hardware.cards import vitale_from_profile
from kiosk.sim.data import CARDS_DIR
from kiosk.sim.sandbox.server import FaultSpecError, parse_faults
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    CountingSandbox,
    DmpClients,
    Sandboxes,
    adult,
    dmp_clients_fixture,
    dmp_pki_fixture,
    prepare_call,
    sandboxes_fixture,
)
from tests.integration.journey_harness import CODE, JourneyHarness

# The operation on which the kiosk meets each code (the VIHF and envelope ones: any).
OPERATION: dict[ServiceCode, str] = {
    ServiceCode.RESOURCE_MISMATCH: "status",
    ServiceCode.PATIENT_NOT_FOUND: "status",
    ServiceCode.CONSENT_REQUIRED: "create",
    ServiceCode.REPRESENTATIVE_REQUIRED: "create",
    ServiceCode.DMP_EXISTS: "create",
    ServiceCode.DMP_CLOSED: "create",
    ServiceCode.DMP_NOT_CLOSED: "reactivate",
    ServiceCode.DMP_NOT_FOUND: "web_access",
    ServiceCode.BAD_CONTACT: "web_access",
    ServiceCode.SERVICE_ERROR: "status",
}
CARD = json.loads((CARDS_DIR / "vitale-famille-martin.json").read_text(encoding="utf-8"))


def rejected(call: Callable[[], object]) -> DmpRejected:
    with pytest.raises(DmpRejected) as caught:
        call()
    return caught.value


def test_fault_codes_are_read_from_the_specs() -> None:
    specs = ["create=soap_fault:DMP_EXISTS", "status=soap_fault:Receiver:SERVICE_ERROR@2-"]
    assert parse_faults(specs) == {
        "create": "soap_fault:DMP_EXISTS",
        "status": "soap_fault:Receiver:SERVICE_ERROR@2-",
    }


@pytest.mark.parametrize(
    "spec",
    ["create=timeout:DMP_EXISTS", "create=soap_fault:", "create=soap_fault:bad code",
     "create=soap_fault:Sender:", "create=soap_fault::X", "create=http500:X@2"],
)  # fmt: skip
def test_bad_fault_codes_are_refused(spec: str) -> None:
    with pytest.raises(FaultSpecError, match="expected OP=KIND"):
        parse_faults([spec])


@pytest.mark.parametrize("code", list(ServiceCode))
def test_each_code_reaches_the_client_as_its_own_problem(
    sandboxes: Sandboxes, dmp_clients: DmpClients, code: ServiceCode
) -> None:
    operation = OPERATION.get(code, "identity")
    server = sandboxes.start(faults={operation: f"soap_fault:{code.value}"})
    session = dmp_clients.session(server)
    call = prepare_call(operation, server, session, patient=300)
    before = server.received(operation)

    error = rejected(call)

    assert error.code == f"Sender:{code.value}"
    assert error.service_code is code
    assert error.problem is SERVICE_ERRORS[code].problem
    assert error.fix == SERVICE_ERRORS[code].fix
    assert server.received(operation) - before == 1  # a refusal is not retried


def test_a_service_side_code_and_an_unknown_code(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start(
        faults={"identity": "soap_fault:Receiver:SERVICE_ERROR@1", "status": "soap_fault:NEW_ONE"}
    )
    session = dmp_clients.session(server)
    assert rejected(lambda: session.certified_identity(adult(301))).problem is (
        DmpProblem.SERVICE_ERROR
    )
    identity = session.certified_identity(adult(301))
    unknown = rejected(lambda: session.status(identity))
    assert (unknown.code, unknown.problem) == ("Sender:NEW_ONE", DmpProblem.REJECTED)
    assert unknown.service_code is None


def test_the_plain_soap_fault_is_still_the_service_failing(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start(faults={"identity": "soap_fault"})
    error = rejected(lambda: dmp_clients.session(server).certified_identity(adult(302)))
    assert error.code == "Receiver:SERVICE_ERROR"
    assert error.problem is DmpProblem.SERVICE_ERROR


# --- the codes the sandbox sends of its own accord ------------------------------------


def test_what_the_sandbox_refuses_by_itself_has_its_own_problem(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start()
    session = dmp_clients.session(server)
    unknown_nir = PatientTraits("180057512345600", None, "MARTIN", "Jeanne", "19800512", 1, "0")
    assert rejected(lambda: session.certified_identity(unknown_nir)).problem is (
        DmpProblem.IDENTITY_NOT_FOUND
    )

    fresh = session.certified_identity(adult(303))
    assert rejected(lambda: session.reactivate(fresh, Consent(True))).problem is (
        DmpProblem.NOT_CLOSED
    )
    web = Contact(mobile="0612345678")
    assert rejected(lambda: session.create_web_access(fresh, web)).problem is (DmpProblem.NOT_FOUND)
    session.create(fresh, Consent(True))
    assert rejected(lambda: session.create(fresh, Consent(True))).problem is (
        DmpProblem.ALREADY_EXISTS
    )

    closed = session.certified_identity(adult(304))
    server.store.seed([{"ins": closed.ins, "status": "closed"}])
    error = rejected(lambda: session.create(closed, Consent(True)))
    assert (error.code, error.problem) == ("Sender:DMP_CLOSED", DmpProblem.CLOSED)


# --- through the journey, to what its error screen shows --------------------------------


class Kiosk(JourneyHarness):
    """The journey against a sandbox over TLS; the card is read from its profile (this
    test is about the DMP service, not the readers: no pcscd)."""

    def __init__(self, tmp: Path, faults: dict[str, str]) -> None:
        super().__init__(tmp, lambda: vitale_from_profile(CARD), faults)

    def check(self) -> None:
        self.journey.dispatch(f.CardInserted("vitale"))
        self.wait(f.Screen.CHOOSE)
        self.tap("choose", 0)


@pytest.fixture
def kiosk_with(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Kiosk]]:
    made: list[Kiosk] = []

    def make(faults: dict[str, str]) -> Kiosk:
        made.append(Kiosk(tmp_path / str(len(made)), faults))
        return made[-1]

    yield make
    for kiosk in made:
        kiosk.close()


CHECKED = [code for code in ServiceCode if OPERATION.get(code, "identity") != "create"]


@pytest.mark.parametrize("code", CHECKED)
def test_the_journey_shows_each_codes_own_message_at_the_check(
    kiosk_with: Callable[[dict[str, str]], Kiosk], code: ServiceCode
) -> None:
    operation = "status" if OPERATION.get(code) == "status" else "identity"
    kiosk = kiosk_with({operation: f"soap_fault:{code.value}"})
    kiosk.check()
    flow = kiosk.wait(f.Screen.ERROR)
    assert flow.message is SERVICE_ERRORS[code].problem


@pytest.mark.parametrize("code", [code for code in ServiceCode if OPERATION.get(code) == "create"])
def test_the_journey_shows_each_codes_own_message_at_the_creation(
    kiosk_with: Callable[[dict[str, str]], Kiosk], code: ServiceCode
) -> None:
    kiosk = kiosk_with({"create": f"soap_fault:{code.value}"})
    kiosk.check()
    kiosk.wait(f.Screen.INFORMATION)
    kiosk.tap("next")
    kiosk.tap("toggle", "consent")
    kiosk.tap("next")
    kiosk.wait(f.Screen.CONTACT)
    kiosk.tap("skip")
    kiosk.wait(f.Screen.ATTESTATION)
    kiosk.tap("attest", CODE)
    flow = kiosk.wait(f.Screen.ERROR)
    assert flow.message is SERVICE_ERRORS[code].problem
    statuses = kiosk.ledger.read(lambda conn: conn.execute("SELECT status FROM acts").fetchall())
    assert statuses == [("failed",)]  # refused by the service: recorded, unpaid
