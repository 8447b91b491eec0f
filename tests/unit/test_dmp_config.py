"""The [dmp] config section: paths, endpoint, deadline, typos, require() and the startup
check of its certificate files."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

from kiosk.appliance.startup_checks import check_config
from kiosk.config import ConfigError, DmpConfig, load_config, parse_config

FULL: dict[str, Any] = {
    "endpoint": "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services",
    "ca": "certs/ca.pem",
    "auth_cert": "certs/auth.pem",
    "auth_key": "certs/auth.key",
    "sign_cert": "certs/sign.pem",
    "sign_key": "/etc/kiosk/sign.key",  # absolute: kept as is
    "structure_id": "3750012345",
    "deadline": 8,
}
PATH_KEYS = ("ca", "auth_cert", "auth_key", "sign_cert", "sign_key")
REQUIRED = ("endpoint", "ca", "auth_cert", "auth_key", "sign_cert", "sign_key", "structure_id")


def dmp(**fields: Any) -> dict[str, Any]:
    return {"dmp": fields}


def test_full_section_resolves_relative_paths_against_base(tmp_path: Path) -> None:
    config = parse_config(dmp(**FULL), "kiosk.toml", base=tmp_path).dmp
    assert config.ca == str(tmp_path / "certs/ca.pem")
    assert config.auth_cert == str(tmp_path / "certs/auth.pem")
    assert config.auth_key == str(tmp_path / "certs/auth.key")
    assert config.sign_cert == str(tmp_path / "certs/sign.pem")
    assert config.sign_key == "/etc/kiosk/sign.key"
    assert config.endpoint == FULL["endpoint"]
    assert config.structure_id == "3750012345"
    assert config.deadline == 8.0
    assert isinstance(config.deadline, float)
    config.require()


def test_without_base_paths_are_kept() -> None:
    config = parse_config(dmp(**FULL)).dmp
    assert [getattr(config, key) for key in PATH_KEYS] == [FULL[key] for key in PATH_KEYS]


def test_parse_does_not_change_its_input(tmp_path: Path) -> None:
    data = dmp(**FULL)
    before = copy.deepcopy(data)
    parse_config(data, base=tmp_path)
    assert data == before
    assert isinstance(data["dmp"]["deadline"], int)


def test_load_config_resolves_against_the_file_directory(tmp_path: Path) -> None:
    path = tmp_path / "site" / "kiosk.toml"
    path.parent.mkdir()
    path.write_text('[dmp]\nca = "ca.pem"\ndeadline = 2.5\n', encoding="utf-8")
    config = load_config(path).dmp
    assert config.ca == str(path.parent / "ca.pem")
    assert config.deadline == 2.5


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://lps2.dmp.gouv.fr/si-dmp-server/v2/services",
        "https://127.0.0.1:8443",
        "",  # not set: require() reports it
    ],
)
def test_endpoint_accepted(endpoint: str) -> None:
    assert parse_config(dmp(endpoint=endpoint)).dmp.endpoint == endpoint


@pytest.mark.parametrize(
    "endpoint",
    ["http://lps2.dmp.gouv.fr/si-dmp-server", "ftp://x", "lps2.dmp.gouv.fr", "//x", " https://x"],
)
def test_endpoint_must_be_https(endpoint: str) -> None:
    with pytest.raises(ConfigError, match=r"\[dmp\] endpoint.*https://"):
        parse_config(dmp(endpoint=endpoint), "kiosk.toml")


@pytest.mark.parametrize(("deadline", "expected"), [(10, 10.0), (1, 1.0), (2.5, 2.5), (0.1, 0.1)])
def test_deadline_accepted(deadline: float, expected: float) -> None:
    value = parse_config(dmp(deadline=deadline)).dmp.deadline
    assert value == expected
    assert isinstance(value, float)


@pytest.mark.parametrize(
    ("deadline", "words"),
    [
        (0, ["deadline", "above 0"]),
        (0.0, ["deadline", "above 0"]),
        (-1, ["deadline", "above 0"]),
        (-0.5, ["deadline", "above 0"]),
        (math.nan, ["deadline"]),  # TOML has nan and inf
        (math.inf, ["deadline"]),
        ("10", ["deadline", "float", "str"]),
        (True, ["deadline", "float", "bool"]),
        ([10], ["deadline", "list"]),
    ],
)
def test_deadline_refused(deadline: Any, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(dmp(deadline=deadline), "kiosk.toml")
    message = str(caught.value)
    assert message.startswith("kiosk.toml [dmp]")
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("endpont", "did you mean 'endpoint'"),
        ("deadlines", "did you mean 'deadline'"),
        ("sign_crt", "did you mean 'sign_cert'"),
        ("structure", "did you mean 'structure_id'"),
        ("timeout", "known keys: auth_cert, auth_key, ca, deadline, endpoint"),
    ],
)
def test_unknown_dmp_key(key: str, hint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(dmp(**{key: "x"}), "kiosk.toml")
    message = str(caught.value)
    assert message.startswith("kiosk.toml [dmp]")
    assert repr(key) in message
    assert hint in message


@pytest.mark.parametrize("key", ["endpoint", "ca", "structure_id"])
def test_dmp_values_must_be_strings(key: str) -> None:
    with pytest.raises(ConfigError, match=rf"\[dmp\] {key}: expected a str, got int"):
        parse_config(dmp(**{key: 1}), "kiosk.toml")


def test_dmp_section_must_be_a_table() -> None:
    with pytest.raises(ConfigError, match=r"\[dmp\] must be a table"):
        parse_config({"dmp": "https://x"}, "kiosk.toml")


@pytest.mark.parametrize("missing", range(len(REQUIRED)))
def test_require_names_the_first_missing_key(missing: int) -> None:
    # Every key before ``missing`` is set, ``missing`` and the rest are not.
    fields = {key: FULL[key] for key in REQUIRED[:missing]}
    config = parse_config(dmp(**fields)).dmp
    key = REQUIRED[missing]
    with pytest.raises(ConfigError, match=rf"^\[dmp\] {key} is not set"):
        config.require()


def test_require_on_defaults_and_structure_hint() -> None:
    with pytest.raises(ConfigError, match=r"\[dmp\] endpoint is not set"):
        DmpConfig().require()
    partial = {key: FULL[key] for key in REQUIRED if key != "structure_id"}
    with pytest.raises(ConfigError, match="FINESS"):
        parse_config(dmp(**partial)).dmp.require()


def test_the_certificate_keys_are_the_path_keys() -> None:
    assert DmpConfig.CERTIFICATE_KEYS == PATH_KEYS


def test_every_dmp_problem_at_once() -> None:
    data = dmp(endpoint="http://x", deadline=math.inf, ca=1, sign_crt="x")
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "kiosk.toml")
    assert caught.value.problems == [
        "[dmp] endpoint: expected an https:// URL",
        "[dmp] deadline: expected a number of seconds above 0",
        "[dmp] ca: expected a str, got int",
        "[dmp] unknown key 'sign_crt' (did you mean 'sign_cert'?)",
    ]
    assert len(str(caught.value).splitlines()) == 1


def test_startup_names_the_first_missing_certificate_file(tmp_path: Path) -> None:
    for key in PATH_KEYS[:2]:
        (tmp_path / FULL[key]).parent.mkdir(exist_ok=True)
        (tmp_path / FULL[key]).write_text("PEM", encoding="utf-8")
    config = parse_config(dmp(**FULL), "kiosk.toml", base=tmp_path)
    with pytest.raises(ConfigError) as caught:
        check_config(config)
    assert (
        str(caught.value)
        == f"kiosk.toml [dmp] auth_key: no such file {tmp_path / FULL['auth_key']}"
    )


def test_startup_then_needs_the_pharmacist_code(tmp_path: Path) -> None:
    paths = {key: str(tmp_path / key) for key in PATH_KEYS}
    for path in paths.values():
        Path(path).write_text("PEM", encoding="utf-8")
    config = parse_config(dmp(**{**FULL, **paths}), "kiosk.toml")
    with pytest.raises(ConfigError, match=r"\[kiosk\] pharmacist_code_hash is not set"):
        check_config(config)
