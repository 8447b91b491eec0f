"""What ``kiosk provision`` reads besides its flags: the secrets (pharmacist code, PKCS#12
passwords: from a file, or typed on the terminal without echo, never from argv) and a
sandbox data directory's files, read by path (production never imports ``kiosk.sim``;
the layout is docs/architecture.md §3's: ``ca.pem``, ``auth.pem``/``auth.key``,
``sign.pem``/``sign.key``, ``pharmacy.json`` = ``{"finess", "name"}``)."""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from pathlib import Path

from kiosk.appliance.provision_config import SERVICES_PATH, ProvisionError
from kiosk.core.pharmacist_code import check_code_format

SANDBOX_PORT = 8443  # `kiosk dmp sandbox`'s default
SANDBOX_URL = f"https://127.0.0.1:{SANDBOX_PORT}{SERVICES_PATH}"
SANDBOX_KIOSK_ID = "kiosk-training"
CODE_TRIES = 3


@dataclass(frozen=True, slots=True)
class SandboxSite:
    pharmacy_name: str
    finess: str
    ca: Path
    kiosk_id: str = SANDBOX_KIOSK_ID
    endpoint: str = SANDBOX_URL


def sandbox_defaults(root: Path) -> SandboxSite:
    """The pharmacy a sandbox's PKI was made for, and its CA."""
    where = root / "pharmacy.json"
    if not (root / "ca.pem").is_file():
        raise ProvisionError(
            f"--sandbox {root}: no ca.pem (start `kiosk dmp sandbox --data {root}` once first)"
        )
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
        return SandboxSite(str(data["name"]), str(data["finess"]), root / "ca.pem")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        reason = getattr(exc, "strerror", None) or 'expected {"finess": …, "name": …}'
        raise ProvisionError(f"{where}: cannot read the sandbox's pharmacy ({reason})") from None


def _first_lines(path: Path, flag: str) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ProvisionError(f"{flag} {path}: cannot read ({reason})") from None
    if not lines:
        raise ProvisionError(f"{flag} {path}: empty")
    return lines


class Secrets:
    """The pharmacist code and the PKCS#12 passwords, read once, never echoed."""

    def __init__(self, password_file: Path | None, code_file: Path | None, tty: bool) -> None:
        self._password_file, self._code_file, self._tty = password_file, code_file, tty
        self._passwords: list[str] | None = None

    def p12_password(self, name: str, p12: Path) -> bytes:
        """Line 1 of the password file (line 2 for the signature's, when there is one),
        else typed."""
        if self._password_file is not None:
            if self._passwords is None:
                self._passwords = _first_lines(self._password_file, "--p12-password-file")
            index = 1 if name == "sign" and len(self._passwords) > 1 else 0
            return self._passwords[index].encode("utf-8")
        if not self._tty:
            raise ProvisionError(
                f"{p12}: its password is needed: --p12-password-file (stdin is not a terminal)"
            )
        return _hidden(f"Password of {p12}: ").encode("utf-8")

    def pharmacist_code(self) -> str:
        if self._code_file is not None:
            code = _first_lines(self._code_file, "--code-file")[0].strip()
            try:
                check_code_format(code)
            except ValueError as exc:
                raise ProvisionError(f"--code-file {self._code_file}: {exc}") from None
            return code
        if not self._tty:
            raise ProvisionError(
                "--code-file: missing, and stdin is not a terminal to type the pharmacist code"
            )
        for _attempt in range(CODE_TRIES):
            code = _hidden("Pharmacist code (4 to 8 digits): ")
            try:
                check_code_format(code)
            except ValueError as exc:
                _say(f"kiosk: {exc}")
                continue
            if _hidden("The same code again: ") == code:
                return code
            _say("kiosk: the two codes differ")
        raise ProvisionError(f"the pharmacist code: no valid code in {CODE_TRIES} tries")


def _hidden(prompt: str) -> str:
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise ProvisionError("no input where a secret was expected") from None


def _say(line: str) -> None:
    import typer

    typer.echo(line, err=True)
