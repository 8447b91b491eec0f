#!/usr/bin/env bash
# Borne DMP developer entry point. Idempotent: installs what is missing, then runs.
#   ./kiosk.sh demo    run the kiosk in demo mode (emulated cards through pcscd)
#   ./kiosk.sh test    lint, type-check, check the layers and run the whole test suite
#   ./kiosk.sh bench   run the benchmarks: bench/run (out/bench/report.json and .md)
set -euo pipefail
cd "$(dirname "$0")"

# PC/SC + emulator readers, display, third-party checkers, PDF tools and fonts, speech,
# the libraries Kivy's SDL2 window loads (software OpenGL under Xvfb), and systemd for
# systemd-analyze (the unit's checks).
SYSTEM_PACKAGES=(
    pcscd vsmartcard-vpcd libpcsclite-dev swig xvfb cardpeek xmlsec1 poppler-utils
    fonts-dejavu-core espeak-ng libgl1 libgl1-mesa-dri libxcursor1 libxi6 libxrandr2
    libxss1 libxxf86vm1 libmtdev1 systemd
)
VENV=.venv

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_system() {
    local missing=() pkg
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "kiosk.sh: installing system packages: ${missing[*]}" >&2
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

ensure_venv() {
    local stamp="$VENV/.installed" want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "kiosk.sh: installing Python dependencies in $VENV" >&2
        "$VENV/bin/pip" install -q --upgrade pip
        "$VENV/bin/pip" install -q -e '.[test,dev]'
        echo "$want" > "$stamp"
    fi
}

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
    demo)
        ensure_system; ensure_venv
        exec "$VENV/bin/kiosk" run --demo "$@"
        ;;
    test)
        ensure_system; ensure_venv
        "$VENV/bin/ruff" check .
        "$VENV/bin/ruff" format --check .
        "$VENV/bin/mypy"
        "$VENV/bin/lint-imports" --no-logo --no-cache  # the layers (pyproject.toml)
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    bench)
        SYSTEM_PACKAGES+=(sysbench)  # the Pi-class budget's calibration (bench/bench_pi.py)
        ensure_system; ensure_venv
        exec "$VENV/bin/python" bench/run "$@"  # every bench, one report (bench/run --help)
        ;;
    *)
        echo "usage: ./kiosk.sh demo|test|bench" >&2
        exit 2
        ;;
esac
