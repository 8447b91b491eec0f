"""Read a dict (TOML, JSON) into a dataclass, checked by the dataclass itself.

A field's type hint says what a value must be: ``str``, ``int``, ``float`` (an int is
taken, as a float), ``bool`` (never taken for a number), ``X | None`` (null allowed), or
a dataclass: a section, read from a nested table. Its metadata, built by :func:`rule`,
:func:`one_of` or :data:`PATH`, adds the check a well-typed value must pass with the
form the user is told to write, or marks a relative path, resolved against ``base``.
A dataclass may define ``problems(self) -> list[str]`` for checks across its keys; they
run once each of its keys is right, and ``RETIRED``, the keys an older version knew:
they are accepted, ignored and logged. Every problem is reported, each naming its key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import MappingProxyType, NoneType, UnionType
from typing import Any, NamedTuple, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")
log = logging.getLogger("kiosk.config")
Meta = Mapping[str, Any]

PATH: Meta = MappingProxyType({"path": True})
_ARTICLES = {str: "a str", int: "an int", float: "a float", bool: "a bool", NoneType: "null"}


def rule(form: str, check: Callable[[Any], bool]) -> Meta:
    """A field's metadata: a value must pass ``check``, else "expected ``form``"."""
    return MappingProxyType({"form": form, "check": check})


def one_of(options: Collection[str]) -> Meta:
    return rule(f"one of {', '.join(options)}", lambda value: value in options)


class _Field(NamedTuple):  # lighter to define than a dataclass: this module loads at boot
    section: type | None  # a dataclass, read from a nested table
    types: tuple[type, ...]  # else the types a value may have (NoneType: null)
    meta: Meta


def parse(
    cls: type[T],
    data: Mapping[str, object],
    where: str = "",
    base: Path | None = None,
    given: Mapping[str, object] | None = None,
) -> T | list[str]:
    """``cls`` built from ``data``, or every problem found. ``where``: the section named in
    each problem (``[dmp]``); ``given``: fields set by the caller, never read from data."""
    schema = _schema(cls)
    values = dict(given or {})
    known = sorted(set(schema) - set(values))
    problems: list[str] = []
    retired: Mapping[str, str] = getattr(cls, "RETIRED", {})
    for key, value in data.items():
        spec = schema.get(key) if key in known else None
        if spec is None and key in retired:
            log.warning("%s %s is no longer used (%s): it can be removed", where, key, retired[key])
        elif spec is None:
            noun = "section" if all(schema[name].section for name in known) else "key"
            problems.append(_unknown(key, known, where, noun))
        elif spec.section is not None:
            table = f"{where[:-1]}.{key}]" if where else f"[{key}]"
            if not isinstance(value, Mapping):
                problems.append(f"{table} must be a table")
            elif isinstance(section := parse(spec.section, value, table, base), list):
                problems += section
            else:
                values[key] = section
        elif problem := _problem(spec, value):
            problems.append(f"{where} {key}: {problem}" if where else f"{key}: {problem}")
        else:
            values[key] = _converted(spec, value, base)
    if problems:
        return problems
    instance = cls(**values)
    check_across = getattr(instance, "problems", None)
    across: list[str] = check_across() if check_across is not None else []
    if across:
        return [f"{where} {problem}" if where else problem for problem in across]
    return instance


def _schema(cls: type) -> dict[str, _Field]:
    hints = get_type_hints(cls)  # ``from __future__ import annotations`` leaves strings
    schema = {}
    for item in fields(cls):
        hint = hints[item.name]
        if isinstance(hint, type) and is_dataclass(hint):
            schema[item.name] = _Field(hint, (), item.metadata)
            continue
        types = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
        if not set(types) <= set(_ARTICLES):
            raise TypeError(f"{cls.__name__}.{item.name}: unsupported type {hint!r}")
        schema[item.name] = _Field(None, types, item.metadata)
    return schema


def _problem(spec: _Field, value: object) -> str:
    """What is wrong with ``value``, "" if nothing."""
    if not any(_accepts(kind, value) for kind in spec.types):
        got = "null" if value is None else type(value).__name__
        return f"expected {' or '.join(_ARTICLES[kind] for kind in spec.types)}, got {got}"
    check = spec.meta.get("check")
    if value is not None and check is not None and not check(value):
        return f"expected {spec.meta['form']}"
    return ""


def _accepts(kind: type, value: object) -> bool:
    if kind is NoneType:
        return value is None
    if isinstance(value, bool):
        return kind is bool
    return isinstance(value, int | float if kind is float else kind)


def _converted(spec: _Field, value: object, base: Path | None) -> object:
    if isinstance(value, int) and not isinstance(value, bool) and int not in spec.types:
        return float(value)  # an int accepted for a float
    if spec.meta.get("path") and isinstance(value, str) and value and base is not None:
        return str(base / value)
    return value


def _unknown(key: str, known: list[str], where: str, noun: str) -> str:
    import difflib  # only when a key is wrong: not at boot

    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known {noun}s: {', '.join(known)}"
    return f"{where + ' ' if where else ''}unknown {noun} {key!r} ({hint})"


class JsonFileError(ValueError):
    """A JSON file that cannot be read: one line, without the file's name (the caller's)."""


def read_json(path: Path) -> object:
    """A JSON file's value, or :class:`JsonFileError` saying why in a few words: absent,
    unreadable, not UTF-8, not JSON (with the line), nested too deeply for the parser.
    The one reader of the kiosk's JSON inputs (card profiles, plans, sandbox seeds)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JsonFileError("no such file") from None
    except OSError as exc:
        raise JsonFileError(f"cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise JsonFileError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise JsonFileError(f"not JSON, line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise JsonFileError("JSON nested too deeply") from None
