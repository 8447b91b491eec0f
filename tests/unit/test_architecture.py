"""The architecture holds (docs/architecture.md): the import-linter contracts of
pyproject.toml (layers; production never imports simulation; only the UI imports
Kivy), no import cycle (deferred imports included), no two modules with one name, and a
fresh interpreter running the production code loads nothing of the simulation."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

import kiosk
from kiosk.sim.data import CARDS_DIR
from kiosk.sim.sandbox.pki import ensure_pki
from tests.conftest import fresh_modules

ROOT = Path(kiosk.__file__).resolve().parent
CHECKOUT = ROOT.parent
SIMULATION = "kiosk.sim"


def production_modules() -> list[str]:
    """Every module a kiosk in a pharmacy may load: all but the simulation package."""
    names = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(SIMULATION) and parts[-1] != "__main__":
            names.append(name)
    return names


def test_the_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is a dev dependency (pyproject.toml)"
    result = subprocess.run(
        [lint, "--no-cache", "--no-logo"], cwd=CHECKOUT, capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 kept, 0 broken" in result.stdout


def test_every_command_module_but_the_simulations_is_kept_from_it() -> None:
    """A new module in kiosk/cli must join the contract's list (pyproject.toml)."""
    import tomllib

    data = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = data["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["name"].startswith("Only the commands")]
    modules = {f"kiosk.cli.{path.stem}" for path in (ROOT / "cli").glob("*.py")}
    assert modules - {"kiosk.cli.__init__", "kiosk.cli.__main__", "kiosk.cli.sim_commands"} == set(
        contract["source_modules"]
    )


def _cycles(edges: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        yield sorted(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])


def test_no_import_cycle_deferred_imports_included() -> None:
    graph = grimp.build_graph("kiosk", cache_dir=None)  # every import statement, anywhere
    edges = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    assert list(_cycles(edges)) == []
    # the check itself sees a cycle when there is one
    assert list(_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == [["a", "b", "c"]]


def test_no_two_modules_share_a_name() -> None:
    names: dict[str, list[str]] = {}
    for path in ROOT.rglob("*"):
        if path.suffix == ".py" and path.stem not in ("__init__", "__main__"):
            names.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
        elif path.is_dir() and (path / "__init__.py").exists():
            names.setdefault(path.name, []).append(str(path.relative_to(ROOT)) + "/")
    shared = {name: paths for name, paths in names.items() if len(paths) > 1}
    assert shared == {}


def test_production_code_loads_no_simulation_in_a_fresh_interpreter() -> None:
    imports = "\n".join(f"import {name}" for name in production_modules())
    loaded = fresh_modules(imports)
    assert "kiosk.appliance.device" in loaded  # what `kiosk run` builds, really imported
    assert [name for name in loaded if name.startswith(SIMULATION)] == []


def test_the_core_and_the_services_load_no_kivy() -> None:
    pure = [name for name in production_modules() if not name.startswith(("kiosk.ui",
            "kiosk.appliance", "kiosk.cli"))]  # fmt: skip
    loaded = fresh_modules("\n".join(f"import {name}" for name in pure))
    assert "kiosk.core.journey" in loaded
    assert [name for name in loaded if name == "kivy" or name.startswith("kivy.")] == []


@pytest.mark.parametrize(
    ("command", "reached"),
    [
        (["run"], "kiosk.appliance.startup_checks"),  # as systemd starts it
        (["dmp", "status", "--profile", "vitale.json", "--cps-profile", "cps.json"],
         "kiosk.hardware.card_reading"),  # the inputs read, so a DMP call follows
        (["dmp", "create", "--consent", "--profile", "vitale.json", "--cps-profile", "cps.json"],
         "kiosk.hardware.card_reading"),  # the inputs read, so a DMP call follows
        (["ledger", "report"], "kiosk.cli.ledger_commands"),
        (["card", "read", "--reader", "patient"], "kiosk.hardware.card_reading"),
        (["doctor"], "kiosk.appliance.doctor.report"),  # pcscd, the DMP: all tried
        (["provision", "--out", "new.toml"], "kiosk.cli.provision_commands"),  # asks, no tty
    ],
    ids=["run", "dmp status", "dmp create", "ledger report", "card read", "doctor", "provision"],
)  # fmt: skip
def test_the_production_commands_load_no_simulation(
    tmp_path: Path, command: list[str], reached: str
) -> None:
    """Each command run for real, in a fresh interpreter, up to the failure the test
    setup makes: a DMP endpoint on loopback where nothing listens, no ledger yet, no
    card in a reader (the profile files are read: that path loads no emulator either)."""
    pki = ensure_pki(tmp_path / "pki")
    config = tmp_path / "kiosk.toml"
    config.write_text(
        '[dmp]\nendpoint = "https://127.0.0.1:9/si-dmp-server/v2/services"\n'
        f'ca = "{pki.ca}"\nauth_cert = "{pki.auth}"\nauth_key = "{pki.auth_key}"\n'
        f'sign_cert = "{pki.sign}"\nsign_key = "{pki.sign_key}"\nstructure_id = "3750012345"\n'
        "deadline = 1.0\n"
        f'[ledger]\npath = "{tmp_path / "ledger.db"}"\n'
    )
    shutil.copy(CARDS_DIR / "vitale-famille-martin.json", tmp_path / "vitale.json")
    shutil.copy(CARDS_DIR / "cps-dupont-titulaire.json", tmp_path / "cps.json")
    argv = ["kiosk", *command, "--config", str(config)]
    code = (
        f"import os, sys\nos.chdir({str(tmp_path)!r})\nfrom kiosk.cli import main\n"
        f"sys.argv = {argv!r}\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code != 0, exc.code\n"
    )
    loaded = fresh_modules(code)
    assert reached in loaded  # the command got that far before it failed
    assert [name for name in loaded if name.startswith(SIMULATION)] == []
