#!/usr/bin/env bash
# Borne DMP: remove the kiosk service that deploy/install.sh installed. Run as root:
#
#   sudo /opt/borne-dmp/uninstall.sh            (or ./deploy/uninstall.sh from a checkout)
#   sudo /opt/borne-dmp/uninstall.sh --purge    also the config, the ledger and its keys
#
# It stops and disables kiosk.service and removes the unit, the venvs under
# /opt/borne-dmp, /usr/local/bin/kiosk, the udev and polkit rules. It KEEPS, unless
# --purge: /etc/kiosk (config, certificates, the unit's drop-ins), /var/lib/kiosk (the
# ledger, its secret and signing key, the spool) and the kiosk user, so that a
# reinstall finds the kiosk as it was. --purge deletes those too: the ledger is the
# pharmacy's record of what it is owed, so export it first (`kiosk ledger export`);
# on a terminal, --purge asks to type "purge" unless --yes is given; without one
# (ssh host sudo uninstall.sh --purge), --purge is refused unless --yes is given.
# --root DIR works on a scratch root, as install.sh --root does.
set -euo pipefail

usage() {
    echo "usage: uninstall.sh [--root DIR] [--purge [--yes]]" >&2
}

ROOT=""
PURGE=0
YES=0
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
        --purge) PURGE=1; shift ;;
        --yes) YES=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "uninstall.sh: unknown argument: $1" >&2; usage; exit 2 ;;
    esac
done

say() { printf 'uninstall.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run it as root"
if [ -n "$ROOT" ]; then
    [ -d "$ROOT" ] || die "--root $ROOT: no such directory"
    ROOT=$(cd "$ROOT" && pwd)
    if [ "$ROOT" = / ]; then ROOT=""; fi
fi
r() { printf '%s%s' "$ROOT" "$1"; }
ROOT_ARGS=()
if [ -n "$ROOT" ]; then ROOT_ARGS=(--root "$ROOT"); fi
systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

if [ "$PURGE" -eq 1 ] && [ "$YES" -eq 0 ] && [ ! -t 0 ]; then
    die "--purge deletes the ledger and its keys: without a terminal to confirm it," \
        "give --yes too (export the ledger first: kiosk ledger export); nothing removed"
fi
if [ "$PURGE" -eq 1 ] && [ "$YES" -eq 0 ]; then
    printf 'This deletes %s and %s (the ledger and its keys). Type "purge" to go on: ' \
        "$(r /etc/kiosk)" "$(r /var/lib/kiosk)" >&2
    read -r answer
    [ "$answer" = purge ] || die "nothing removed"
fi

UNIT=$(r /etc/systemd/system/kiosk.service)
if systemd_running; then
    systemctl disable --now kiosk.service >/dev/null 2>&1 || true
elif [ -e "$UNIT" ]; then
    systemctl --root="${ROOT:-/}" disable kiosk.service >/dev/null 2>&1 || true
fi
rm -f "$UNIT"
if [ "$PURGE" -eq 1 ]; then
    rm -rf "$(r /etc/systemd/system/kiosk.service.d)"
fi
rm -f "$(r /etc/udev/rules.d/60-borne-dmp-printer.rules)" \
    "$(r /etc/polkit-1/rules.d/50-borne-dmp-pcscd.rules)"
if [ "$(readlink "$(r /usr/local/bin/kiosk)" 2>/dev/null)" = /opt/borne-dmp/venv/bin/kiosk ]; then
    rm -f "$(r /usr/local/bin/kiosk)"
fi
rm -rf "$(r /opt/borne-dmp)"
if systemd_running; then
    systemctl daemon-reload
    systemctl reset-failed kiosk.service >/dev/null 2>&1 || true
fi
say "kiosk.service, /opt/borne-dmp and /usr/local/bin/kiosk removed"

if [ "$PURGE" -eq 1 ]; then
    rm -rf "$(r /etc/kiosk)" "$(r /var/lib/kiosk)"
    if [ -d "$(r /media/kiosk)" ] && ! mountpoint -q "$(r /media/kiosk)"; then
        rmdir "$(r /media/kiosk)" 2>/dev/null || true  # only when empty
    fi
    if awk -F: '$1 == "kiosk" { found = 1 } END { exit !found }' "$(r /etc/passwd)"; then
        userdel "${ROOT_ARGS[@]}" kiosk
    fi
    if awk -F: '$1 == "kiosk" { found = 1 } END { exit !found }' "$(r /etc/group)"; then
        groupdel "${ROOT_ARGS[@]}" kiosk
    fi
    say "purged: /etc/kiosk, /var/lib/kiosk and the kiosk user"
else
    say "kept: /etc/kiosk (config, certificates), /var/lib/kiosk (ledger, keys, spool)" \
        "and the kiosk user; --purge removes them"
fi
