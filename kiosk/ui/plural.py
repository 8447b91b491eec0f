"""A catalogue entry: a text with ``{name}`` arguments, or one that depends on a count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plural:
    """``one`` when the argument ``count`` is 1, else ``other`` (the English rule; the
    French texts write "essai(s)" and need none)."""

    count: str
    one: str
    other: str

    def choose(self, args: Mapping[str, object]) -> str:
        return self.one if args.get(self.count) == 1 else self.other


Entry = str | Plural
