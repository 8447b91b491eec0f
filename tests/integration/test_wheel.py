"""The wheel built from this checkout is enough to run the demo: it holds the demo's card
profiles and journeys and every ``.kv`` file, and once installed (with its dependencies
from the package index) in a fresh virtual environment outside the checkout, that
environment's ``kiosk run --demo``, headless, run from a directory outside the checkout
with the checkout not importable, opens the demo patient's DMP: outcome ``created``, a
confirmed ledger entry, a screenshot per screen, the receipt, a ledger that verifies.

The wheel is built (with the build backend the project declares, in pip's isolated build
environment) from a copy of the checkout's working tree, so the build neither writes
``build/`` and ``*.egg-info`` into the checkout nor picks up a stale ``build/lib`` from it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import READERS, Pcscd, wait_for

pytestmark = [pytest.mark.pcsc, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]  # the checkout
NOT_SOURCE = (".git", ".venv", "build", "dist", "out", "*.egg-info", "__pycache__",
              ".*_cache", ".hypothesis")  # fmt: skip

INSTALLED = """
import json, kiosk
from pathlib import Path
from kiosk.sim.data import CARDS_DIR, JOURNEYS_DIR
package = Path(kiosk.__file__).parent
print(json.dumps({
    "kiosk": kiosk.__file__,
    "cards": sorted(p.name for p in CARDS_DIR.glob("*.json")),
    "journeys": sorted(p.name for p in JOURNEYS_DIR.glob("*.json")),
    "kv": sorted(str(p.relative_to(package.parent)) for p in package.rglob("*.kv")),
}))
"""


def checked(
    command: list[str], what: str, timeout: float, env: dict[str, str], cwd: Path | None = None
) -> str:
    """``command``'s stdout; its output only in the failure message (pip is verbose)."""
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=False
    )
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-1500:]}{result.stderr[-3000:]}"
    return result.stdout


def source_files(pattern: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "kiosk").rglob(pattern))


def test_the_wheel_alone_runs_the_demo(pcscd: Pcscd, tmp_path: Path) -> None:
    assert not tmp_path.is_relative_to(ROOT)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "PYTHONPATH", "VIRTUAL_ENV")}

    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    dist = tmp_path / "dist"
    checked(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)],
        "building the wheel", 300, env=env,
    )  # fmt: skip
    (wheel,) = dist.glob("borne_dmp-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = source_files("data/cards/*.json") + source_files("data/journeys/*.json")
    assert len(data) >= 8, data  # the five card profiles and three journeys at least
    kv = source_files("*.kv")
    assert len(kv) >= 15, kv
    assert sorted(set(data + kv) - names) == []  # nothing the demo reads is left behind

    venv = tmp_path / "venv"
    checked([sys.executable, "-m", "venv", str(venv)], "creating the venv", 120, env=env)
    python = venv / "bin" / "python"
    checked(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", str(wheel)],
        "installing the wheel", 600, env=env,
    )  # fmt: skip

    work = tmp_path / "work"
    work.mkdir()
    installed = json.loads(
        checked([str(python), "-c", INSTALLED], "importing kiosk", 60, env=env, cwd=work)
    )
    site = Path(installed["kiosk"]).resolve().parent
    assert site.is_relative_to(venv.resolve()), installed["kiosk"]  # not the checkout's
    assert installed["cards"] == sorted(Path(p).name for p in data if "/cards/" in p)
    assert installed["journeys"] == sorted(Path(p).name for p in data if "/journeys/" in p)
    assert installed["kv"] == kv

    run = subprocess.run(
        [str(venv / "bin" / "kiosk"), "run", "--demo"],
        capture_output=True, text=True, timeout=180, env=env, cwd=work, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    logged = [json.loads(line)["msg"] for line in run.stderr.splitlines()]  # JSON lines
    assert any(f'Installed at "{venv}' in msg for msg in logged)  # the venv's own Kivy drew
    assert "Traceback" not in run.stderr
    summary = json.loads(run.stdout)
    assert summary["outcome"] == "created", summary
    assert summary["screens"][-2:] == ["done", "welcome"]
    assert summary["ledger_entry"]["act_code"] == "DMP_OPEN"
    assert summary["ledger_entry"]["status"] == "confirmed"
    shots = work / "out" / "shots"
    assert len(list(shots.glob("*.png"))) == len(summary["screens"])
    assert list((shots / "receipts").glob("*.pdf"))
    for reader in READERS:  # the demo pulled its cards on exit
        wait_for(partial(pcscd.absent, reader), 2, f"{reader} to be empty")
    checked(
        [str(venv / "bin" / "kiosk"), "ledger", "verify", "--config",
         "out/demo/kiosk-demo.toml"],
        "verifying the demo ledger", 60, env=env, cwd=work,
    )  # fmt: skip
