import tomllib
from dataclasses import fields
from pathlib import Path

from kiosk.config import Config, load_config

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
