"""Running tests/ui/ui_driver.py: one subprocess, one Kivy window, one JSON line back."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("ui_driver.py")
SIZE = (800, 480)


def run_driver(*args: str, timeout: float = 60) -> dict[str, Any]:
    """``python tests/ui/ui_driver.py ARGS``; its JSON line, or a failure with its log."""
    process = subprocess.Popen(
        [sys.executable, str(DRIVER), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # the kiosk of this working tree
        start_new_session=True,  # its own group: a hung driver is stopped with its Xvfb
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"ui_driver {' '.join(args)} did not finish within {timeout} s")
    log = _kiosk_log(stderr)
    assert process.returncode == 0, f"ui_driver exited with {process.returncode}\n{log}"
    lines = stdout.strip().splitlines()
    assert lines, f"ui_driver printed nothing\n{log}"
    data: dict[str, Any] = json.loads(lines[-1])
    assert data["error"] is None, f"{data['error']}\n{log}"
    data["log"] = log  # shown by an assertion on the result that fails
    return data


def _kiosk_log(stderr: str) -> str:
    """The last lines of the driver's log that matter (not Kivy's start-up chatter)."""
    lines = [line for line in stderr.splitlines() if " kiosk." in line or "Error" in line]
    return "\n".join(lines[-30:])


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def shots_dir(default: Path) -> Path:
    """Where screenshots go: KIOSK_SHOTS (``1`` = out/ui-shots in the repository), else
    ``default`` (a pytest temporary directory)."""
    wanted = os.environ.get("KIOSK_SHOTS", "")
    if not wanted:
        return default
    if wanted.lower() in ("1", "yes", "true"):
        return ROOT / "out" / "ui-shots"
    return Path(wanted)


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def access_codes(receipt_text: str) -> tuple[str, str]:
    """(identifier, password) as printed on the receipt."""
    receipt_text = " ".join(receipt_text.split())  # pdftotext may break lines anywhere
    identifier = re.search(r"Identifiant / Identifier : (\S+)", receipt_text)
    password = re.search(r"Mot de passe provisoire / Provisional password : (\S+)", receipt_text)
    assert identifier, f"no identifier on the receipt:\n{receipt_text}"
    assert password, f"no password on the receipt:\n{receipt_text}"
    return identifier.group(1), password.group(1)
