#!/usr/bin/env bash
# Developer and CI entry point (README "Quick start"). From a fresh clone with only python3:
#   bash packaging/dev.sh demo [impdesk options]   set up .venv, then run `impdesk --demo`
#   bash packaging/dev.sh test [pytest options]    set up .venv, then `ruff check .` and pytest -n 2
#   bash packaging/dev.sh setup                    only create or refresh .venv
# Setup creates .venv with `python3 -m venv` (PYTHON=... picks another interpreter), runs
# `pip install -e '.[test]'` only when pyproject.toml, the interpreter or the checkout path changed
# since the last install, and installs missing Qt system libraries with apt-get when run as root
# (otherwise it prints the apt-get command). Tests always run offscreen.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.impdesk-installed"
PYTHON="${PYTHON:-python3}"

say() { printf 'dev.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# apt_install PACKAGE... : install Debian packages as root (or via sudo on a terminal).
apt_install() {
    local -a sudo=()
    command -v apt-get >/dev/null 2>&1 ||
        die "missing system packages: $*; install them with your package manager"
    if [[ $EUID -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && [[ -t 0 ]]; then
            sudo=(sudo)
        else
            die "missing system packages; run: sudo apt-get install -y --no-install-recommends $*"
        fi
    fi
    say "installing system packages: $*"
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_venv() {
    if [[ -x "$PY" ]] && "$PY" -c 'import sys' >/dev/null 2>&1; then
        return
    fi
    command -v "$PYTHON" >/dev/null 2>&1 ||
        die "$PYTHON not found; install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)"
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "impdesk needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)"
    if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        apt_install python3-venv  # Debian splits venv/ensurepip out of python3
    fi
    say "creating .venv with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv --clear "$VENV"
}

# The install is current when this key matches the stamp: content of pyproject.toml (not its
# mtime, which every clone and checkout resets), the interpreter, and where the checkout lives
# (an editable install points at it).
install_key() {
    "$PY" - "$ROOT" <<'EOF'
import hashlib, sys
root = sys.argv[1]
with open(f"{root}/pyproject.toml", "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
print(f"{digest} {sys.version.split()[0]} {root}")
EOF
}

ensure_install() {
    local key start=$SECONDS
    key="$(install_key)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$key" ]]; then
        return
    fi
    say "installing impdesk and its test tools into .venv (pip install -e '.[test]')"
    (cd "$ROOT" && "$PY" -m pip install -q --disable-pip-version-check -e '.[test]')
    printf '%s\n' "$key" >"$STAMP"
    say "installed in $((SECONDS - start)) s"
}

# ensure_qt_libs PLATFORM... : system libraries for those Qt platform plugins (offscreen, xcb, ...).
ensure_qt_libs() {
    local missing
    missing="$("$PY" "$ROOT/packaging/qt_sysdeps.py" "$@")"
    if [[ -n "$missing" ]]; then
        # shellcheck disable=SC2086  # word splitting wanted: a list of package names
        apt_install $missing
    fi
}

setup() {
    ensure_venv
    ensure_install
}

# The Qt platform plugin a window will use: QT_QPA_PLATFORM's first entry, else what Qt picks.
gui_platform() {
    local requested="${QT_QPA_PLATFORM:-}"
    if [[ -n "$requested" ]]; then
        requested="${requested%%;*}"
        printf '%s\n' "${requested%%:*}"
    elif [[ -n "${WAYLAND_DISPLAY:-}" ]]; then
        printf 'wayland xcb\n'  # Qt falls back to xcb (XWayland) if wayland fails
    else
        printf 'xcb\n'
    fi
}

cmd_demo() {
    setup
    if [[ "$(uname -s)" == Linux && -z "${QT_QPA_PLATFORM:-}" &&
          -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
        die "no display (DISPLAY and WAYLAND_DISPLAY are unset). Without one, save a picture:
    QT_QPA_PLATFORM=offscreen bash packaging/dev.sh demo --screenshot demo.png"
    fi
    # shellcheck disable=SC2046  # one word per platform
    ensure_qt_libs $(gui_platform)
    exec "$VENV/bin/impdesk" --demo "$@"
}

# The official JS client check (tests/emulator/test_jsclient.py) runs when Node.js is there;
# it is optional: without node or the npm registry the test skips with its reason.
ensure_jsclient() {
    local dir="$ROOT/tests/jsclient"
    if [[ -d "$dir/node_modules/imp-central-api" ]] || ! command -v npm >/dev/null 2>&1; then
        return 0
    fi
    say "npm ci (tests/jsclient, optional)"
    (cd "$dir" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
        say "npm ci failed; the JS client check will be skipped"
}

cmd_test() {
    local start=$SECONDS rc=0 lint_rc=0 smoke
    setup
    export QT_QPA_PLATFORM=offscreen QT_API=pyside6
    ensure_qt_libs offscreen
    if ! smoke="$("$PY" -c 'from PySide6.QtWidgets import QApplication; QApplication([])' 2>&1)"
    then
        die "PySide6 cannot create an offscreen QApplication:
$smoke"
    fi
    "$PY" -m impdesk --version | paste -sd ' ' - | sed 's/^/dev.sh: /' >&2
    cd "$ROOT"
    ensure_jsclient
    say "ruff check ."
    "$VENV/bin/ruff" check . || lint_rc=$?  # report, but still run the tests
    say "pytest -n 2 $*"
    "$PY" -m pytest -n 2 "$@" || rc=$?
    say "tests finished in $((SECONDS - start)) s (pytest exit $rc, ruff exit $lint_rc)"
    if [[ $rc -eq 5 ]]; then
        die "pytest collected no tests; treating that as a failure"
    fi
    if [[ $rc -eq 0 && $lint_rc -ne 0 ]]; then
        die "ruff check . failed (see above)"
    fi
    return "$rc"
}

main() {
    local command="${1:-}"
    shift || true
    case "$command" in
        demo) cmd_demo "$@" ;;
        test) cmd_test "$@" ;;
        setup) setup ;;
        *)
            sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
            exit 2
            ;;
    esac
}

main "$@"
