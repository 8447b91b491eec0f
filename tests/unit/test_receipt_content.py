"""What the accusé says (content.py) and the ticket that carries it (ticket_layout.py):
the same facts, in the same order, in the patient's language."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.dmp.models import Guardian, WebAccess
from kiosk.documents.content import SPACE_URL, birth_date_text, receipt_content
from kiosk.documents.facts import ReceiptFacts
from kiosk.documents.ticket_layout import TicketLine, ticket_lines

AT = dt.datetime(2026, 6, 30, 22, 5, tzinfo=dt.UTC)  # 1 July, 00:05 in Paris (summer time)
ACCESS = WebAccess("P123456789", "s3cr3t-Pw_x-2026")


def receipt(language: str = "fr", **options: object) -> ReceiptFacts:
    return ReceiptFacts("created", language, "Léa", "MARTIN", "20150312",
                        **options)  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("19800512", "12/05/1980"), ("19750000", "1975"), ("19750300", "03/1975"),
     ("19751300", "1975"), ("19800231", "02/1980"), ("20000229", "29/02/2000"),
     ("19000229", "02/1900"), ("00000000", ""), ("", ""), ("1975", ""), ("1975O312", ""),
     ("１９７５０３１２", "")],
)  # fmt: skip
def test_birth_dates_as_printed(raw: str, shown: str) -> None:
    assert birth_date_text(raw) == shown


@pytest.mark.parametrize(
    ("language", "role", "shown"),
    [("fr", "mere", "Parent ou tuteur : Sophie MARTIN (mère)"),
     ("fr", "pere", "Parent ou tuteur : Sophie MARTIN (père)"),
     ("fr", "tuteur", "Parent ou tuteur : Sophie MARTIN (tuteur/tutrice)"),
     ("en", "mere", "Parent or guardian: Sophie MARTIN (mother)"),
     ("en", "pere", "Parent or guardian: Sophie MARTIN (father)"),
     ("en", "tuteur", "Parent or guardian: Sophie MARTIN (guardian)"),
     ("fr", "oncle", "Parent ou tuteur : Sophie MARTIN")],
)  # fmt: skip
def test_the_legal_representative(language: str, role: str, shown: str) -> None:
    facts = receipt(language, guardian=Guardian("MARTIN", "Sophie", role))
    content = receipt_content(facts, "Pharmacie", AT)
    assert content.person[-1].text == shown
    assert len(receipt_content(receipt(language), "Pharmacie", AT).person) == 2  # an adult


def test_paris_time_and_what_is_left_out() -> None:
    content = receipt_content(receipt("de"), "  ", AT)  # German on screen: French on paper
    assert [entry.text for entry in content.visit] == ["Date : 01/07/2026 à 00:05"]
    assert content.handed_over == ""
    assert content.access is None
    assert content.qr_url == SPACE_URL == "https://www.monespacesante.fr"


@pytest.mark.parametrize("flags", [(True, True, True), (False, False, False), (True, False, True)])
def test_the_choices_as_made(flags: tuple[bool, bool, bool]) -> None:
    bris, centre15, web = flags
    access = ACCESS if web else None
    facts = receipt(
        bris_de_glace=bris, centre15=centre15, web_access_requested=web, web_access=access
    )
    values = [entry.value for entry in receipt_content(facts, "P", AT).choices]
    assert values == ["oui" if flag else "non" for flag in flags]


@pytest.mark.parametrize(("language", "words"), [("fr", "activez-le"), ("en", "activate it")])
def test_access_asked_for_but_not_on_this_paper_says_what_to_do(language: str, words: str) -> None:
    """TD1.5a failed, or the patient had left: no codes, and no bare "oui" either."""
    facts = receipt(language, web_access_requested=True, web_access=None)
    (*_, web) = receipt_content(facts, "P", AT).choices
    assert words in web.value
    assert "www.monespacesante.fr" in web.value


def test_nothing_private_in_a_repr() -> None:
    facts = receipt(guardian=Guardian("DURAND", "Sophie", "mere"), web_access=ACCESS)
    content = receipt_content(facts, "Pharmacie", AT)
    for private in ("Léa", "MARTIN", "2015", "DURAND", "s3cr3t", "P123456789"):
        assert private not in repr(facts)
        assert private not in repr(content)


def ticket(facts: ReceiptFacts, width: int = 42) -> list[TicketLine]:
    return ticket_lines(receipt_content(facts, "Pharmacie du Marché", AT), width)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("width", [24, 32, 42, 64])
def test_the_ticket_carries_the_same_texts_in_the_same_order(language: str, width: int) -> None:
    facts = receipt(language, guardian=Guardian("MARTIN", "Sophie", "pere"),
                    pharmacist="Claire DUPONT", web_access_requested=True, web_access=ACCESS,
                    patient_left=True)  # fmt: skip
    content = receipt_content(facts, "Pharmacie du Marché", AT)
    lines = ticket(facts, width)
    assert all(len(line.text) <= width for line in lines)
    words = " ".join(line.text for line in lines).split()
    at = 0
    for expected in content.texts():
        wanted = expected.replace("\u00a0", " ").split()
        found = next(i for i in range(at, len(words)) if words[i : i + len(wanted)] == wanted)
        at = found + len(wanted)
    (qr,) = [line for line in lines if line.qr]
    assert qr == TicketLine("", center=True, qr=SPACE_URL)
    assert lines.index(qr) > lines.index(next(line for line in lines if "P123456789" in line.text))
    assert lines[-1] == TicketLine("Mon espace santé", center=True)


def test_a_colon_never_starts_a_ticket_line() -> None:
    lines = ticket(receipt(bris_de_glace=False), 42)
    texts = [line.text for line in lines]
    assert "  glace) : non" in texts  # the value stays with the label's last word
    assert "  SAMU-Centre 15 : oui" in texts  # "Centre 15" is never cut
    assert not any(text.lstrip().startswith(":") for text in texts)


def test_a_control_character_in_a_name_never_reaches_the_printer() -> None:
    facts = ReceiptFacts("created", "fr", "L\x1bé\x00a", "MAR\x1dTIN", "20150312")
    for line in ticket(facts):
        assert all(char >= " " for char in line.text), line
