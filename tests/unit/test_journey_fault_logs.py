"""Issue 12 item 14: a SOAP fault's reason is the service's free text (it may name the
patient, quote the INS); the journey's log lines carry the fault code, the problem key
and the exception type, never that text.

The journey, the flow, the DMP client (envelopes, signed VIHF, fault parsing) are real;
only the network is a double: :class:`kiosk.dmp.transport.Transport` is the client's
interface to it, and this one answers with crafted envelopes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kiosk.billing.ledger import Ledger
from kiosk.core import flow as f
from kiosk.core.code_gate import CodeGate
from kiosk.core.journey import Journey, Services
from kiosk.dmp import transactions as m
from kiosk.dmp.client import DmpClient
from kiosk.dmp.models import Practitioner
from kiosk.dmp.service_errors import UNREADABLE_CODE, DmpProblem, DmpRejected
from kiosk.dmp.soap import Fault, build_envelope, build_fault, parse_envelope
from kiosk.dmp.traits import traits_from_vitale
from kiosk.dmp.vihf import VihfSigner
from kiosk.hardware.cards import vitale_from_profile
from kiosk.logs import QUIET
from kiosk.sim.sandbox.pki import ensure_pki, load_pharmacy
from tests.conftest import load_profile

MARTIN = vitale_from_profile(load_profile("vitale-famille-martin.json"))
HOLDER = MARTIN.beneficiaries[0]
INS = "280057512345674"  # Jeanne MARTIN's
PHARMACIST = Practitioner("810001234567", "21", "A", "DUPONT", "Claire")
BASE_URL = "https://dmp.test/si-dmp-server/v2/services"
REASON = f"Patient {HOLDER.first_name} {HOLDER.last_name} (INS {INS}) : identité non retrouvée"
SECRETS = (HOLDER.first_name, HOLDER.last_name, INS, "identité non retrouvée")


class ScriptedTransport:
    """The Transport protocol: each post() is answered by the next scripted envelope."""

    def __init__(self, *answers: bytes | Fault) -> None:
        self.answers = list(answers)

    def post(self, _url: str, payload: bytes, _timeout: float) -> bytes:
        answer = self.answers.pop(0)
        if isinstance(answer, Fault):
            return build_fault(answer)
        incoming = parse_envelope(payload)  # a real answer relates to its request
        data, _ = build_envelope(
            incoming.action + "Response",
            "",
            m.identity_response(INS, traits_from_vitale(MARTIN, 0)),
            relates_to=incoming.message_id,
        )
        return data


IDENTITY_OK = b"identity"  # the transport answers TD0.0 with Jeanne's INS


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> VihfSigner:
    pki = ensure_pki(tmp_path_factory.mktemp("pki"))
    return VihfSigner.from_files(pki.sign_key, pki.sign, load_pharmacy(pki.root).structure_id)


def no_ledger() -> Ledger:
    raise AssertionError("a DMP check writes nothing to the ledger when it fails")


def check_dmp(tmp_path: Path, signer: VihfSigner, *answers: bytes | Fault) -> f.Flow:
    """Card in, the holder picked: the DMP check runs through the real client."""
    client = DmpClient(ScriptedTransport(*answers), BASE_URL, signer, deadline=5.0)
    services = Services(
        read_vitale=lambda: MARTIN,
        client=lambda: client,
        ledger=no_ledger,
        practitioner=lambda: PHARMACIST,
        rpps=lambda: "10001234567",
        check_code=CodeGate(lambda _code: False, tmp_path).try_code,
    )
    journey = Journey(services)
    try:
        journey.dispatch(f.CardInserted("vitale"))
        journey.wait_idle(10)
        assert journey.flow.screen is f.Screen.CHOOSE
        journey.dispatch(f.Tap("choose", 0))
        journey.wait_idle(10)
        return journey.flow
    finally:
        journey.close()


@pytest.mark.parametrize(
    ("answers", "transaction"),
    [((), "TD0.0"), ((IDENTITY_OK,), "TD0.2")],
    ids=["identity", "status"],
)
def test_a_fault_reason_naming_the_patient_never_reaches_the_log(
    tmp_path: Path,
    signer: VihfSigner,
    caplog: pytest.LogCaptureFixture,
    answers: tuple[bytes, ...],
    transaction: str,
) -> None:
    caplog.set_level(logging.DEBUG, logger="kiosk")
    for name in QUIET:  # as setup_logging keeps them: signxml logs whole assertions at DEBUG
        caplog.set_level(logging.WARNING, logger=name)
    flow = check_dmp(tmp_path, signer, *answers, Fault("Sender:PATIENT_UNKNOWN", REASON))

    assert flow.screen is f.Screen.ERROR
    assert flow.message is DmpProblem.REJECTED
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("DMP check")]
    assert line == "DMP check failed [dmp.rejected]: DmpRejected Sender:PATIENT_UNKNOWN"
    assert any(transaction in r.getMessage() for r in caplog.records)  # the dmp.call line
    logged = caplog.text + json.dumps([vars(r) for r in caplog.records], default=str)
    for secret in SECRETS:
        assert secret not in logged


def test_a_fault_code_holding_free_text_is_not_logged_either(
    tmp_path: Path, signer: VihfSigner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kiosk")
    for name in QUIET:  # as setup_logging keeps them: signxml logs whole assertions at DEBUG
        caplog.set_level(logging.WARNING, logger=name)
    code = f"Sender:{HOLDER.last_name} {INS}"
    flow = check_dmp(tmp_path, signer, Fault(code, REASON))

    assert flow.screen is f.Screen.ERROR
    assert f"DMP check failed [dmp.rejected]: DmpRejected {UNREADABLE_CODE}" in caplog.text
    logged = caplog.text + json.dumps([vars(r) for r in caplog.records], default=str)
    for secret in SECRETS:
        assert secret not in logged


@pytest.mark.parametrize(
    ("code", "kept"),
    [
        ("Sender:VIHF_INVALID", "Sender:VIHF_INVALID"),
        ("Receiver", "Receiver"),
        ("Sender:dmp.err-12:sub_2", "Sender:dmp.err-12:sub_2"),
        ("Sender:Jeanne MARTIN", UNREADABLE_CODE),
        ("Sender:280057512345674\n", UNREADABLE_CODE),
        ("Sender:" + "A" * 80, UNREADABLE_CODE),
        ("", UNREADABLE_CODE),
    ],
)
def test_the_journal_keeps_a_code_only_in_a_codes_form(code: str, kept: str) -> None:
    refused = DmpRejected(code, REASON)
    assert refused.code == kept
    assert refused.journal == f"DmpRejected {kept}"
    assert refused.reason == REASON  # kept for the technician's CLI, never logged
