"""Every text the kiosk shows or says is a typed message or one of the screens' own texts,
and both catalogues hold exactly their keys: none missing, none unused, every one
rendered in French and in English with its arguments."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import string
from pathlib import Path

import pytest

import kiosk
from kiosk.billing.payments import PaymentProblem
from kiosk.core import consent_text
from kiosk.core.admin_actions import (
    AdminResult,
    Exported,
    ExportFailed,
    ExportLedgerUnreadable,
    ExportProblem,
    ImportFailed,
    NoPaymentFiles,
    PaymentFileRefused,
    PaymentsImported,
)
from kiosk.core.code_gate import CodeLocked, WrongCode
from kiosk.core.cps_session import CpsState, CpsStatus, PinRefused
from kiosk.core.flow import Screen
from kiosk.documents.printing import PrinterTrouble, Problem
from kiosk.messages import Message, MessageEnum
from kiosk.ui.catalog_en import EN
from kiosk.ui.catalog_fr import FR
from kiosk.ui.i18n import render
from kiosk.ui.plural import Plural
from kiosk.ui.ui_text import UiText

ROOT = Path(kiosk.__file__).parent
SIMULATION = "kiosk.sim"  # its modules import Kivy's window and the sandbox: not needed


def production_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(ROOT)], "kiosk."):
        if not info.name.startswith((SIMULATION, "kiosk.cli")) and ".ui." not in info.name:
            names.append(info.name)
    return names


for _name in production_modules():  # so that every message family is defined
    importlib.import_module(_name)

# One of each message with arguments, in every form its key can take.
SAMPLES: list[Message] = [
    WrongCode(1),
    WrongCode(2),
    CodeLocked(0.0, just_now=True),
    CodeLocked(0.0),
    *(CpsStatus(state, 2, "Claire DUPONT", "10001234567") for state in CpsState),
    CpsStatus(CpsState.NEEDS_PIN),
    PinRefused(1),
    PinRefused(2),
    *(PrinterTrouble(problem, "192.0.2.7:9100") for problem in Problem),
    NoPaymentFiles("/media/kiosk"),
    PaymentsImported(2, 1),
    PaymentFileRefused("paiements.csv", 3, PaymentProblem.AMOUNT),
    PaymentFileRefused("paiements.csv", None, PaymentProblem.CONFLICT),
    ImportFailed("paiements.csv", "OSError"),
    Exported("a.csv", "a.pdf"),
    ExportFailed(ExportProblem.NO_SPACE),
    ExportLedgerUnreadable("DatabaseError"),
]


def enum_families() -> list[type[MessageEnum]]:
    found: list[type[MessageEnum]] = []
    pending = list(MessageEnum.__subclasses__())
    while pending:
        family = pending.pop()
        found.append(family)
        pending += family.__subclasses__()
    return found


# The screens' own texts that take arguments, with an example of each.
LABEL_ARGS: dict[UiText, dict[str, object]] = {
    UiText.GUARDIAN_BODY: {"name": "Léo MARTIN"},
    UiText.STAFF_CPS: {"cps": CpsStatus(CpsState.NEEDS_PIN, 2)},
    UiText.ADMIN_TODAY: {"count": 1},
    UiText.ADMIN_YEAR: {"count": 12},
    UiText.ADMIN_MONEY: {"due": "12,00 €", "paid": "10,00 €", "outstanding": "2,00 €"},
    UiText.ADMIN_PENDING: {"count": 0},
    **{
        key: {"label": "Suivant"}
        for key in (
            UiText.SPEECH_BUTTON,
            UiText.SPEECH_BUTTON_DISABLED,
            UiText.SPEECH_CHECKED,
            UiText.SPEECH_UNCHECKED,
            UiText.SPEECH_KEY,
            UiText.SPEECH_TYPED,
            UiText.SPEECH_FIELD,
        )
    },
    UiText.SPEECH_PRIVATE_PERSON: {"number": 2},
}


@dataclasses.dataclass(frozen=True)
class Label:
    """A screen's own text with its arguments, as the screens render it."""

    text: UiText

    @property
    def key(self) -> str:
        return self.text.key

    def args(self) -> dict[str, object]:
        return LABEL_ARGS.get(self.text, {})


def every_message() -> list[Message]:
    members: list[Message] = [
        Label(member) if isinstance(member, UiText) else member
        for family in enum_families()
        for member in family
    ]
    return members + SAMPLES


def message_dataclasses() -> set[type]:
    """Every dataclass in the production code that is a message (has a key and args)."""
    found = set()
    for name in production_modules():
        for value in vars(importlib.import_module(name)).values():
            if (
                isinstance(value, type) and dataclasses.is_dataclass(value)
                and value.__module__ == name and callable(getattr(value, "args", None))
                and hasattr(value, "key") and value is not AdminResult
            ):  # fmt: skip
                found.add(value)
    return found


def test_the_samples_cover_every_message_class() -> None:
    assert {type(sample) for sample in SAMPLES} == message_dataclasses()
    assert {f.__name__ for f in enum_families()} >= {
        "CardProblem", "DmpProblem", "JourneyProblem", "PinEntry", "PrinterNote", "UiText",
        "PaymentProblem", "ExportProblem",
    }  # fmt: skip


@pytest.mark.parametrize("catalog", [FR, EN], ids=["fr", "en"])
def test_a_catalogue_holds_exactly_the_keys_of_the_code(catalog: dict[str, object]) -> None:
    keys = {message.key for message in every_message()}
    assert sorted(keys - set(catalog)) == []  # missing
    assert sorted(set(catalog) - keys) == []  # unused


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("message", every_message(), ids=lambda m: f"{type(m).__name__}:{m.key}")
def test_every_message_renders(message: Message, language: str) -> None:
    text = render(message, language)
    assert text.strip()
    assert message.key not in text  # a real sentence, not the key shown as it is
    assert "{" not in text  # every argument filled
    assert "}" not in text


def test_the_texts_name_only_arguments_their_messages_give() -> None:
    """A template asking for an argument no message of its key has would fail on screen."""
    given: dict[str, set[str]] = {}
    for message in every_message():
        given.setdefault(message.key, set()).update(message.args())
    for catalog in (FR, EN):
        for key, entry in catalog.items():
            templates = [entry.one, entry.other] if isinstance(entry, Plural) else [entry]
            for template in templates:
                wanted = {name for _, name, _, _ in string.Formatter().parse(template) if name}
                assert wanted <= given[key], (key, wanted - given[key])


def test_the_english_differs_from_the_french() -> None:
    same = {key for key in FR if FR[key] == EN[key]}
    assert same <= {"admin.ok", "contact.mobile", "contact.email", "common.ok"}


SOURCES = [p for p in ROOT.rglob("*") if p.suffix in (".py", ".kv") and "catalog_" not in p.name]


def _uses(family: str, member: str) -> bool:
    pattern = re.compile(rf"\b(?:{family}|T)\.{member}\b" if family == "UiText" else
                         rf"\b{family}\.{member}\b")  # fmt: skip
    return any(pattern.search(path.read_text(encoding="utf-8")) for path in SOURCES)


@pytest.mark.parametrize(
    ("family", "member"),
    [(f.__name__, m.name) for f in enum_families() for m in f if not m.name.endswith("_TITLE")]
    + [("UiText", "ADMIN_TITLE")],
)
def test_every_message_is_used_somewhere(family: str, member: str) -> None:
    assert _uses(family, member), f"{family}.{member} is never used"


def test_every_screen_has_a_title_and_every_title_a_screen() -> None:
    titles = {m.value[: -len(".title")] for m in UiText if m.name.endswith("_TITLE")}
    assert titles == {screen.value for screen in Screen} | {"admin"}


def test_the_consent_texts_exist_in_both_languages() -> None:
    """The information and consent wording is versioned apart from the catalogues (the
    ledger keeps its SHA-256 per act): it too must be there in French and in English."""
    tables = [consent_text.INFORMATION, consent_text.CONSENT, consent_text.BRIS_DE_GLACE,
              consent_text.CENTRE15, consent_text.WEB_ACCESS_WARNING]  # fmt: skip
    for table in tables:
        assert set(table) == {"fr", "en"}
        assert table["fr"].strip()
        assert table["en"].strip()
        assert table["fr"] != table["en"]
    assert consent_text.consent_text_sha256("fr") != consent_text.consent_text_sha256("en")
