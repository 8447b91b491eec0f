"""The ledger's keys and kiosk id under `kiosk ledger` (issue 12, item 17).

Only provisioning or the kiosk's first start make a ledger's keys. A command run on a
ledger copied without its keys refuses to write, naming the missing file, and leaves the
directory as it was; it verifies with `--public-key`. `verify` tells "the key is missing
or not this ledger's" (exit 3) apart from "an entry was altered" (exit 2). The ledger
records its kiosk id: a command run under a config with another id writes, and reports,
the ledger's own.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from kiosk.billing.keys import PUBLIC_KEY_FILE, SECRET_FILE, SIGNING_KEY_FILE, load_or_create_keys
from tests.conftest import run_kiosk
from tests.integration.ledger_writer import KIOSK_ID, build_ledger

PAYMENTS = (
    "date_paiement;reference;montant;periode_debut;periode_fin\n"
    "15/04/2026;ROSP-COPY-1;1,00;01/01/2025;31/01/2025\n"
)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kiosk's state directory: a ledger with signed checkpoints and its keys."""
    state = tmp_path_factory.mktemp("kiosk-state")
    build_ledger(state, journeys=8)
    return state


def files_of(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def copy_ledger(original: Path, where: Path, *keys: str) -> Path:
    where.mkdir(parents=True)
    shutil.copy(original / "ledger.db", where / "ledger.db")
    for name in keys:
        shutil.copy(original / name, where / name)
    return where / "ledger.db"


def payments_file(tmp_path: Path) -> Path:
    path = tmp_path / "paiements.csv"
    path.write_text(PAYMENTS, encoding="utf-8")
    return path


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("kept", "missing"),
    [
        ((), (SECRET_FILE, SIGNING_KEY_FILE)),
        ((PUBLIC_KEY_FILE,), (SECRET_FILE, SIGNING_KEY_FILE)),
        ((SECRET_FILE, PUBLIC_KEY_FILE), (SIGNING_KEY_FILE,)),
        ((SIGNING_KEY_FILE, PUBLIC_KEY_FILE), (SECRET_FILE,)),
    ],
    ids=["no-keys", "public-key-only", "no-signing-key", "no-secret"],
)
def test_a_copied_ledger_without_its_keys_is_never_written_and_gets_no_new_keys(
    original: Path, tmp_path: Path, kept: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    copy = copy_ledger(original, tmp_path / "copy", *kept)
    before = files_of(copy.parent)
    csv = payments_file(tmp_path)
    for args in (
        ["ledger", "import-payments", str(csv), "--ledger", str(copy)],
        ["ledger", "checkpoint", "--ledger", str(copy)],
    ):
        line = one_line_failure(run_kiosk(*args))
        for name in missing:
            assert str(copy.parent / name) in line, line
        assert "nothing was written" in line, line
        assert files_of(copy.parent) == before  # no key made, the ledger as it was
    # ... and it still verifies, with the kiosk's public key given
    result = run_kiosk(
        "ledger", "verify", "--ledger", str(copy),
        "--public-key", str(original / PUBLIC_KEY_FILE),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "signed checkpoints" in result.stdout
    assert files_of(copy.parent) == before


def test_the_pdf_of_a_copy_stays_intact_after_a_refused_import(
    original: Path, tmp_path: Path
) -> None:
    """The reported sequence: import-payments on a copy with its public key only, then the
    accountant's PDF: it must not say the untouched ledger is not intact."""
    copy = copy_ledger(original, tmp_path / "copy", PUBLIC_KEY_FILE)
    run_kiosk("ledger", "import-payments", str(payments_file(tmp_path)), "--ledger", str(copy))
    out = tmp_path / "synthese.pdf"
    result = run_kiosk("ledger", "export", "--format", "pdf", "--out", str(out),
                       "--ledger", str(copy))  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "NON INTACT" not in text
    verified = run_kiosk("ledger", "verify", "--ledger", str(copy))
    assert verified.returncode == 0, verified.stderr


def test_verify_tells_a_wrong_key_apart_from_an_altered_entry(
    original: Path, tmp_path: Path
) -> None:
    copy = copy_ledger(original, tmp_path / "copy")
    stranger = tmp_path / "stranger"
    load_or_create_keys(stranger, "kiosk-stranger")  # a fresh key, as the old code made one
    shutil.copy(stranger / PUBLIC_KEY_FILE, copy.parent / PUBLIC_KEY_FILE)
    wrong_key = run_kiosk("ledger", "verify", "--ledger", str(copy))
    line = one_line_failure(wrong_key)
    assert wrong_key.returncode == 3
    assert "the key is missing or not this ledger's" in line
    assert "NOT intact" not in line
    # the right key given: intact
    right = run_kiosk("ledger", "verify", "--ledger", str(copy),
                      "--public-key", str(original / PUBLIC_KEY_FILE))  # fmt: skip
    assert right.returncode == 0, right.stderr
    # an altered entry, with the right key: exit 2, named as such
    conn = sqlite3.connect(copy)
    conn.execute("DROP TRIGGER entries_append_only_update")
    conn.execute("UPDATE entries SET amount_cents = 9999 WHERE seq = 3")
    conn.commit()
    conn.close()
    altered = run_kiosk("ledger", "verify", "--ledger", str(copy),
                        "--public-key", str(original / PUBLIC_KEY_FILE))  # fmt: skip
    line = one_line_failure(altered)
    assert altered.returncode == 2
    assert "NOT intact" in line
    assert "entry 3 was altered" in line
    assert "not this ledger's" not in line


def test_keys_from_another_kiosk_beside_a_ledger_are_refused_before_any_write(
    original: Path, tmp_path: Path
) -> None:
    csv = payments_file(tmp_path)
    stranger = tmp_path / "stranger"
    load_or_create_keys(stranger, "kiosk-stranger")
    for swapped, says in ((SIGNING_KEY_FILE, "signing key"), (SECRET_FILE, "secret")):
        others = [n for n in (SECRET_FILE, SIGNING_KEY_FILE, PUBLIC_KEY_FILE) if n != swapped]
        copy = copy_ledger(original, tmp_path / f"copy-{swapped}", *others)
        shutil.copy(stranger / swapped, copy.parent / swapped)
        before = files_of(copy.parent)
        line = one_line_failure(
            run_kiosk("ledger", "import-payments", str(csv), "--ledger", str(copy))
        )
        assert f"the {says} beside it is not this ledger's" in line
        assert files_of(copy.parent) == before


def test_a_command_writes_and_reports_the_ledgers_own_kiosk_id(
    original: Path, tmp_path: Path
) -> None:
    copy = copy_ledger(original, tmp_path / "copy", SECRET_FILE, SIGNING_KEY_FILE,
                       PUBLIC_KEY_FILE)  # fmt: skip
    config = tmp_path / "kiosk.toml"
    config.write_text('[ledger]\nkiosk_id = "kiosk-config-default"\n')
    csv = payments_file(tmp_path)
    result = run_kiosk("ledger", "import-payments", str(csv), "--ledger", str(copy),
                       "--config", str(config))  # fmt: skip
    assert result.returncode == 0, result.stderr
    result = run_kiosk("ledger", "checkpoint", "--ledger", str(copy), "--config", str(config))
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        ids = {row[0] for row in conn.execute("SELECT kiosk_id FROM entries")}
        meta = dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()
    assert ids == {KIOSK_ID}
    assert meta["kiosk_id"] == KIOSK_ID
    report = run_kiosk("ledger", "report", "--ledger", str(copy), "--json",
                       "--config", str(config))  # fmt: skip
    assert json.loads(report.stdout)["kiosk_id"] == KIOSK_ID
    out = tmp_path / "synthese.pdf"
    result = run_kiosk("ledger", "export", "--format", "pdf", "--out", str(out),
                       "--ledger", str(copy), "--config", str(config))  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert KIOSK_ID in text
    assert "kiosk-config-default" not in text
    assert "NON INTACT" not in text
    assert run_kiosk("ledger", "verify", "--ledger", str(copy)).returncode == 0
