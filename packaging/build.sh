#!/usr/bin/env bash
# Build the frozen app and the Debian package (guide §8). From a fresh clone, as root on Debian:
#   bash packaging/build.sh                  dist/impdesk/ (PyInstaller onedir) + dist/impdesk_<v>_<arch>.deb
#   bash packaging/build.sh --check-install  also dpkg -i the .deb, run /usr/bin/impdesk --self-test (offscreen, then on Xvfb), dpkg -r
# Steps: system tools (desktop-file-utils, appstream, librsvg2-bin, dpkg-dev) with apt-get when
# missing; .venv through packaging/dev.sh setup, plus PyInstaller; icons checked against the SVGs;
# pyinstaller packaging/impdesk.spec; --version and --self-test of the frozen app offscreen;
# the .deb staged under build/deb and validated with desktop-file-validate and
# appstreamcli validate --no-net. Depends: the guide's list plus every system package the bundle
# links to directly (packaging/deb_depends.py). CLEAN=1 makes PyInstaller start from scratch;
# COMPRESS=xz gives a smaller .deb in about 3 minutes more (default gzip: seconds, any dpkg).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
DIST="$ROOT/dist"
WORK="$ROOT/build"
PYINSTALLER_SPEC="pyinstaller>=6.10,<7"
SMOKE_TIMEOUT_S=60
BASE_DEPENDS="libxcb-cursor0, libxkbcommon-x11-0, libegl1, libgl1, libfontconfig1, libdbus-1-3, libglib2.0-0"
RECOMMENDS="gnome-keyring | kwalletmanager"
BUILD_START=$SECONDS
PHASE_START=$SECONDS

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
phase() {  # phase NAME: report how long the previous phase took, start the next one
    say "$1"
    PHASE_START=$SECONDS
}
took() { say "  done in $((SECONDS - PHASE_START)) s"; }

apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "missing tools: $*; install them by hand"
    [[ $EUID -eq 0 ]] || die "missing tools; run: sudo apt-get install -y --no-install-recommends $*"
    say "installing system packages: $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_tools() {  # ensure_tools CHECK_INSTALL
    local -a missing=()
    if (($1)); then  # the installed app also runs on Xvfb
        command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
        command -v xauth >/dev/null 2>&1 || missing+=(xauth)
    fi
    command -v desktop-file-validate >/dev/null 2>&1 || missing+=(desktop-file-utils)
    command -v appstreamcli >/dev/null 2>&1 || missing+=(appstream)
    command -v rsvg-convert >/dev/null 2>&1 || missing+=(librsvg2-bin)
    command -v dpkg-architecture >/dev/null 2>&1 || missing+=(dpkg-dev)
    command -v objdump >/dev/null 2>&1 || missing+=(binutils)  # PyInstaller and readelf
    # Libraries of the Wayland platform plugin, so that deb_depends.py can name their packages.
    ldconfig -p | grep -q 'libwayland-cursor\.so\.0 ' || missing+=(libwayland-cursor0)
    ldconfig -p | grep -q 'libwayland-egl\.so\.1 ' || missing+=(libwayland-egl1)
    command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found: the .deb needs a Debian-like system"
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
    fi
}

ensure_venv() {
    bash "$ROOT/packaging/dev.sh" setup
    if ! "$PY" -c 'import PyInstaller' >/dev/null 2>&1; then
        say "pip install '$PYINSTALLER_SPEC' into .venv"
        "$PY" -m pip install -q --disable-pip-version-check "$PYINSTALLER_SPEC"
    fi
    # The frozen app's Qt platform plugins need these at build time (PyInstaller checks
    # their libraries) and at run time; dev.sh knows the Debian names.
    local missing
    missing="$("$PY" "$ROOT/packaging/qt_sysdeps.py" offscreen xcb)"
    if [[ -n "$missing" ]]; then
        # shellcheck disable=SC2086  # a list of package names
        apt_install $missing
    fi
}

app_value() {  # app_value NAME: a constant from impdesk/__init__.py
    sed -n "s/^$1 = \"\\(.*\\)\"\$/\\1/p" "$ROOT/impdesk/__init__.py"
}

check_icons() {
    local tmp size src
    tmp="$(mktemp -d)"
    for size in 16 24 32 48 64 128 256 512; do
        src="$ROOT/resources/impdesk.svg"
        ((size <= 24)) && src="$ROOT/resources/impdesk-small.svg"
        rsvg-convert -w "$size" -h "$size" "$src" -o "$tmp/$size.png"
        cmp -s "$tmp/$size.png" "$ROOT/resources/icons/hicolor/${size}x${size}/apps/$APP_ID.png" ||
            say "warning: ${size}px icon differs from the SVG; run bash packaging/make_icons.sh"
    done
    rm -rf "$tmp"
}

freeze() {
    local -a clean=()
    [[ "${CLEAN:-0}" == 1 ]] && clean=(--clean)
    (cd "$ROOT" && "$PY" -m PyInstaller --noconfirm --log-level WARN ${clean[@]+"${clean[@]}"} \
        --distpath "$DIST" --workpath "$WORK/pyinstaller" packaging/impdesk.spec)
}

smoke() {  # smoke BINARY: --version and --self-test offscreen, under a timeout
    local bin="$1"
    env -u DISPLAY -u WAYLAND_DISPLAY timeout "$SMOKE_TIMEOUT_S" "$bin" --version
    QT_QPA_PLATFORM=offscreen timeout "$SMOKE_TIMEOUT_S" "$bin" --self-test
}

smoke_xcb() {  # smoke_xcb BINARY: --self-test on a real X server (Xvfb) through the xcb plugin
    # What users run: offscreen passing says nothing about the xcb plugin and its libraries.
    local bin="$1"
    QT_QPA_PLATFORM=xcb timeout "$SMOKE_TIMEOUT_S" \
        xvfb-run -a -s "-screen 0 1280x800x24" "$bin" --self-test
}

stage_deb() {
    local stage="$WORK/deb/root" size
    rm -rf "$WORK/deb"
    umask 022
    mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
        "$stage/usr/share/metainfo" "$stage/usr/share/doc/impdesk"
    cp -a "$DIST/impdesk" "$stage/opt/impdesk"
    ln -s /opt/impdesk/impdesk "$stage/usr/bin/impdesk"
    install -m 0644 "$ROOT/impdesk/resources/$APP_ID.desktop" "$stage/usr/share/applications/"
    install -m 0644 "$ROOT/impdesk/resources/$APP_ID.metainfo.xml" "$stage/usr/share/metainfo/"
    cp -R "$ROOT/resources/icons" "$stage/usr/share/"
    mkdir -p "$stage/usr/share/icons/hicolor/scalable/apps"
    install -m 0644 "$ROOT/resources/impdesk.svg" \
        "$stage/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
    install -m 0644 "$ROOT/packaging/debian/copyright" "$stage/usr/share/doc/impdesk/copyright"
    find "$stage" -type d -exec chmod 0755 {} +
    find "$stage/usr/share" -type f -exec chmod 0644 {} +
    size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
    cat >"$stage/DEBIAN/control" <<EOF
Package: impdesk
Version: $VERSION-1
Architecture: $ARCH
Maintainer: impdesk developers <impdesk@users.noreply.github.com>
Installed-Size: $size
Depends: $DEPENDS
Recommends: $RECOMMENDS
Section: net
Priority: optional
Homepage: https://github.com/impdesk/impdesk
Description: desktop manager for Electric Imp impCentral accounts
 impdesk shows the products, device groups and devices of an Electric Imp
 impCentral account as one tree: move devices by drag and drop with undo,
 restart them, deploy code and follow device logs. A built-in impCentral
 emulator gives a demo mode that needs no account.
 .
 This package ships a self-contained build under /opt/impdesk.
EOF
}

validate() {
    local stage="$WORK/deb/root"
    desktop-file-validate "$stage/usr/share/applications/$APP_ID.desktop"
    say "  desktop-file-validate: ok"
    appstreamcli validate --no-net "$stage/usr/share/metainfo/$APP_ID.metainfo.xml" >&2
}

check_install() {
    [[ $EUID -eq 0 ]] || die "--check-install needs root (dpkg -i)"
    local rc=0
    if ! dpkg -i "$DEB" >&2; then
        say "dpkg -i reported missing dependencies; letting apt-get resolve them"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -f >/dev/null
    fi
    [[ "$(readlink -f /usr/bin/impdesk)" == /opt/impdesk/impdesk ]] || rc=1
    smoke /usr/bin/impdesk || rc=$?
    smoke_xcb /usr/bin/impdesk || rc=$?
    dpkg -r impdesk >&2
    [[ ! -e /usr/bin/impdesk && ! -e /opt/impdesk ]] || die "dpkg -r left files behind"
    return "$rc"
}

main() {
    local check_install=0
    case "${1:-}" in
        "") ;;
        --check-install) check_install=1 ;;
        *) sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
    APP_ID="$(app_value APP_ID)"
    VERSION="$(app_value __version__)"
    [[ -n "$APP_ID" && -n "$VERSION" ]] || die "cannot read APP_ID/__version__ from impdesk/__init__.py"

    phase "system tools"
    ensure_tools "$check_install"
    ARCH="$(dpkg --print-architecture)"
    took
    phase ".venv and PyInstaller"
    ensure_venv
    took
    phase "icons against the SVG artwork"
    check_icons
    took
    phase "pyinstaller packaging/impdesk.spec"
    freeze
    took
    phase "smoke test of dist/impdesk (offscreen)"
    smoke "$DIST/impdesk/impdesk"
    took
    phase "stage and validate the .deb"
    DEPENDS="$("$PY" "$ROOT/packaging/deb_depends.py" "$DIST/impdesk" "$BASE_DEPENDS")"
    say "  Depends: $DEPENDS"
    stage_deb
    validate
    DEB="$DIST/impdesk_${VERSION}-1_${ARCH}.deb"
    rm -f "$DEB"
    dpkg-deb --root-owner-group "-Z${COMPRESS:-gzip}" --build "$WORK/deb/root" "$DEB" >/dev/null
    took
    if ((check_install)); then
        phase "dpkg -i, /usr/bin/impdesk --self-test (offscreen, then xcb on Xvfb), dpkg -r"
        check_install
        took
    fi
    say "built $DEB ($(du -h "$DEB" | cut -f1)) and dist/impdesk/ ($(du -sh "$DIST/impdesk" | cut -f1))"
    say "total $((SECONDS - BUILD_START)) s"
}

main "$@"
