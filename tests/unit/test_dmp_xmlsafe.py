"""xmlsafe.parse_xml: hostile documents are refused quickly and never leak a local file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from kiosk.dmp.xmlsafe import MAX_DOCUMENT, UnsafeXml, parse_xml

PASSWD = Path("/etc/passwd")
# Every non-trivial line of the file an XXE would read: none may show up anywhere.
SECRETS = [line for line in PASSWD.read_text().splitlines() if len(line) >= 8] + ["root:x:0"]

DECL = '<?xml version="1.0" encoding="{enc}"?>'
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, 10)
    )
    + "]><lolz>&lol9;</lolz>"
)
HOSTILE = {
    "xxe": '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    "xxe_in_attribute": '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r a="&x;"/>',
    "xxe_parameter_entity": ('<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>'),
    "xxe_error_based": (
        '<!DOCTYPE r [<!ENTITY % file SYSTEM "file:///etc/passwd">'
        "<!ENTITY % eval \"<!ENTITY &#x25; error SYSTEM 'file:///nope/%file;'>\">"
        "%eval;%error;]><r/>"
    ),
    "external_dtd": '<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>',
    "billion_laughs": LAUGHS,
    "quadratic_blowup": (
        '<!DOCTYPE r [<!ENTITY a "' + "x" * 20_000 + '">]><r>' + "&a;" * 2_000 + "</r>"
    ),
    "doctype_alone": "<!DOCTYPE r><r/>",
    "doctype_empty_subset": "<!DOCTYPE r []><r>ok</r>",
}
ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]


def leaks(text: str) -> bool:
    return any(secret in text for secret in SECRETS)


def assert_refused_quickly(data: bytes) -> UnsafeXml:
    started = time.monotonic()
    with pytest.raises(UnsafeXml) as caught:
        parse_xml(data)
    assert time.monotonic() - started < 1.0
    error: BaseException | None = caught.value
    while error is not None:  # the message and everything chained to it
        assert not leaks(str(error))
        assert not leaks(repr(error))
        error = error.__cause__ or error.__context__
    return caught.value


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_are_refused(name: str, encoding: str) -> None:
    label = {"utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}.get(encoding, encoding.upper())
    assert_refused_quickly((DECL.format(enc=label) + HOSTILE[name]).encode(encoding))


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_without_declaration_are_refused(name: str) -> None:
    assert_refused_quickly(HOSTILE[name].encode("utf-8"))
    assert_refused_quickly(HOSTILE[name].encode("utf-16"))  # BOM only, no byte "<!DOCTYPE"


def test_utf16_doctype_is_refused_by_the_parsed_check() -> None:
    data = (DECL.format(enc="UTF-16") + "<!DOCTYPE r><r/>").encode("utf-16")
    assert b"<!DOCTYPE" not in data  # the byte-level check cannot see it
    assert "DOCTYPE" in str(assert_refused_quickly(data))


def test_oversized_document_is_refused_before_parsing() -> None:
    data = b"<r>" + b"a" * MAX_DOCUMENT + b"</r>"
    assert "larger" in str(assert_refused_quickly(data))


def test_document_at_the_size_limit_is_accepted() -> None:
    data = b"<r>" + b"a" * (MAX_DOCUMENT - 7) + b"</r>"
    assert len(data) == MAX_DOCUMENT
    assert parse_xml(data).tag == "r"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"<r>",
        b"<r></s>",
        b"<a/><b/>",
        b"text",
        b"\xff\xfe",
        b"<r>&x;</r>",  # undefined entity
        b"<r>\x00</r>",
        "<r>é</r>".encode("latin-1"),  # invalid UTF-8
        b'<?xml version="1.0" encoding="bogus"?><r/>',
        b"<r a='1' a='2'/>",
        b"<p:r/>",  # unbound prefix
    ],
)
def test_not_well_formed_is_refused(data: bytes) -> None:
    assert_refused_quickly(data)


def test_plain_document_is_parsed_without_comments_or_pis() -> None:
    root = parse_xml(b'<?xml version="1.0"?><r xmlns="urn:x"><!-- c --><?pi x?><a>1</a></r>')
    assert root.tag == "{urn:x}r"
    assert [child.tag for child in root] == ["{urn:x}a"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600) | st.text(max_size=300).map(str.encode))
def test_fuzz_parse_xml_returns_an_element_or_refuses(data: bytes) -> None:
    try:
        root = parse_xml(data)
    except UnsafeXml:
        return
    assert isinstance(root, etree._Element)
