import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from kiosk.config import Config, ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "kiosk.example.toml"


def test_the_shipped_example_config_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert config.readers.patient == ""
    assert config.readers.professional == ""
    assert config.printer.kind == "none"
    assert config.kiosk.language == "fr"


def test_the_example_shows_every_key() -> None:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    defaults = Config()
    sections = [item.name for item in fields(Config) if item.name != "source"]
    assert set(data) == set(sections)
    for name in sections:
        assert set(data[name]) == {item.name for item in fields(getattr(defaults, name))}, name


def _documented() -> list[tuple[str, str, object]]:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    return [(section, key, value) for section, keys in data.items() for key, value in keys.items()]


def _wrong(value: object) -> object:
    """A value of another type than the documented one."""
    return ["a", "list"] if isinstance(value, str) else "not a number"


@pytest.mark.parametrize(("section", "key", "value"), _documented())
def test_every_documented_key_takes_its_value_and_refuses_another_type(
    section: str, key: str, value: object
) -> None:
    assert (
        getattr(getattr(parse_config({section: {key: value}}, base=ROOT), section), key) is not None
    )
    with pytest.raises(ConfigError) as caught:
        parse_config({section: {key: _wrong(value)}})
    (problem,) = caught.value.problems
    assert problem.startswith(f"[{section}] {key}: expected "), problem


def test_every_documented_key_wrong_at_once_is_one_line_naming_each() -> None:
    documented = _documented()
    data: dict[str, dict[str, object]] = {}
    for section, key, value in documented:
        data.setdefault(section, {})[key] = _wrong(value)
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "kiosk.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert len(caught.value.problems) == len(documented)
    for section, key, _ in documented:
        assert f"[{section}] {key}: expected" in message
