"""Tables the resilience tests print at the end of the pytest run (the CI log) and keep
in ``out/resilience/<name>.md``: what was tried, and what came of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "out" / "resilience"


@dataclass
class Table:
    name: str  # the file name in out/resilience, and the key of the table
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[object, ...]] = field(default_factory=list)

    def add(self, *row: object) -> None:
        if len(row) != len(self.headers):
            raise ValueError(f"{self.name}: {len(row)} cells for {len(self.headers)} columns")
        self.rows.append(row)

    def markdown(self) -> str:
        lines = [f"**{self.title}**", "", "| " + " | ".join(self.headers) + " |"]
        lines.append("|" + "---|" * len(self.headers))
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"


TABLES: dict[str, Table] = {}


def table(name: str, title: str, *headers: str) -> Table:
    """A table to fill; printed after the run and written to out/resilience/<name>.md."""
    TABLES[name] = Table(name, title, headers)
    return TABLES[name]


def write_tables() -> list[Table]:
    """Write every non-empty table; the ones written, for the terminal summary."""
    written = [t for t in TABLES.values() if t.rows]
    if written:
        OUT.mkdir(parents=True, exist_ok=True)
    for t in written:
        (OUT / f"{t.name}.md").write_text(t.markdown(), encoding="utf-8")
    return written
