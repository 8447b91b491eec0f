"""The Carte Vitale's strict traits go to the DMP service exactly as read [V EX_GEN-1265,
EX_GEN-1250]: the card is read through the real stack (the Vitale emulator over vpcd,
pcscd, the kiosk's patient reader), TD0.0 is sent to the sandbox over TLS, and what the
request carried (names, birth date and rank, NIRs, quality) is compared with the bytes
the card's data objects hold, read from the card over PC/SC: byte for byte, with no
trimming, case change, accent stripping or date normalisation on the way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from kiosk.appliance.wiring import patient_reader
from kiosk.config import Config
from kiosk.core.flow import is_minor
from kiosk.dmp import transactions as m
from kiosk.dmp.models import Consent, Guardian, PatientTraits
from kiosk.dmp.traits import practitioner_from_cps, traits_from_vitale
from kiosk.dmp.xmlsafe import parse_xml
from kiosk.hardware import vitale_layout as layout
from kiosk.hardware.apdu import parse_tlv
from kiosk.hardware.cards import cps_from_profile
from kiosk.hardware.pcsc import PcscContext
from kiosk.hardware.vitale import read_ef, select_aid, select_ef
from kiosk.sim.sandbox.client_config import sandbox_client
from kiosk.sim.sandbox.server import SandboxServer
from tests.conftest import READERS, InsertCard, load_profile, shipped_profiles

pytestmark = pytest.mark.pcsc

CPS = cps_from_profile(load_profile("cps-dupont-titulaire.json"))[0]
TODAY = dt.date.today()  # the sandbox's clock decides who is a minor
# Beyond the shipped cards: what a kiosk must not "clean up" either (spaces around and
# inside, lower case, a hyphen and apostrophes, a lunar date with month and day 00).
ODD = {
    "card": "vitale", "serial": "7700999001", "valid_from": "20200101",
    "holder_nir": "242023306302119", "regime": "01", "caisse": "331", "centre": "0007",
    "beneficiaries": [
        {"quality": "0", "nir": "242023306302119", "last_name": " d'Arc-LÉON  de  l'Île ",
         "birth_name": "D'ARC", "first_name": "  jean-noël ", "birth_date": "19420000",
         "birth_rank": 3},
        {"quality": "6", "nir": None, "last_name": "Ñúñez-O'Brien", "birth_name": "ÑÚÑEZ",
         "first_name": "Zoë", "birth_date": "20150031", "birth_rank": 2},
    ],
}  # fmt: skip
CARDS = {name: load_profile(name) for name in shipped_profiles("vitale")} | {"odd": ODD}
FIELDS = {  # request field -> the beneficiary's data object on the card
    "lastName": layout.B_LAST_NAME,
    "firstName": layout.B_FIRST_NAME,
    "birthDate": layout.B_BIRTH_DATE,
    "quality": layout.B_QUALITY,
    "beneficiaryNir": layout.B_NIR,
}


def card_bytes(reader: str) -> tuple[bytes, list[dict[int, bytes]]]:
    """The holder NIR's bytes and each beneficiary's data objects, as the card holds
    them: the two files read over PC/SC, split into their TLVs, nothing decoded."""
    context = PcscContext()
    try:
        with context.connect(reader) as card:
            select_aid(card, layout.AID_VITALE)
            select_ef(card, layout.EF_POINTERS)
            entries = {e.name: e.ef for e in layout.parse_pointers(read_ef(card))}
            select_ef(card, entries[layout.FILE_CARD])
            card_file = read_ef(card)
            select_ef(card, entries[layout.FILE_BENEFICIARIES])
            beneficiaries_file = read_ef(card)
    finally:
        context.close()
    objects = {t.tag: t for t in parse_tlv(card_file)}
    insurance = {c.tag: c.value for c in objects[layout.TAG_INSURANCE].children()}
    beneficiaries = [
        {c.tag: c.value for c in t.children()}
        for t in parse_tlv(beneficiaries_file)
        if t.tag == layout.TAG_BENEFICIARY
    ]
    return insurance[layout.I_HOLDER_NIR], beneficiaries


def carried(envelope: bytes, transaction: m.Transaction = m.IDENTITY) -> dict[str, bytes]:
    """Each field of the request body in ``envelope`` (TD0.0 by default), as UTF-8 bytes."""
    root = parse_xml(envelope)
    body = root.find(f"{{{etree.QName(root).namespace}}}Body")
    assert body is not None
    (request,) = body
    assert request.tag == f"{{{m.NS}}}{transaction.request}"
    return {etree.QName(child).localname: (child.text or "").encode() for child in request}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(tmp_path / "sandbox", port=0, record=16).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name", sorted(CARDS))
def test_td00_carries_the_cards_traits_byte_for_byte(
    insert_card: InsertCard, sandbox: SandboxServer, name: str
) -> None:
    profile: dict[str, Any] = CARDS[name]
    insert_card(profile, slot=0)
    card = patient_reader(Config())()  # what the kiosk reads, the way it reads it
    holder_nir, on_card = card_bytes(READERS[0])
    assert len(on_card) == len(card.beneficiaries) == len(profile["beneficiaries"])
    session = sandbox_client(sandbox, deadline=5.0).session(practitioner_from_cps(CPS))

    for index, objects in enumerate(on_card):
        identity = session.certified_identity(traits_from_vitale(card, index))
        envelope = sandbox.requests.bodies("identity")[-1]
        sent = carried(envelope)

        assert sent["holderNir"] == holder_nir
        for field, tag in FIELDS.items():
            if tag in objects:
                assert sent[field] == objects[tag], (name, index, field)
                assert b">" + objects[tag] + b"<" in envelope  # on the wire as it is
            else:
                assert field not in sent  # a child without a NIR: none is made up
        assert sent["birthRank"] == str(objects.get(layout.B_BIRTH_RANK, b"\x01")[0]).encode()
        # and the card's bytes are the profile's: the emulator changed nothing either
        source = profile["beneficiaries"][index]
        assert objects[layout.B_LAST_NAME] == source["last_name"].encode()
        assert objects[layout.B_FIRST_NAME] == source["first_name"].encode()
        assert objects[layout.B_BIRTH_DATE] == source["birth_date"].encode()

        # TD1.1 names the patient as the card does, too (through TD0.0's answer)
        adult = Guardian("TUTEUR", "Anne", "tuteur", "19700101")
        session.create(
            identity, Consent(True), adult if is_minor(identity.birth_date, TODAY) else None
        )
        opening = carried(sandbox.requests.bodies("create")[-1], m.CREATE)
        for field, tag in (("lastName", layout.B_LAST_NAME), ("firstName", layout.B_FIRST_NAME),
                           ("birthDate", layout.B_BIRTH_DATE)):  # fmt: skip
            assert opening[field] == objects[tag], (name, index, field)


def test_the_sandbox_keeps_no_request_unless_asked(tmp_path: Path) -> None:
    server = SandboxServer(tmp_path / "quiet", port=0).start()
    try:
        session = sandbox_client(server).session(practitioner_from_cps(CPS))
        holder = str(ODD["holder_nir"])
        session.certified_identity(PatientTraits(holder, holder, "A", "B", "19420000", 1, "0"))
        assert server.requests.bodies("identity") == []
    finally:
        server.shutdown()
        server.server_close()
