"""``kiosk provision``: a new site's config, certificates and secrets, from flags or, on a
terminal, prompts. The pharmacist code and the PKCS#12 passwords are never taken on the
command line: typed (twice for the code, never echoed) or read from a file.

Every ``kiosk`` command imports this module: what provision needs (``cryptography``'s
X.509, the certificates' checks) is imported in the command, so ``kiosk run`` never loads
it (a fresh-interpreter test says so)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from kiosk.appliance.provision_config import (
    PRODUCTION_ENDPOINT,
    ProvisionError,
    Site,
    check_endpoint,
    check_finess,
    check_kiosk_id,
    check_pharmacy_name,
)
from kiosk.cli.options import JsonOption, emit_json, fail
from kiosk.cli.provision_inputs import SANDBOX_PORT, Secrets, sandbox_defaults

if TYPE_CHECKING:
    from kiosk.appliance.certificates import CertRole
    from kiosk.appliance.provision import Outcome, PairSource, Request

DEFAULT_OUT = Path("/etc/kiosk/kiosk.toml")
DEFAULT_STATE = Path("/var/lib/kiosk")
P12_SUFFIXES = (".p12", ".pfx")


def _interactive() -> bool:
    return sys.stdin.isatty()


def _ask(
    flag: str, label: str, value: str | None, check: Callable[[str], str], default: str = ""
) -> str:
    """``value`` checked; else asked on a terminal (again after a mistake); else refused."""
    if value is not None:
        return check(value)
    if not _interactive():
        fail(f"{flag}: missing (and stdin is not a terminal to ask for it)")
    for _attempt in range(3):
        answer: str = typer.prompt(label, default=default or None, err=True)
        try:
            return check(answer)
        except ProvisionError as exc:
            typer.echo(f"kiosk: {exc}", err=True)
    fail(f"{flag}: no valid answer")


def _path(text: str) -> str:
    if not text.strip():
        raise ProvisionError("expected a file path")
    return str(Path(text.strip()).expanduser())


def _pair(
    role: CertRole, name: str, cert: Path | None, key: Path | None, p12: Path | None,
    secrets: Secrets, sandbox: Path | None,
) -> PairSource:  # fmt: skip
    """A certificate from ``--NAME-p12`` or ``--NAME-cert``/``--NAME-key`` (a .p12 given
    as ``--NAME-cert`` is taken as one), else the sandbox's, else asked."""
    from kiosk.appliance.provision import PairSource

    if p12 is not None and (cert is not None or key is not None):
        fail(f"--{name}-p12 or --{name}-cert/--{name}-key, not both")
    if p12 is None and cert is None and key is None and sandbox is not None:
        cert, key = sandbox / f"{name}.pem", sandbox / f"{name}.key"
    if p12 is None and cert is None:
        label = role.label[0].upper() + role.label[1:]
        asked = _ask(f"--{name}-p12 or --{name}-cert", f"{label} (.p12 or .pem)", None, _path)
        cert = Path(asked)
    if p12 is None and cert is not None and cert.suffix.lower() in P12_SUFFIXES and key is None:
        p12, cert = cert, None
    if p12 is not None:
        return PairSource(role, p12=p12, password=secrets.p12_password(name, p12))
    key = key or Path(_ask(f"--{name}-key", f"Private key of {cert}", None, _path))
    return PairSource(role, cert=cert, key=key)


def remains(
    request: Request, outcome: Outcome, sandbox: Path | None, secret_files: list[Path]
) -> list[str]:
    """What the technician still has to do, one line each."""
    from kiosk.config import ConfigError, load_config

    todo = [f"certificate: {warning}" for warning in outcome.warnings]
    if outcome.owners.note:
        todo.append(
            f"owners: {outcome.owners.note}; run `kiosk provision` again as root once the "
            f"{request.user!r} user exists (the install creates it)"
        )
    out = request.out
    try:
        printer = load_config(out).printer.kind
    except ConfigError:
        printer = "none"
    if printer == "none":
        todo.append(f"printer: set [printer] in {out} if a ticket printer is attached")
    todo += [
        f"delete {path}: it holds a secret in clear (shred -u {path})" for path in secret_files
    ]
    if sandbox is not None:
        port = urlsplit(request.site.endpoint).port or 443
        option = "" if port == SANDBOX_PORT else f" --port {port}"
        todo.append(f"start the training sandbox: kiosk dmp sandbox --data {sandbox}{option}")
    todo += [
        "insert the pharmacist's CPS in the second reader",
        f"check the kiosk: kiosk doctor --config {out}",
    ]
    if out == DEFAULT_OUT:
        todo.append("start the kiosk: systemctl enable --now kiosk.service")
    else:
        todo.append(f"start the kiosk: kiosk run --config {out}")
    return todo


def provision(
    pharmacy_name: Annotated[str | None, typer.Option(help="The pharmacy's name.")] = None,
    finess: Annotated[
        str | None, typer.Option(help="FINESS number (9 characters); structure id = 3 + it.")
    ] = None,
    kiosk_id: Annotated[str | None, typer.Option(help="This kiosk's id in the ledger.")] = None,
    endpoint: Annotated[str | None, typer.Option(help="DMP endpoint (https://).")] = None,
    ca: Annotated[Path | None, typer.Option(dir_okay=False, help="CA certificate(s), PEM.")] = None,
    auth_cert: Annotated[
        Path | None, typer.Option(dir_okay=False, help="ORG AUTH_CLI certificate, PEM.")
    ] = None,
    auth_key: Annotated[
        Path | None, typer.Option(dir_okay=False, help="ORG AUTH_CLI private key, PEM.")
    ] = None,
    auth_p12: Annotated[
        Path | None, typer.Option(dir_okay=False, help="ORG AUTH_CLI as PKCS#12.")
    ] = None,
    sign_cert: Annotated[
        Path | None, typer.Option(dir_okay=False, help="ORG SIGN certificate, PEM.")
    ] = None,
    sign_key: Annotated[
        Path | None, typer.Option(dir_okay=False, help="ORG SIGN private key, PEM.")
    ] = None,
    sign_p12: Annotated[
        Path | None, typer.Option(dir_okay=False, help="ORG SIGN as PKCS#12.")
    ] = None,
    p12_password_file: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False, help="PKCS#12 password(s): line 1 (auth; line 2 sign, if it differs)."
        ),
    ] = None,
    code_file: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Pharmacist code on its first line (else typed twice)."),
    ] = None,
    out: Annotated[Path, typer.Option(dir_okay=False, help="Config file to write.")] = DEFAULT_OUT,
    state_dir: Annotated[
        Path, typer.Option(file_okay=False, help="Ledger and secrets directory.")
    ] = DEFAULT_STATE,
    user: Annotated[str, typer.Option(help="Service user owning secrets.")] = "kiosk",
    sandbox: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Training kiosk: a `kiosk dmp sandbox --data` dir."),
    ] = None,
    new_kiosk_id: Annotated[
        bool,
        typer.Option(
            "--new-kiosk-id", help="Accept a --kiosk-id other than the existing ledger's."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a validated config, the certificates and the kiosk's secrets for a new site."""
    from kiosk.appliance.certificates import CertRole
    from kiosk.appliance.provision import Outcome, Request, check_material
    from kiosk.appliance.provision import provision as write_site
    from kiosk.core.pharmacist_code import ScryptError, hash_code

    try:
        found = sandbox_defaults(sandbox) if sandbox is not None else None
        secrets = Secrets(p12_password_file, code_file, _interactive())
        if found is not None:  # the sandbox's pharmacy, unless a flag says otherwise
            pharmacy_name, finess = pharmacy_name or found.pharmacy_name, finess or found.finess
            kiosk_id, endpoint = kiosk_id or found.kiosk_id, endpoint or found.endpoint
        site = Site(
            pharmacy_name=_ask("--pharmacy-name", "Pharmacy name", pharmacy_name,
                               check_pharmacy_name),
            finess=_ask("--finess", "FINESS number", finess, check_finess),
            kiosk_id=_ask("--kiosk-id", "Kiosk id", kiosk_id, check_kiosk_id),
            endpoint=_ask("--endpoint", "DMP endpoint", endpoint, check_endpoint,
                          PRODUCTION_ENDPOINT),
            code_hash="",
            state_dir=state_dir.absolute(),
        )  # fmt: skip
        ca_file = ca or (found.ca if found else None)
        ca_file = ca_file or Path(_ask("--ca", "CA certificate (.pem)", None, _path))
        auth = _pair(CertRole.TLS_CLIENT, "auth", auth_cert, auth_key, auth_p12, secrets, sandbox)
        sign = _pair(CertRole.SIGNATURE, "sign", sign_cert, sign_key, sign_p12, secrets, sandbox)
        request = Request(site, ca_file, auth, sign, out.absolute(), user, new_kiosk_id)
        check_material(request, dt.datetime.now(dt.UTC), Outcome())  # before the code is typed
        code_hash = hash_code(secrets.pharmacist_code())
        request = dataclasses.replace(request, site=dataclasses.replace(site, code_hash=code_hash))
        outcome = write_site(request)
    except (ProvisionError, ScryptError) as exc:  # ScryptError: the code's hash failed
        fail(str(exc))
    files = [path for path in (code_file, p12_password_file) if path is not None]
    todo = remains(request, outcome, sandbox, files)
    if as_json:
        emit_json({
            "config": str(request.out),
            "written": [str(path) for path in outcome.written],
            "kept": [str(path) for path in outcome.kept],
            "warnings": outcome.warnings,
            "remains": todo,
        })  # fmt: skip
        return
    typer.echo(f"kiosk: provisioned {request.out} for {site.pharmacy_name} ({site.structure_id})")
    for label, paths in (("written", outcome.written), ("kept", outcome.kept)):
        if paths:
            typer.echo(f"{label}: " + ", ".join(str(path) for path in paths))
    typer.echo("still to do:")
    for line in todo:
        typer.echo(f"  - {line}")
