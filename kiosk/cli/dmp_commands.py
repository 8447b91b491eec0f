"""``kiosk dmp status|create``: diagnosis calls to the DMP endpoint of a config (the
sandbox commands, ``kiosk dmp sandbox|list``, are in :mod:`kiosk.cli.sim_commands`)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from kiosk.cli.options import ConfigOption, JsonOption, emit_json, fail
from kiosk.config import Config, ConfigError, load_config, loopback_host
from kiosk.dmp.models import Consent, Contact, Guardian, PatientTraits
from kiosk.dmp.service_errors import DmpError
from kiosk.hardware.card_errors import CardError
from kiosk.hardware.cards import CpsCard, ProfileError, VitaleCard

dmp_app = typer.Typer(no_args_is_help=True, help="The DMP service: sandbox and diagnosis.")
LANGUAGE = "fr"  # the consent text a technician's command records as shown


PatientOption = Annotated[
    Path | None,
    typer.Option("--profile", help="Vitale profile JSON instead of the card in the reader."),
]
BeneficiaryOption = Annotated[int, typer.Option(help="Index of the beneficiary on the card.")]
CpsOption = Annotated[
    Path | None, typer.Option("--cps-profile", help="CPS profile JSON instead of the CPS.")
]
PinOption = Annotated[str | None, typer.Option(help="CPS PIN, when the CPS is read.")]


Profiles = tuple[VitaleCard | None, CpsCard | None]


def _profiles(profile: Path | None, cps_profile: Path | None, beneficiary: int) -> Profiles:
    """The profile files given, read and checked before the config, a card or a call."""
    from kiosk.hardware.cards import cps_from_profile, read_profile, vitale_from_profile

    vitale = cps = None
    try:
        if profile is not None:
            vitale = vitale_from_profile(read_profile(profile))
    except ProfileError as exc:
        raise ProfileError(f"--profile {profile}: {exc}") from None
    if vitale is not None and not 0 <= beneficiary < len(vitale.beneficiaries):
        raise ProfileError(
            f"--beneficiary {beneficiary}: {profile} holds {len(vitale.beneficiaries)}"
            f" beneficiaries (0 to {len(vitale.beneficiaries) - 1})"
        )
    try:
        if cps_profile is not None:
            cps = cps_from_profile(read_profile(cps_profile))[0]
    except ProfileError as exc:
        raise ProfileError(f"--cps-profile {cps_profile}: {exc}") from None
    return vitale, cps


def _inputs(files: Profiles, beneficiary: int, pin: str | None) -> tuple[PatientTraits, CpsCard]:
    """The patient and the pharmacist: from the profile files read, else from the cards."""
    from kiosk.dmp.traits import traits_from_vitale
    from kiosk.hardware.card_reading import read_card_typed

    vitale: VitaleCard | CpsCard = files[0] or read_card_typed("patient")
    cps: VitaleCard | CpsCard = files[1] or read_card_typed("professional", pin)
    if not isinstance(vitale, VitaleCard) or not isinstance(cps, CpsCard):
        raise ProfileError("expected a Carte Vitale for the patient and a CPS for the pharmacist")
    try:
        traits = traits_from_vitale(vitale, beneficiary)
    except IndexError as exc:
        raise ProfileError(f"--beneficiary {beneficiary}: {exc}") from None
    return traits, cps


@dmp_app.command("status")
def status(
    config: ConfigOption = None,
    profile: PatientOption = None,
    beneficiary: BeneficiaryOption = 0,
    cps_profile: CpsOption = None,
    pin: PinOption = None,
    as_json: JsonOption = False,
) -> None:
    """TD0.0 then TD0.2 for a beneficiary: does a DMP exist? (no INS is printed; both
    VIHFs are traced beside the config's ledger, `kiosk ledger trace`)"""
    from kiosk.appliance.wiring import vihf_trace
    from kiosk.dmp.client_factory import client_from_config
    from kiosk.dmp.traits import practitioner_from_cps

    try:
        files = _profiles(profile, cps_profile, beneficiary)
        site = load_config(config)
        # a diagnosis makes no ledger keys: without them its rows carry no patient key
        client = client_from_config(site.dmp, on_vihf=vihf_trace(site, make_keys=False))
        traits, cps = _inputs(files, beneficiary, pin)
        session = client.session(practitioner_from_cps(cps))
        started = time.monotonic()
        identity = session.certified_identity(traits)
        identified = time.monotonic()
        result = session.status(identity)
        done = time.monotonic()
    except (ConfigError, DmpError, CardError, ProfileError) as exc:
        fail(str(exc))
    answer = {
        "status": result.state.name.lower(),
        "authorized": result.authorized,
        "identity_ms": round((identified - started) * 1000, 1),
        "status_ms": round((done - identified) * 1000, 1),
    }
    if as_json:
        emit_json(answer)
    else:
        typer.echo(f"DMP {answer['status']} (authorized: {answer['authorized']})")


@dmp_app.command("create")
def create(
    consent: Annotated[
        bool, typer.Option("--consent", help="The patient consented (required).")
    ] = False,
    bris_de_glace: Annotated[bool, typer.Option(help="Emergency access allowed.")] = True,
    centre15: Annotated[bool, typer.Option(help="SAMU-centre 15 access allowed.")] = True,
    mobile: Annotated[str | None, typer.Option(help="Mobile for web access (06/07…).")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail for web access.")] = None,
    guardian: Annotated[
        str | None,
        typer.Option(
            help="A minor's legal representative, an adult: LAST_NAME:FIRST_NAME:ROLE:YYYYMMDD."
        ),
    ] = None,
    config: ConfigOption = None,
    profile: PatientOption = None,
    beneficiary: BeneficiaryOption = 0,
    cps_profile: CpsOption = None,
    pin: PinOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open (or reactivate) the DMP of a beneficiary; web access if a contact is given.
    The act is recorded in the config's ledger as the kiosk records it (pending before the
    call, its outcome after)."""
    from kiosk.core.flow import GUARDIAN_ROLES, is_minor
    from kiosk.dmp.rules import check_consent, check_contact

    choices = Consent(consent, bris_de_glace, centre15)
    contact = Contact(mobile, email) if mobile or email else None
    representative = None
    if guardian is not None:
        parts = [p.strip() for p in guardian.split(":")]
        born = parts[3] if len(parts) == 4 else ""
        if (
            len(parts) != 4 or not all(parts) or parts[2] not in GUARDIAN_ROLES
            or len(born) != 8 or not born.isascii() or not born.isdigit()
        ):  # fmt: skip
            fail(
                "--guardian: expected LAST_NAME:FIRST_NAME:ROLE:YYYYMMDD"
                " (role: mere, pere, tuteur; the representative's birth date)"
            )
        if is_minor(parts[3], dt.date.today()):
            fail("--guardian: the legal representative must be an adult")
        representative = Guardian(*parts)
    try:
        check_consent(choices)
        if contact is not None:
            contact = check_contact(contact)
        files = _profiles(profile, cps_profile, beneficiary)
        answer = _open(load_config(config), (files, beneficiary, pin),
                       choices, representative, contact)  # fmt: skip
    except (ConfigError, DmpError, CardError, ProfileError) as exc:
        fail(str(exc))
    if as_json:
        emit_json(answer)
    else:
        typer.echo(f"DMP {answer['outcome']}")


def _only_a_sandbox(config: Config) -> None:
    """A diagnosis, not a second kiosk: it opens DMPs only on a sandbox on this machine
    (a patient's DMP is opened at the kiosk, with its consent screen and attestation)."""
    host, loopback = loopback_host(config.dmp.endpoint)
    if not loopback:
        fail(
            f"kiosk dmp create opens DMPs only on a loopback sandbox, not {host or '?'}:"
            " a patient's DMP is opened at the kiosk"
        )


def _open(
    config: Config,
    inputs: tuple[Profiles, int, str | None],
    consent: Consent,
    guardian: Guardian | None,
    contact: Contact | None,
) -> dict[str, Any]:
    """TD0.0, TD0.2, then the ledger policy's opening (TD1.1 or TD1.2), then TD1.5a."""
    from kiosk.appliance.wiring import open_ledger, vihf_trace
    from kiosk.core.cps_session import refusal
    from kiosk.core.flow import is_minor
    from kiosk.core.lazy import Lazy
    from kiosk.core.ledger_policy import LedgerDown, LedgerPolicy, Opening, consent_record
    from kiosk.dmp.client_factory import client_from_config
    from kiosk.dmp.models import DmpState
    from kiosk.dmp.traits import practitioner_from_cps

    _only_a_sandbox(config)
    traits, cps = _inputs(*inputs)
    if guardian is None and is_minor(traits.birth_date, dt.date.today()):
        fail("a minor's DMP is opened only through a legal representative: pass --guardian")
    refused = refusal(cps, dt.date.today(), config.dmp.structure_id)
    if refused is not None:
        fail(f"the CPS may not open a DMP ({refused.value}): no DMP call was made")
    client = client_from_config(config.dmp, on_vihf=vihf_trace(config))
    session = client.session(practitioner_from_cps(cps))
    identity = session.certified_identity(traits)
    state = session.status(identity).state
    ledger = Lazy(lambda: open_ledger(config))
    policy = LedgerPolicy(ledger)
    try:
        if state is DmpState.EXISTS:
            policy.record_existing(lambda: cps.rpps, identity, LANGUAGE)
            return {"outcome": "already_exists"}
        record = consent_record(consent, contact is not None, LANGUAGE, cps.rpps)
        opening = Opening(identity, consent, record, guardian, state is DmpState.CLOSED)
        try:
            opened = policy.open_dmp(session, cps.rpps, opening)
        except LedgerDown as exc:
            fail(f"{config.ledger.path}: cannot record the act ({exc}); nothing was sent")
    finally:
        if ledger.built:
            ledger().close()
    answer: dict[str, Any] = {
        "outcome": "reactivated" if opened.reactivated else "created",
        "created_at": opened.created_at,
    }
    if not opened.reactivated:
        answer["resolved_after_error"] = opened.resolved_after_error
    if contact is not None:
        access = session.create_web_access(identity, contact)
        answer["web_access_identifier"] = access.identifier  # the password: paper only
    return answer
