from pathlib import Path

from kiosk.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_example_config_is_valid() -> None:
    config = load_config(ROOT / "config" / "kiosk.example.toml")
    assert config.readers.patient == ""
    assert config.readers.professional == ""
    assert config.printer.kind == "none"
    assert config.kiosk.language == "fr"
