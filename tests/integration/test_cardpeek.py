"""Third-party check (docs/architecture.md §3): Cardpeek's own ``vitale_2.lua`` reads our emulator.

Cardpeek runs headless (``-c``) with ``HOME`` in a temporary directory. Its first run only
unpacks its scripts into ``~/.cardpeek`` (answering its two console questions) and does
not load ``config.lua``, which is what preloads ``scripts/lib/apdu.lua`` (``card.select``,
``card.tree_startup``…); so a set-up run comes first and the read is the second run, whose
working directory Cardpeek sets to ``~/.cardpeek/scripts``. The card goes in vpcd slot 1
only. Cardpeek's console questions loop forever on end of input, so every run is bounded by
a timeout and by a file-size limit on everything it writes.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kiosk.sim.emulators.profiles import load_emulator
from kiosk.sim.emulators.vpcd import VpcdCard, slot_port
from tests.conftest import CARDS, READERS, Pcscd, load_profile, wait_for

pytestmark = [
    pytest.mark.pcsc,
    pytest.mark.skipif(shutil.which("cardpeek") is None, reason="cardpeek is not installed"),
]

SLOT = 1  # slot 0 belongs to the other integration tests
READER = READERS[SLOT]
MAX_OUTPUT = 4 * 1024 * 1024  # bytes any cardpeek run may write to one file
PROFILES = [
    "vitale-famille-martin.json",
    "vitale-famille-casanova.json",
    "vitale-dupre-le-gall.json",
]

Beneficiary = tuple[str, str, str | None, str]  # last name, first name, NIR, birth date


def limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_OUTPUT, MAX_OUTPUT))


def run_cardpeek(
    home: Path, *args: str, answers: bytes = b"", timeout: float = 10
) -> tuple[int, str]:
    """Exit code and console output of ``cardpeek -c ARGS`` (killed on timeout)."""
    log = home / "console.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["cardpeek", "-c", *args],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            preexec_fn=limit_file_size,
        )
        try:
            process.communicate(answers, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode, log.read_text(errors="replace")[-5000:]


@pytest.fixture(scope="module")
def cardpeek_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cardpeek-home")
    # First run: "create ~/.cardpeek?" 1) Yes, then "restart recommended" 1) Ok; no reader.
    code, output = run_cardpeek(home, "-r", "none", "-e", "os.exit(0)", answers=b"1\n1\n")
    assert code == 0, output
    assert (home / ".cardpeek" / "config.lua").is_file(), output
    assert (home / ".cardpeek" / "scripts" / "vitale_2.lua").is_file(), output
    return home


@pytest.fixture
def card_in_slot_1(pcscd: Pcscd) -> Iterator[None]:
    """pcscd must see slot 1 empty before and after each read (no stale state)."""
    wait_for(partial(pcscd.absent, READER), 5, f"{READER} to be empty")
    yield
    wait_for(partial(pcscd.absent, READER), 5, f"the card in {READER} to be pulled")


def attributes(node: ET.Element) -> dict[str, str]:
    return {a.get("name", ""): a.text or "" for a in node.findall("attr")}


def node_bytes(node: ET.Element) -> bytes:
    value = attributes(node)["val"]  # encoding="bytes": "<bits per unit>:<hex>"
    assert value.startswith("8:"), value
    return bytes.fromhex(value[2:])


def beneficiaries_in(view: Path) -> list[Beneficiary]:
    # Cardpeek 0.8.4 writes `<?xml version="1.0" type="UTF-8"?>`, not a valid declaration.
    text = re.sub(r"^<\?xml[^>]*\?>", "", view.read_text(encoding="utf-8"))
    root = ET.fromstring(text)
    found: list[Beneficiary] = []
    for node in root.iter("node"):
        attrs = attributes(node)
        if attrs.get("id") != "65" or attrs.get("label") != "Bénéficiaire":
            continue
        fields: dict[str, tuple[str, str]] = {}
        for child in node.findall("node"):
            child_attrs = attributes(child)
            fields[child_attrs["id"]] = (
                child_attrs["label"],
                node_bytes(child).decode("utf-8"),
            )
        # Labels come from Cardpeek's VITALE_IDO table: it recognised each field.
        assert fields["80"][0] == "Nom"
        assert fields["81"][0] == "Prénom"
        assert fields["82"][0] == "Date de naissance"
        nir = fields.get("93")
        if nir is not None:
            assert nir[0] == "Numéro de sécurité sociale"
        found.append((fields["80"][1], fields["81"][1], nir[1] if nir else None, fields["82"][1]))
    return found


def expected(profile: dict[str, Any]) -> list[Beneficiary]:
    return [
        (b["last_name"], b["first_name"], b["nir"], b["birth_date"])
        for b in profile["beneficiaries"]
    ]


def test_profiles_under_test_exist() -> None:
    for name in PROFILES:
        assert (CARDS / name).is_file()
    assert len(load_profile(PROFILES[0])["beneficiaries"]) == 5


@pytest.mark.usefixtures("card_in_slot_1")
@pytest.mark.parametrize("name", PROFILES)
def test_cardpeek_vitale_2_script_reads_every_beneficiary(
    pcscd: Pcscd, cardpeek_home: Path, tmp_path: Path, name: str
) -> None:
    profile = load_profile(name)
    view = tmp_path / "out.xml"
    script = f'dofile("vitale_2.lua"); ui.save_view("{view}"); os.exit(0)'
    with VpcdCard(load_emulator(CARDS / name), slot_port(SLOT)):
        wait_for(partial(pcscd.present, READER), 5, f"card in {READER}")
        code, output = run_cardpeek(cardpeek_home, "-r", f"pcsc://{READER}", "-e", script)
    assert code == 0, output
    assert "Connection successful" in output, output
    assert view.is_file(), output
    assert beneficiaries_in(view) == expected(profile), output
