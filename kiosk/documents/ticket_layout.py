"""The accusé as ticket lines: the same ``ReceiptContent`` as the PDF, in the same order,
word-wrapped to the printer's width (42 characters on 80 mm paper) in what code page
CP858 can print. Pure: ``ticket.py`` sends these lines to the printer.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass

from kiosk.documents.content import Entry, ReceiptContent

CODEC = "cp858"  # Python's codec for the code page the ticket selects (PC858)
BULLET = "- "
GLUE = "\u2060"  # WORD JOINER: a space the wrapping must not break at
_GLUED = "\x00"  # what a GLUE is while wrapping: not whitespace to textwrap

# Typographic characters CP858 lacks, as a ticket printer can print them.
_PLAIN = str.maketrans(
    {
        "—": "-", "–": "-", "‐": "-", "‑": "-", "‘": "'", "’": "'", "‚": ",", "“": '"',
        "”": '"', "„": '"', "…": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
        "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "•": "-",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TicketLine:
    text: str
    bold: bool = False
    big: bool = False  # double height (the width stays: the line still fits)
    center: bool = False
    qr: str = ""  # a QR code of this content instead of text (escpos ``qr()``)


def printable(text: str) -> str:
    """``text`` with every character the ticket's code page can print; control characters
    (a stray ESC would be a printer command) become spaces."""
    out = []
    for char in text.translate(_PLAIN):
        if unicodedata.category(char) == "Cc":
            out.append(" ")
            continue
        try:
            char.encode(CODEC)
        except UnicodeEncodeError:
            char = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode() or "?"
        out.append(char)
    return "".join(out)


def _wrap(
    text: str,
    width: int,
    indent: str = "",
    *,
    bold: bool = False,
    big: bool = False,
    center: bool = False,
) -> list[TicketLine]:
    """Wrapped at spaces only; a ``GLUE`` or a no-break space joins two words."""
    lines = textwrap.wrap(
        _GLUED.join(printable(part) for part in text.replace("\u00a0", GLUE).split(GLUE)),
        width, break_on_hyphens=False,
        subsequent_indent=indent,
    ) or [""]  # fmt: skip
    return [TicketLine(part.replace(_GLUED, " "), bold, big, center) for part in lines]


def _glued(label: str, separator: str, value: str = "") -> str:
    """``label : value`` where the colon never starts a line: it stays with the label's
    last word and the value's first."""
    return f"{label}{separator.replace(' ', GLUE)}{value}"


def _entries(entries: tuple[Entry, ...], width: int) -> list[TicketLine]:
    lines: list[TicketLine] = []
    for entry in entries:
        lines += _wrap(_glued(entry.label, entry.separator, entry.value), width, indent="  ")
    return lines


def ticket_lines(content: ReceiptContent, width: int) -> list[TicketLine]:
    """The ticket, line by line, each at most ``width`` characters.

    The identifier and the password each get a line of their own, in bold, never cut at
    a hyphen: a patient copies them character by character.
    """
    blank = TicketLine("")
    lines = _wrap(content.title, width, bold=True, big=True, center=True)
    lines += [blank, *_wrap(content.lead, width), blank]
    lines += _entries(content.person, width)
    lines += [blank, *_entries(content.visit, width)]
    if content.handed_over:
        lines += _wrap(content.handed_over, width)
    lines += [blank, *_wrap(content.choices_heading, width, bold=True)]
    lines += _entries(content.choices, width)
    access = content.access
    if access is not None:
        lines.append(blank)
        lines += _wrap(access.heading, width, bold=True)
        lines += _wrap(_glued(access.identifier_label, " :"), width)
        lines += _wrap(access.identifier, width, bold=True, big=True)
        lines += _wrap(_glued(access.password_label, " :"), width)
        lines += _wrap(access.password, width, bold=True, big=True)
        lines.append(blank)
        lines += _wrap(access.advice, width)
    lines += [blank, *_wrap(content.manage_heading, width, bold=True)]
    lines += _wrap(content.manage_intro, width)
    for item in content.manage_items:
        lines += _wrap(BULLET + item, width, indent=" " * len(BULLET))
    lines += [blank, TicketLine("", center=True, qr=content.qr_url)]
    lines += _wrap(content.qr_caption, width, center=True)
    return lines
