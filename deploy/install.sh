#!/usr/bin/env bash
# Borne DMP: install (or upgrade in place) the kiosk as a systemd service on Debian 12
# (Raspberry Pi OS Lite Bookworm included). Run as root, from a checkout:
#
#   sudo ./deploy/install.sh            install, or upgrade an installed kiosk
#   sudo ./deploy/uninstall.sh [--purge]
#
# Why a virtualenv under /opt rather than a .deb: Kivy, pyscard and signxml come as PyPI
# wheels (or, for pyscard, a build against libpcsclite) that Debian 12 does not package
# at the versions we pin (Debian has no Kivy 2.3, no signxml 4, pyscard 2.0.5); a .deb
# would have to vendor a virtualenv anyway, tied to one architecture, and would gain
# nothing but dpkg's bookkeeping. The system pieces (pcscd, Mesa, SDL's libraries,
# espeak-ng, fonts) do come from Debian, through apt.
#
# What it does, each step idempotent:
#   1. apt-get installs the runtime packages (unless --no-apt; skipped with --root);
#   2. a `kiosk` system user and group, in the groups of the devices it uses (video,
#      render, input, audio, lp, dialout, plugdev: those that exist);
#   3. builds the project's wheel and installs it with its dependencies into a NEW
#      virtualenv /opt/borne-dmp/venvs/<version>-<time>; only once that venv's `kiosk`
#      runs and its native modules load is the symlink /opt/borne-dmp/venv switched to
#      it (atomically, by rename). A failed upgrade thus leaves the running kiosk as it
#      was, and the previous venv is kept for a rollback (`ln -sfn venvs/<old> venv`);
#   4. /etc/kiosk (root:kiosk 0750) and /etc/kiosk/certs, /var/lib/kiosk (kiosk:kiosk
#      0700) with receipts/, kivy/ and cache/, /media/kiosk (the USB key exchange):
#      created when absent, their own owner and mode repaired, NOTHING inside them
#      touched: the config, the certificates, the ledger and its keys stay as they are;
#   5. the unit /etc/systemd/system/kiosk.service, a udev rule for a USB ticket printer,
#      a polkit rule when pcscd is built with polkit (Debian 12's is not); the unit is
#      enabled; it is (re)started only when systemd is PID 1, outside --root, and the
#      kiosk is provisioned (/etc/kiosk/kiosk.toml exists);
#   6. /usr/local/bin/kiosk -> /opt/borne-dmp/venv/bin/kiosk, and the next steps.
#
# --root DIR installs into a scratch root (tests, images): users go into DIR/etc/passwd
# (useradd --root), units are enabled with systemctl --root. The venv's scripts then
# name DIR/opt/borne-dmp/venvs/... in their #! lines: such a tree runs where it was
# built, not copied elsewhere.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: install.sh [--root DIR] [--source DIR] [--wheel FILE] [--python PYTHON] [--no-apt]
  --root DIR      install into DIR instead of / (implies --no-apt)
  --source DIR    the checkout to build the wheel from (default: this script's repository)
  --wheel FILE    install this borne_dmp wheel instead of building one
  --python PATH   the Python the venv is made from (default: python3, 3.11 on Debian 12)
  --no-apt        do not apt-get install the system packages
EOF
}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=""
SOURCE=$(dirname "$HERE")
WHEEL=""
PYTHON=python3
APT=1
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
        --source) SOURCE=${2:?--source needs a directory}; shift 2 ;;
        --wheel) WHEEL=${2:?--wheel needs a file}; shift 2 ;;
        --python) PYTHON=${2:?--python needs a path}; shift 2 ;;
        --no-apt) APT=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

say() { printf 'install.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run it as root: sudo $0"
if [ -n "$ROOT" ]; then
    [ -d "$ROOT" ] || die "--root $ROOT: no such directory"
    ROOT=$(cd "$ROOT" && pwd)
    if [ "$ROOT" = / ]; then ROOT=""; fi
fi
SOURCE=$(cd "$SOURCE" && pwd)
[ -n "$WHEEL" ] || [ -f "$SOURCE/pyproject.toml" ] || die "--source $SOURCE: no pyproject.toml"
[ -z "$WHEEL" ] || [ -f "$WHEEL" ] || die "--wheel $WHEEL: no such file"
UNITS="$SOURCE/systemd"
if [ ! -f "$UNITS/kiosk.service" ]; then UNITS="$HERE/../systemd"; fi
[ -f "$UNITS/kiosk.service" ] || die "systemd/kiosk.service not found beside $HERE"

OPT=/opt/borne-dmp
ETC=/etc/kiosk
STATE=/var/lib/kiosk
EXCHANGE=/media/kiosk
USER_NAME=kiosk
DEVICE_GROUPS=(video render input audio lp dialout plugdev)

# Runtime packages of a kiosk: pcscd and the CCID driver for USB readers; Python's venv
# and what builds pyscard when no wheel fits (swig, gcc, headers); the libraries the
# Kivy wheel's bundled SDL2 loads on KMS/DRM (EGL/GLES, GBM, DRM, Mesa's drivers, mtdev,
# ALSA) and libusb for a USB ticket printer; udev (the input and render groups, device
# events); speech; the receipt's font.
APT_PACKAGES=(
    pcscd libccid libpcsclite1 libpcsclite-dev swig gcc python3-dev python3-venv
    libgl1 libegl1 libgles2 libgbm1 libdrm2 libgl1-mesa-dri libmtdev1 libudev1
    libasound2 libusb-1.0-0 udev espeak-ng fonts-dejavu-core ca-certificates
)

r() { printf '%s%s' "$ROOT" "$1"; }  # a path inside the target root
refuse_link() {  # refuse_link PATH: a symbolic link, or not a directory, where one is made
    if [ -L "$(r "$1")" ]; then
        die "$(r "$1") is a symbolic link; install.sh never follows one there (remove it)"
    fi
    if [ -e "$(r "$1")" ] && [ ! -d "$(r "$1")" ]; then die "$(r "$1") is not a directory"; fi
}
ROOT_ARGS=()
if [ -n "$ROOT" ]; then ROOT_ARGS=(--root "$ROOT"); fi
systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }
# Before anything changes: the directories of step 4 (a symbolic link is refused).
for dir in $ETC $ETC/certs $STATE $STATE/receipts $STATE/kivy $STATE/cache; do
    refuse_link "$dir"
done
if [ -L "$(r $EXCHANGE)" ]; then refuse_link $EXCHANGE; fi

# --- 1. system packages --------------------------------------------------------------
if [ "$APT" -eq 1 ] && [ -z "$ROOT" ]; then
    say "installing system packages: ${APT_PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
elif [ "$APT" -eq 1 ]; then
    say "--root: system packages not installed (apt-get cannot install into $ROOT)"
fi

# --- 2. the kiosk user ---------------------------------------------------------------
has_entry() { awk -F: -v name="$2" '$1 == name { found = 1 } END { exit !found }' "$1"; }
[ -f "$(r /etc/passwd)" ] && [ -f "$(r /etc/group)" ] || die "$(r /etc/passwd) or group missing"
if has_entry "$(r /etc/passwd)" "$USER_NAME"; then
    say "user $USER_NAME exists"
else
    say "creating system user $USER_NAME"
    useradd "${ROOT_ARGS[@]}" --system --user-group --home-dir "$STATE" --no-create-home \
        --shell /usr/sbin/nologin --comment "Borne DMP kiosk" "$USER_NAME"
fi
groups=()
for group in "${DEVICE_GROUPS[@]}"; do
    if has_entry "$(r /etc/group)" "$group"; then groups+=("$group"); fi
done
if [ "${#groups[@]}" -gt 0 ]; then
    usermod "${ROOT_ARGS[@]}" --append --groups "$(IFS=,; echo "${groups[*]}")" "$USER_NAME"
fi
KIOSK_UID=$(awk -F: -v name="$USER_NAME" '$1 == name { print $3 }' "$(r /etc/passwd)")
KIOSK_GID=$(awk -F: -v name="$USER_NAME" '$1 == name { print $4 }' "$(r /etc/passwd)")
[ -n "$KIOSK_UID" ] && [ -n "$KIOSK_GID" ] || die "user $USER_NAME has no uid/gid"

# --- 3. the application's venv -------------------------------------------------------
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -n "$WHEEL" ]; then
    VERSION=$(basename "$WHEEL" | cut -d- -f2)
else
    VERSION=$("$PYTHON" -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$SOURCE/pyproject.toml")
fi
mkdir -p "$(r $OPT)/venvs"
chmod 0755 "$(r $OPT)" "$(r $OPT)/venvs"
NAME="$VERSION-$(date -u +%Y%m%dT%H%M%SZ)"
NEW="$(r $OPT)/venvs/$NAME"
[ ! -e "$NEW" ] || die "$NEW exists already (two installs in one second?)"
fail() { rm -rf "$NEW"; die "$1; the installed kiosk is unchanged"; }
say "creating the virtualenv $OPT/venvs/$NAME"
"$PYTHON" -m venv "$NEW"
PIP=("$NEW/bin/python" -m pip --disable-pip-version-check --no-input)
# Debian's pip 23.0 is upgraded first: a current pip shares the cache of the one that
# installed the developer's .venv (a CI run downloads nothing twice).
"${PIP[@]}" install --quiet --upgrade pip >&2 || say "pip not upgraded; going on"
if [ -z "$WHEEL" ]; then
    # Built from a copy, so that the build writes no build/ or *.egg-info in the checkout.
    say "building the wheel from $SOURCE"
    mkdir "$WORK/src"
    tar -C "$SOURCE" --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
        --exclude=./out --exclude='*.egg-info' --exclude=__pycache__ --exclude='.*_cache' \
        --exclude=./.hypothesis -cf - . | tar -C "$WORK/src" -xf -
    "${PIP[@]}" wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$WORK/src" >&2 \
        || fail "building the wheel failed"
    WHEEL=$(find "$WORK/dist" -name "borne_dmp-$VERSION-*.whl" | head -n 1)
    [ -n "$WHEEL" ] || fail "no borne_dmp $VERSION wheel was built"
fi
say "installing borne-dmp $VERSION and its dependencies into it"
"${PIP[@]}" install --quiet "$WHEEL" >&2 || fail "pip install failed"
# The new venv must work before the service is pointed at it: the command, and the
# native modules (pyscard against libpcsclite, lxml, cryptography, Kivy).
"$NEW/bin/kiosk" --help >/dev/null || fail "the new venv's kiosk --help failed"
KIVY_HOME="$WORK/kivy" KIVY_NO_ARGS=1 KIVY_NO_CONSOLELOG=1 "$NEW/bin/python" -c \
    'import smartcard.scard, lxml.etree, signxml, cryptography, kivy' >/dev/null \
    || fail "a native module of the new venv does not load"
printf '{"version": "%s", "installed": "%s", "source": "%s"}\n' "$VERSION" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$(git -C "$SOURCE" rev-parse --short HEAD 2>/dev/null || basename "$WHEEL")" \
    > "$NEW/borne-dmp-install.json"
# Switch: a symlink renamed over the old one, so /opt/borne-dmp/venv is always whole.
PREVIOUS=""
if [ -L "$(r $OPT)/venv" ]; then
    PREVIOUS=$(basename "$(readlink "$(r $OPT)/venv")")
elif [ -d "$(r $OPT)/venv" ]; then  # a venv made by hand: kept beside the others
    PREVIOUS="unversioned-$NAME"
    mv "$(r $OPT)/venv" "$(r $OPT)/venvs/$PREVIOUS"
fi
ln -sfn "venvs/$NAME" "$(r $OPT)/venv.next"
mv -T "$(r $OPT)/venv.next" "$(r $OPT)/venv"
say "$OPT/venv -> venvs/$NAME${PREVIOUS:+ (previous venvs/$PREVIOUS kept for a rollback)}"
for old in "$(r $OPT)"/venvs/*; do  # keep the current venv and the one before it
    case "$(basename "$old")" in
        "$NAME"|"$PREVIOUS") ;;
        *) rm -rf "$old" ;;
    esac
done
install -m 0644 "$SOURCE/README.md" "$(r $OPT)/README.md" 2>/dev/null || true
install -m 0755 "$HERE/uninstall.sh" "$(r $OPT)/uninstall.sh"

# --- 4. config and state directories: created, never emptied or overwritten -----------
# /var/lib/kiosk is the kiosk user's: a symbolic link it put there (receipts -> /etc) is
# refused, never followed by chown or chmod.
directory() {  # directory PATH MODE UID GID: create when absent, fix its owner and mode
    local path; path=$(r "$1")
    refuse_link "$1"
    if [ -d "$path" ]; then
        chown -h "$3:$4" "$path"
        refuse_link "$1"  # not swapped for a link since
        chmod "$2" "$path"
    else
        install -d -o "$3" -g "$4" -m "$2" "$path"
    fi
}
directory $ETC 0750 0 "$KIOSK_GID"
directory $ETC/certs 0750 0 "$KIOSK_GID"
directory $STATE 0700 "$KIOSK_UID" "$KIOSK_GID"
for sub in receipts kivy cache; do
    directory "$STATE/$sub" 0700 "$KIOSK_UID" "$KIOSK_GID"
done
# The USB key exchange: left alone when something is mounted there.
if [ ! -e "$(r $EXCHANGE)" ]; then
    directory $EXCHANGE 0700 "$KIOSK_UID" "$KIOSK_GID"
fi

# --- 5. units and rules --------------------------------------------------------------
install -d -m 0755 "$(r /etc/systemd/system)"
install -m 0644 "$UNITS/kiosk.service" "$(r /etc/systemd/system/kiosk.service)"
install -d -m 0755 "$(r /etc/udev/rules.d)"
install -m 0644 "$HERE/60-borne-dmp-printer.rules" "$(r /etc/udev/rules.d/60-borne-dmp-printer.rules)"
if [ -f "$(r /usr/share/polkit-1/actions/org.debian.pcsc-lite.policy)" ]; then
    say "pcscd uses polkit: allowing user $USER_NAME"
    install -d -m 0755 "$(r /etc/polkit-1/rules.d)"
    install -m 0644 "$HERE/50-borne-dmp-pcscd.rules" \
        "$(r /etc/polkit-1/rules.d/50-borne-dmp-pcscd.rules)"
fi
if [ -n "$ROOT" ]; then
    systemctl --root="$ROOT" enable kiosk.service >/dev/null 2>&1
elif systemd_running; then
    systemctl daemon-reload
    systemctl enable kiosk.service >/dev/null 2>&1
    if command -v udevadm >/dev/null; then
        udevadm control --reload || true
        udevadm trigger --subsystem-match=usb || true
    fi
else
    systemctl --root=/ enable kiosk.service >/dev/null 2>&1
fi
say "kiosk.service installed and enabled"

# --- 6. the command, and what is left to do ------------------------------------------
install -d -m 0755 "$(r /usr/local/bin)"
ln -sfn "$OPT/venv/bin/kiosk" "$(r /usr/local/bin/kiosk)"

STARTED=0
if systemd_running && [ -f "$ETC/kiosk.toml" ]; then
    if systemctl restart kiosk.service; then
        STARTED=1
    else
        say "kiosk.service failed to start: journalctl -u kiosk -n 50, then sudo kiosk doctor"
    fi
fi
if [ -n "$ROOT" ]; then
    say "installed borne-dmp $VERSION into $ROOT"
elif [ "$STARTED" -eq 1 ]; then
    say "borne-dmp $VERSION installed; kiosk.service restarted. Check it: sudo kiosk doctor"
else
    cat >&2 <<EOF
install.sh: borne-dmp $VERSION installed. Next steps:
  1. provision the kiosk (config, certificates, pharmacist code, ledger keys):
       sudo kiosk provision
  2. check it:
       sudo kiosk doctor
  3. start it (it also starts at every boot):
       sudo systemctl start kiosk
     and read its log: journalctl -u kiosk -f
EOF
fi
