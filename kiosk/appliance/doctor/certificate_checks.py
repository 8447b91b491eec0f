"""``certificate_ca``, ``certificate_tls``, ``certificate_signature``: the pharmacy's
certificates of ``[dmp]``, each checked for its role by :mod:`kiosk.appliance.certificates`
(present, a PEM, matching its key, issued by the CA, dates, usage). Within 30 days of
its end a certificate is a ``warn``; expired, a ``fail``. Doctor reads them as root: a
file the service user (:mod:`.access`) cannot read is a ``fail`` too, the service could
not load it."""

from __future__ import annotations

import pwd
from collections.abc import Sequence
from pathlib import Path

from kiosk.appliance.certificates import CertProblem, CertReport, CertRole, describe, inspect_pair
from kiosk.appliance.doctor.access import READ, denied, name_of_group, service_user
from kiosk.appliance.doctor.report import Check, Name, Run, fail, ok, skipped, warn

WARN_DAYS = 30
DEADLINE = 3.0  # seconds: the probe's
NAMES = (Name.CERTIFICATE_CA, Name.CERTIFICATE_TLS, Name.CERTIFICATE_SIGNATURE)
_ROLES = {
    Name.CERTIFICATE_CA: (CertRole.CA, "ca", None),
    Name.CERTIFICATE_TLS: (CertRole.TLS_CLIENT, "auth_cert", "auth_key"),
    Name.CERTIFICATE_SIGNATURE: (CertRole.SIGNATURE, "sign_cert", "sign_key"),
}
PROVISION = "`kiosk provision` installs them from the IGC-Santé .p12 files"
_FIXES = {  # the first problem of a report says what to do
    CertProblem.MISSING: "put the file there or correct its path in [dmp]; " + PROVISION,
    CertProblem.UNREADABLE: "give a PEM file the kiosk user can read; " + PROVISION,
    CertProblem.WRONG_PASSWORD: "give the .p12 password IGC-Santé sent; " + PROVISION,
    CertProblem.KEY_MISMATCH: "give the key issued with this certificate (the same .p12); "
    + PROVISION,
    CertProblem.NOT_FROM_CA: "[dmp] ca must be the CA that issued it (IGC-Santé), or install"
    " the certificate issued under that CA",
    CertProblem.EXPIRED: "order its renewal from IGC-Santé and install the new one with"
    " `kiosk provision`",
    CertProblem.NOT_YET_VALID: "check the clock (see clock), or wait for its start date",
    CertProblem.WRONG_USAGE: "use the ORG AUTH_CLI certificate for auth_cert and ORG SIGN for"
    " sign_cert; " + PROVISION,
    CertProblem.EXPIRES_SOON: "order its renewal from IGC-Santé now and install it with"
    " `kiosk provision` before it expires",
}


def probe(run: Run) -> list[Check]:
    if run.config is None:
        return [skipped(name, Name.CONFIG, "no usable config") for name in NAMES]
    dmp = run.config.dmp
    user = service_user()
    checks = []
    for name, (role, cert_key, key_key) in _ROLES.items():
        keys = [cert_key] if key_key is None else [cert_key, key_key, "ca"]
        unset = [key for key in keys if not getattr(dmp, key)]
        if unset:
            what = f"[dmp] {', '.join(unset)} not set"
            checks.append(skipped(name, Name.CONFIG, what))
            continue
        report = inspect_pair(
            Path(getattr(dmp, cert_key)),
            Path(getattr(dmp, key_key)) if key_key else None,
            Path(dmp.ca) if key_key else None,
            role,
            run.now,
            WARN_DAYS,
        )
        own = [Path(getattr(dmp, key)) for key in (cert_key, key_key) if key]
        checks.append(certificate_check(name, report, unreadable(own, user), user))
    return checks


def unreadable(paths: Sequence[Path], user: pwd.struct_passwd | None) -> list[tuple[Path, str]]:
    """Each of ``paths`` the service user cannot read, and why (none without that user)."""
    if user is None:
        return []
    found = ((path, denied(path, user, READ)) for path in paths)
    return [(path, why) for path, why in found if why]


def certificate_check(
    name: Name,
    report: CertReport,
    denials: Sequence[tuple[Path, str]] = (),
    user: pwd.struct_passwd | None = None,
) -> Check:
    """``denials``: the files of ``report`` the service ``user`` cannot read."""
    why = describe(report)
    if denials and report.ok and user is not None:
        files = " ".join(str(path) for path, _ in denials)
        return fail(
            name,
            f"{why}; but the service cannot load it: {'; '.join(text for _, text in denials)}",
            f"`chown {user.pw_name}:{name_of_group(user.pw_gid)} {files}` and"
            f" `chmod 0600 {files}` (as `kiosk provision` writes them); the directory"
            f" root:{name_of_group(user.pw_gid)} 0750",
        )
    if not report.problems:
        return ok(name, why)
    first = next(
        (p for p in report.problems if p is not CertProblem.EXPIRES_SOON), CertProblem.EXPIRES_SOON
    )
    return (warn if report.ok else fail)(name, why, _FIXES[first])
