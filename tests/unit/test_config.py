"""Config parsing: every error is a ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.config import Config, ConfigError, ReadersConfig, load_config, parse_config


def test_empty_config_is_the_defaults() -> None:
    assert parse_config({}) == Config(source="(config)")
    assert parse_config({"readers": {}}).readers == ReadersConfig()


def test_readers_section() -> None:
    config = parse_config({"readers": {"patient": "Kapelse 00 01"}}, "kiosk.toml")
    assert config.readers == ReadersConfig(patient="Kapelse 00 01", professional="")
    assert config.source == "kiosk.toml"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"reader": {}}, ["'reader'", "did you mean 'readers'"]),  # unknown section, typo
        ({"network": {}}, ["'network'", "readers"]),  # unknown section
        ({"readers": {"patiant": "x"}}, ["[readers]", "'patiant'", "did you mean 'patient'"]),
        ({"readers": {"professionnal": "x"}}, ["'professionnal'", "'professional'"]),
        ({"readers": {"slot": 1}}, ["'slot'", "patient", "professional"]),  # no close match
        ({"readers": {"patient": 1}}, ["[readers] patient", "str", "int"]),  # wrong type
        ({"readers": {"professional": True}}, ["professional", "str", "bool"]),
        ({"readers": {"patient": ["a"]}}, ["patient", "list"]),
        ({"readers": "Kapelse"}, ["[readers]", "table"]),
    ],
)
def test_parse_config_errors(data: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "kiosk.toml")
    message = str(caught.value)
    assert message.startswith("kiosk.toml")
    for word in words:
        assert word in message


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config(tmp_path: Path) -> None:
    path = write(tmp_path, '[readers]\nprofessional = "Identiv 00 00"\n')
    config = load_config(path)
    assert config.readers.professional == "Identiv 00 00"
    assert config.source == str(path)


def test_load_config_typo_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[readers]\npatiant = "x"\n')
    with pytest.raises(ConfigError, match="did you mean 'patient'"):
        load_config(path)


def test_load_config_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, "[readers]\npatient = 3\n")
    with pytest.raises(ConfigError, match=r"\[readers\] patient: expected a str, got int"):
        load_config(path)


@pytest.mark.parametrize(
    "data", [b"\xff\xfe\x00binary", '[kiosk]\npharmacy_name = "é"\n'.encode("latin-1")]
)
def test_a_binary_or_non_utf8_config_is_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match="not a text file") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("text", ["[readers\n", 'patient = "a\n', "[readers]\npatient = \n"])
def test_load_config_invalid_toml(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_load_config_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="no such config file") as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_load_config_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path)


def test_load_config_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[readers]\npatient = "Env reader"\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    assert load_config().readers.patient == "Env reader"


def test_a_missing_file_named_by_the_environment_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(ConfigError, match=r"typo\.toml: no such config file"):
        load_config()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"kiosk": {"language": "de"}}, ["[kiosk] language", '"fr" or "en"']),
        ({"kiosk": {"pharmacy": "x"}}, ["'pharmacy'", "did you mean 'pharmacy_name'"]),
        ({"printer": {"kind": "cups"}}, ["[printer] kind", "none, network, usb"]),
        ({"printer": {"kind": "network"}}, ["[printer] host", "address"]),
        ({"printer": {"kind": "network", "host": "p", "port": 0}}, ["port", "1 to 65535"]),
        ({"printer": {"kind": "usb", "usb_vendor": 0x0416}}, ["usb_vendor, usb_product"]),
        ({"printer": {"kind": "serial"}}, ["[printer] device", "serial"]),
        ({"printer": {"width": 200}}, ["width", "24 to 64"]),
        ({"speech": {"speaker_device": "hw 0"}}, ["[speech] speaker_device", "ALSA device"]),
        ({"speech": {"headset_device": "-D"}}, ["[speech] headset_device", "ALSA device"]),
        (
            {"speech": {"headset_device": "hw:1", "speaker_device": "hw:1"}},
            ["[speech] headset_device", "another output"],
        ),
        (
            {"speech": {"headset_device": "auto", "speaker_device": "hw:0"}},
            ["[speech] headset_device", '"auto"'],
        ),
        ({"printer": {"port": "9100"}}, ["[printer] port", "int", "str"]),
        ({"kiosk": {"idle_warning": 5}}, ["[kiosk] idle_warning", "20 to 600 seconds"]),
        ({"kiosk": {"idle_grace": 3600}}, ["[kiosk] idle_grace", "10 to 300 seconds"]),
        ({"kiosk": {"key_guard_ms": -1}}, ["[kiosk] key_guard_ms", "0 to 1000 ms"]),
    ],
)
def test_kiosk_and_printer_errors(data: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "kiosk.toml")
    for word in words:
        assert word in str(caught.value)


def test_relative_paths_are_read_from_the_config_directory(tmp_path: Path) -> None:
    text = '[kiosk]\nspool = "receipts"\n[printer]\nkind = "file"\ndevice = "lp0"\n'
    config = load_config(write(tmp_path, text))
    assert config.kiosk.spool == str(tmp_path / "receipts")
    assert config.printer.device == str(tmp_path / "lp0")


def test_every_problem_is_reported_at_once_on_one_line() -> None:
    data = {
        "dmp": {"deadline": 0},
        "printer": {"kind": "cups"},
        "kiosk": {"language": "de"},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "/etc/kiosk/kiosk.toml")
    assert caught.value.problems == [
        "[dmp] deadline: expected a number of seconds above 0",
        "[printer] kind: expected one of none, network, usb, serial, file",
        '[kiosk] language: expected "fr" or "en"',
    ]
    assert str(caught.value) == "/etc/kiosk/kiosk.toml " + "; ".join(caught.value.problems)
    assert isinstance(caught.value, ValueError)


def test_a_file_with_several_problems_names_the_file_once(tmp_path: Path) -> None:
    text = '[reader]\n[kiosk]\npharmacy = "x"\n[printer]\nport = "9100"\nwidth = 10\n'
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.count(str(path)) == 1
    assert message.startswith(f"{path}: unknown section 'reader' (did you mean 'readers'?); ")
    assert len(message.splitlines()) == 1
    assert caught.value.problems[1:] == [
        "[kiosk] unknown key 'pharmacy' (did you mean 'pharmacy_name'?)",
        "[printer] port: expected an int, got str",
        "[printer] width: expected 24 to 64 characters per line",
    ]


def test_a_single_error_is_its_own_problem() -> None:
    error = ConfigError("[dmp] endpoint is not set")
    assert error.problems == ["[dmp] endpoint is not set"]
    assert str(error) == "[dmp] endpoint is not set"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"printer": {"width": True}}, "[printer] width: expected an int, got bool"),
        ({"printer": {"port": False}}, "[printer] port: expected an int, got bool"),
        ({"printer": {"usb_vendor": 1.0}}, "[printer] usb_vendor: expected an int, got float"),
        ({"readers": {"patient": False}}, "[readers] patient: expected a str, got bool"),
    ],
)
def test_a_bool_or_a_float_is_not_an_int(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert caught.value.problems == [problem]


def test_an_int_is_taken_for_a_float() -> None:
    deadline = parse_config({"dmp": {"deadline": 3}}).dmp.deadline
    assert deadline == 3.0
    assert type(deadline) is float


def test_cross_key_checks_are_reported_with_the_other_sections() -> None:
    data = {"printer": {"kind": "usb", "usb_vendor": 0x0416}, "readers": {"slot": 1}}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "kiosk.toml")
    assert caught.value.problems == [
        "[printer] usb_vendor, usb_product: a USB printer needs both ids",
        "[readers] unknown key 'slot' (known keys: patient, professional)",
    ]


@pytest.mark.parametrize(
    ("printer", "accepted"),
    [
        ({"kind": "network", "host": "10.0.0.9", "port": 65535}, True),
        ({"kind": "network", "host": "10.0.0.9", "port": 65536}, False),
        ({"kind": "usb", "usb_vendor": 0x0416, "usb_product": 0x5011}, True),
        ({"kind": "file", "device": "/dev/usb/lp0", "width": 24}, True),
        ({"kind": "file", "device": "/dev/usb/lp0", "width": 65}, False),
    ],
)
def test_printer_bounds(printer: dict[str, Any], accepted: bool) -> None:
    if accepted:
        assert parse_config({"printer": printer}).printer.kind == printer["kind"]
    else:
        with pytest.raises(ConfigError):
            parse_config({"printer": printer})


def test_retention_years_is_no_longer_used_but_an_old_config_still_loads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing ever deletes from the ledger: the key an older example config carried is
    accepted, ignored, and the technician is told it can go."""
    config = parse_config({"ledger": {"retention_years": 10, "kiosk_id": "k1"}}, "kiosk.toml")
    assert config.ledger.kiosk_id == "k1"
    assert not hasattr(config.ledger, "retention_years")
    assert "[ledger] retention_years is no longer used" in caplog.text
    with pytest.raises(ConfigError, match=r"\[ledger\] unknown key 'retention_yeras'"):
        parse_config({"ledger": {"retention_yeras": 10}}, "kiosk.toml")


def test_the_source_is_not_a_key() -> None:
    with pytest.raises(ConfigError, match="unknown section 'source'"):
        parse_config({"source": "elsewhere.toml"}, "kiosk.toml")


def test_every_path_key_is_read_from_the_config_directory(tmp_path: Path) -> None:
    text = (
        '[ledger]\npath = "ledger.db"\n[kiosk]\nspool = "receipts"\nexchange = "usb"\n'
        '[printer]\nkind = "serial"\ndevice = "tty"\n[readers]\npatient = "reader"\n'
    )
    config = load_config(write(tmp_path, text))
    assert config.ledger.path == str(tmp_path / "ledger.db")
    assert config.kiosk.spool == str(tmp_path / "receipts")
    assert config.kiosk.exchange == str(tmp_path / "usb")
    assert config.printer.device == str(tmp_path / "tty")
    assert config.readers.patient == "reader"  # not a path


def test_absolute_and_default_paths_are_kept(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[kiosk]\nspool = "/srv/receipts"\n'))
    assert config.kiosk.spool == "/srv/receipts"
    assert config.kiosk.exchange == "/media/kiosk"
    assert config.ledger.path == "/var/lib/kiosk/ledger.db"
    assert parse_config({"kiosk": {"spool": "receipts"}}).kiosk.spool == "receipts"  # no base
