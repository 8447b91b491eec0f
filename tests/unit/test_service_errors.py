"""Each error code of the DMP service has its own plain message for the patient and its
own fix for the technician [V EX_GEN-1145], chosen by the typed code, never by the
service's free text; an unknown code keeps the generic message. And the patient sees
it: the journey's error screen shows the problem of the DmpFailed it got."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kiosk.sim.sandbox.server as sandbox
from kiosk.core.flow import DmpFailed, Screen
from kiosk.dmp.service_errors import (
    SERVICE_ERRORS,
    UNREADABLE_CODE,
    DmpProblem,
    DmpRejected,
    ServiceCode,
    service_code,
)
from kiosk.ui.catalog_en import EN
from kiosk.ui.catalog_fr import FR
from kiosk.ui.i18n import render
from tests.unit.flow_paths import reach, send

GENERIC = {DmpProblem.REJECTED, DmpProblem.FAILED}


def sandbox_codes() -> set[str]:
    """Every fault code the sandbox sends of its own accord (``Refused``, ``Fault``)."""
    source = Path(sandbox.__file__).read_text(encoding="utf-8")
    return set(re.findall(r"""(?:Refused|Fault)\(\s*"((?:Sender|Receiver):\w+)\"""", source))


def test_every_code_has_its_own_problem_and_fix() -> None:
    assert set(SERVICE_ERRORS) == set(ServiceCode)
    problems = [error.problem for error in SERVICE_ERRORS.values()]
    fixes = [error.fix for error in SERVICE_ERRORS.values()]
    assert len(set(problems)) == len(problems)  # one message per code
    assert len(set(fixes)) == len(fixes)
    assert not set(problems) & GENERIC
    assert all(fix.strip() and fix != DmpRejected.fix for fix in fixes)


def test_every_code_the_sandbox_sends_is_in_the_table() -> None:
    codes = sandbox_codes()
    assert len(codes) >= 10, codes  # the pattern still finds them
    unknown = {code for code in codes if service_code(code) is None}
    assert unknown == set()


@pytest.mark.parametrize("code", list(ServiceCode))
@pytest.mark.parametrize("side", ["Sender", "Receiver"])
def test_a_fault_takes_its_problem_and_fix_from_its_code(code: ServiceCode, side: str) -> None:
    error = DmpRejected(f"{side}:{code.value}", "free text from the service")
    assert error.service_code is code
    assert error.problem is SERVICE_ERRORS[code].problem
    assert error.fix == SERVICE_ERRORS[code].fix
    assert error.journal == f"DmpRejected {side}:{code.value}"


def test_the_service_text_decides_nothing() -> None:
    """The reason may say anything, even name another code: only the code counts."""
    closed = DmpRejected("Sender:DMP_CLOSED", "DMP_EXISTS: a DMP already exists")
    assert closed.problem is DmpProblem.CLOSED
    unknown = DmpRejected("Sender:PATIENT_UNKNOWN", "DMP_CLOSED")
    assert unknown.service_code is None
    assert unknown.problem is DmpProblem.REJECTED
    assert unknown.fix == DmpRejected.fix


@pytest.mark.parametrize(
    "code",
    ["Sender", "Sender:dmp_closed", "Sender:DMP_CLOSED:extra x", "DMP CLOSED", "", "Sender:"],
)
def test_unknown_or_malformed_codes_keep_the_generic_message(code: str) -> None:
    error = DmpRejected(code, "reason")
    assert error.problem is DmpProblem.REJECTED
    assert error.service_code is None
    assert error.code in (code, UNREADABLE_CODE)


def test_a_bare_subcode_and_a_nested_one_are_typed() -> None:
    assert service_code("DMP_EXISTS") is ServiceCode.DMP_EXISTS
    assert service_code("soap:Sender:DMPInvalidCertificate") is ServiceCode.INVALID_CERTIFICATE
    assert service_code("Sender:Other") is None


@pytest.mark.parametrize("code", list(ServiceCode))
@pytest.mark.parametrize("screen", [Screen.CHECKING, Screen.CREATING])
def test_the_patient_sees_the_codes_own_message(code: ServiceCode, screen: Screen) -> None:
    """What the journey does with a DmpRejected (kiosk.core.journey: DmpFailed of its
    problem) through the pure flow to the error screen, rendered as the screen does."""
    error = DmpRejected(f"Sender:{code.value}", "reason")
    flow, _ = send(reach(screen), DmpFailed(error.problem))
    assert flow.screen is Screen.ERROR
    assert flow.message is SERVICE_ERRORS[code].problem
    for language, catalog in (("fr", FR), ("en", EN)):
        shown = render(flow.message, language)
        assert shown == catalog[error.problem.key]
        assert shown != render(DmpProblem.REJECTED, language)  # not the generic one
        assert len(shown) <= 140  # short, for an elderly reader


def test_the_closed_dmp_message_tells_what_to_do() -> None:
    closed = "Votre dossier est fermé. Le pharmacien peut le rouvrir."
    assert render(DmpProblem.CLOSED, "fr") == closed
