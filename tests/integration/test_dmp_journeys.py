"""DMP journeys, client against the sandbox over real TLS: opening, a child's DMP with
its guardian, a closed DMP reactivated, an existing DMP refused; and the input rules
checked before anything is sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.billing.chain import CONFIRMED
from kiosk.billing.keys import load_or_create_keys
from kiosk.billing.ledger import Ledger
from kiosk.core.ledger_policy import LedgerPolicy, Opened, Opening, consent_record
from kiosk.dmp.client import DmpSession
from kiosk.dmp.models import CertifiedIdentity, Consent, Contact, DmpState, DmpStatus, Guardian
from kiosk.dmp.service_errors import DmpInputError, DmpRejected
from tests.integration.dmp_fixtures import (  # noqa: F401 (fixtures)
    PHARMACIST_RPPS,
    CountingSandbox,
    DmpClients,
    Sandboxes,
    adult,
    child_of,
    dmp_clients_fixture,
    dmp_pki_fixture,
    sandboxes_fixture,
)


def entry(server: CountingSandbox, ins: str) -> dict[str, object]:
    """What `kiosk dmp list` shows for ``ins``."""
    found = [row for row in server.store.list() if row["ins"] == ins]
    assert len(found) == 1, found
    return found[0]


def test_open_a_dmp_then_web_access(sandboxes: Sandboxes, dmp_clients: DmpClients) -> None:
    server = sandboxes.start()
    session = dmp_clients.session(server)
    traits = adult(1)

    identity = session.certified_identity(traits)
    assert identity.ins == traits.beneficiary_nir
    assert (identity.last_name, identity.first_name) == ("MARTIN", "Jeanne")
    assert identity.birth_date == "19800512"
    assert session.status(identity) == DmpStatus(DmpState.NOT_FOUND, authorized=False)

    created = session.create(identity, Consent(True, bris_de_glace_allowed=False))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created.created_at)
    assert session.status(identity) == DmpStatus(DmpState.EXISTS, authorized=True)

    access = session.create_web_access(identity, Contact(mobile="0612345678"))
    assert re.fullmatch(r"P\d{9}", access.identifier)
    assert len(access.password) >= 8
    assert access.password not in str(access) + repr(access)

    assert server.store.list() == [
        {
            "ins": identity.ins,
            "status": "active",
            "created_at": created.created_at,
            "created_by_rpps": PHARMACIST_RPPS,
            "structure_id": server.structure_id,
            "consent": True,
            "bris_de_glace_allowed": False,
            "centre15_allowed": True,
            "web_access": True,
            "guardian": None,
        }
    ]

    with pytest.raises(DmpRejected) as refused:
        session.create(identity, Consent(True))
    assert refused.value.code == "Sender:DMP_EXISTS"
    assert len(server.store.list()) == 1


@pytest.mark.parametrize(
    "guardian",
    [None, Guardian("MARTIN", "Léo", "pere", "20150301"), Guardian("MARTIN", "Jeanne", "mere")],
    ids=["no-representative", "a-minor-representative", "no-birth-date"],
)
def test_the_service_refuses_a_minors_dmp_without_an_adult_representative(
    sandboxes: Sandboxes, dmp_clients: DmpClients, guardian: Guardian | None
) -> None:
    """As the real service does: the kiosk's own rule is not the only guard."""
    server = sandboxes.start()
    session = dmp_clients.session(server)
    child = session.certified_identity(child_of(adult(2)))
    with pytest.raises(DmpRejected) as refused:
        session.create(child, Consent(True), guardian)
    assert refused.value.code == "Sender:REPRESENTATIVE_REQUIRED"
    assert refused.value.problem.key == "dmp.representative_required"
    assert server.store.list() == []


def test_a_childs_dmp_names_the_guardian(sandboxes: Sandboxes, dmp_clients: DmpClients) -> None:
    server = sandboxes.start()
    session = dmp_clients.session(server)
    parent = adult(2)
    child = session.certified_identity(child_of(parent))
    assert child.ins != parent.holder_nir  # its own INS, although it has no NIR
    assert child.ins == session.certified_identity(child_of(parent)).ins  # stable

    session.create(
        child,
        Consent(True, centre15_allowed=False),
        Guardian("MARTIN", "Jeanne", "mere", "19800512"),
    )
    session.create_web_access(child, Contact(email="jeanne.martin@example.fr"))

    row = entry(server, child.ins)
    assert row["guardian"] == {
        "last_name": "MARTIN",
        "first_name": "Jeanne",
        "role": "mere",
        "birth_date": "19800512",
    }
    assert (row["centre15_allowed"], row["bris_de_glace_allowed"]) == (False, True)
    assert row["web_access"] is True
    assert session.status(child) == DmpStatus(DmpState.EXISTS, authorized=True)


def test_a_closed_dmp_is_reactivated(sandboxes: Sandboxes, dmp_clients: DmpClients) -> None:
    server = sandboxes.start()
    session = dmp_clients.session(server)
    identity = session.certified_identity(adult(3))
    server.store.seed([{"ins": identity.ins, "status": "closed"}])

    assert session.status(identity).state is DmpState.CLOSED
    with pytest.raises(DmpRejected) as refused:
        session.create(identity, Consent(True))
    assert refused.value.code == "Sender:DMP_CLOSED"

    reactivated = session.reactivate(identity, Consent(True))
    assert reactivated.created_at
    assert session.status(identity).state is DmpState.EXISTS
    assert entry(server, identity.ins)["status"] == "active"

    with pytest.raises(DmpRejected) as again:
        session.reactivate(identity, Consent(True))
    assert again.value.code == "Sender:DMP_NOT_CLOSED"


def test_a_reactivation_keeps_the_choices_and_the_guardian(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    """TD1.2 carries what the patient chose on the consent screen and the legal
    representative, and the service keeps them, as for TD1.1."""
    server = sandboxes.start()
    session = dmp_clients.session(server)
    parent = adult(8)
    child = session.certified_identity(child_of(parent))
    server.store.seed([{"ins": child.ins, "status": "closed"}])
    choices = Consent(True, bris_de_glace_allowed=False, centre15_allowed=True)

    session.reactivate(child, choices, Guardian("MARTIN", "Jeanne", "mere", "19800512"))

    row = entry(server, child.ins)
    assert row["status"] == "active"
    assert (row["consent"], row["bris_de_glace_allowed"], row["centre15_allowed"]) == (
        True,
        False,
        True,
    )
    assert row["guardian"] == {
        "last_name": "MARTIN",
        "first_name": "Jeanne",
        "role": "mere",
        "birth_date": "19800512",
    }
    assert (row["created_by_rpps"], row["structure_id"]) == (PHARMACIST_RPPS, server.structure_id)
    assert session.status(child) == DmpStatus(DmpState.EXISTS, authorized=True)


@pytest.mark.parametrize("centre15", [True, False])
def test_the_ledger_policy_reactivates_with_the_guardian(
    sandboxes: Sandboxes, dmp_clients: DmpClients, tmp_path: Path, centre15: bool
) -> None:
    """The kiosk's path (ledger policy, ledger file): a reactivation sends the guardian
    and the choices too, and is recorded confirmed."""
    server = sandboxes.start()
    session = dmp_clients.session(server)
    child = session.certified_identity(child_of(adult(9), "Lou"))
    server.store.seed([{"ins": child.ins, "status": "closed"}])
    consent = Consent(True, bris_de_glace_allowed=not centre15, centre15_allowed=centre15)
    guardian = Guardian("MARTIN", "Paul", "pere", "19790101")
    record = consent_record(consent, False, "fr", PHARMACIST_RPPS)
    with Ledger(tmp_path / "ledger.db", load_or_create_keys(tmp_path, "k")) as ledger:
        policy = LedgerPolicy(lambda: ledger)

        opened = policy.open_dmp(
            session, PHARMACIST_RPPS, Opening(child, consent, record, guardian, reactivate=True)
        )

        assert opened.reactivated
        assert opened == Opened(True, opened.created_at)
        statuses = ledger.read(lambda conn: conn.execute("SELECT status FROM acts").fetchall())
        assert statuses == [(CONFIRMED,)]
    row = entry(server, child.ins)
    assert row["guardian"] == {
        "last_name": "MARTIN",
        "first_name": "Paul",
        "role": "pere",
        "birth_date": "19790101",
    }
    assert (row["bris_de_glace_allowed"], row["centre15_allowed"]) == (not centre15, centre15)


def test_a_dmp_opened_elsewhere_exists_but_is_not_ours(
    sandboxes: Sandboxes, dmp_clients: DmpClients
) -> None:
    server = sandboxes.start()
    session = dmp_clients.session(server)
    identity = session.certified_identity(adult(4))
    server.store.seed([{"ins": identity.ins, "status": "active"}])

    assert session.status(identity) == DmpStatus(DmpState.EXISTS, authorized=False)
    with pytest.raises(DmpRejected) as refused:
        session.create(identity, Consent(True))
    assert refused.value.code == "Sender:DMP_EXISTS"
    assert entry(server, identity.ins)["created_by_rpps"] is None  # untouched


# --- input rules: refused by the client, nothing sent ---------------------------------


@pytest.fixture
def ready(sandboxes: Sandboxes, dmp_clients: DmpClients) -> tuple[CountingSandbox, DmpSession]:
    server = sandboxes.start()
    return server, dmp_clients.session(server)


@pytest.mark.parametrize("operation", ["create", "reactivate"])
def test_no_consent_nothing_sent(ready: tuple[CountingSandbox, DmpSession], operation: str) -> None:
    server, session = ready
    identity = session.certified_identity(adult(5))
    if operation == "reactivate":
        server.store.seed([{"ins": identity.ins, "status": "closed"}])
    posts = server.received("POST")

    call = session.create if operation == "create" else session.reactivate
    with pytest.raises(DmpInputError, match="consent"):
        call(identity, Consent(False))

    assert server.received("POST") == posts
    expected = [] if operation == "create" else [("closed", None)]
    assert [(r["status"], r["consent"]) for r in server.store.list()] == expected


@pytest.mark.parametrize(
    "contact",
    [
        Contact(mobile="0512345678"),
        Contact(mobile="06123"),
        Contact(mobile="06123456789"),
        Contact(email="not-an-email"),
        Contact(email="jeanne@@example.fr"),
        Contact(mobile="0612345678", email="not-an-email"),
        Contact(),
    ],
    ids=repr,
)
def test_bad_contact_nothing_sent(
    ready: tuple[CountingSandbox, DmpSession], contact: Contact
) -> None:
    server, session = ready
    identity = session.certified_identity(adult(6))
    session.create(identity, Consent(True))
    posts = server.received("POST")

    with pytest.raises(DmpInputError):
        session.create_web_access(identity, contact)

    assert server.received("POST") == posts
    assert entry(server, identity.ins)["web_access"] is False


def test_an_identity_from_another_journey_is_refused(
    ready: tuple[CountingSandbox, DmpSession], dmp_clients: DmpClients
) -> None:
    server, first = ready
    identity = first.certified_identity(adult(7))
    second = dmp_clients.session(server)
    forged = CertifiedIdentity(
        identity.ins, identity.last_name, identity.first_name, identity.birth_date, "x" * 32
    )
    posts = server.received("POST")

    for foreign in (identity, forged):
        with pytest.raises(DmpInputError, match="certified_identity"):
            second.status(foreign)
        with pytest.raises(DmpInputError):
            second.create(foreign, Consent(True))
        with pytest.raises(DmpInputError):
            second.reactivate(foreign, Consent(True))
        with pytest.raises(DmpInputError):
            second.create_web_access(foreign, Contact(mobile="0612345678"))

    assert server.received("POST") == posts
    assert server.store.list() == []
    assert first.status(identity).state is DmpState.NOT_FOUND  # still fine in its journey
