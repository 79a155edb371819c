#!/usr/bin/env bash
# Render the hicolor PNGs from the SVG artwork in resources/ and sync the packaged copies:
#   bash packaging/make_icons.sh
# 16 and 24 px come from resources/impdesk-small.svg (the mark hinted for tiny sizes), the rest from
# resources/impdesk.svg. Writes resources/icons/hicolor/<n>x<n>/apps/<APP_ID>.png and the same
# tree under impdesk/resources/ (package data); tests/test_resources.py checks the two agree.
# Needs rsvg-convert (Debian: librsvg2-bin), installed with apt-get when run as root.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP_ID="$(sed -n 's/^APP_ID = "\(.*\)"$/\1/p' "$ROOT/impdesk/__init__.py")"
SIZES=(16 24 32 48 64 128 256 512)
SMALL_MAX=24

if ! command -v rsvg-convert >/dev/null 2>&1; then
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            librsvg2-bin >/dev/null
    else
        echo "make_icons.sh: rsvg-convert missing; apt-get install librsvg2-bin" >&2
        exit 1
    fi
fi

for size in "${SIZES[@]}"; do
    src="$ROOT/resources/impdesk.svg"
    if ((size <= SMALL_MAX)); then
        src="$ROOT/resources/impdesk-small.svg"
    fi
    out="$ROOT/resources/icons/hicolor/${size}x${size}/apps"
    mkdir -p "$out"
    rsvg-convert --width "$size" --height "$size" --keep-aspect-ratio "$src" \
        --output "$out/$APP_ID.png"
done

rm -rf "$ROOT/impdesk/resources/icons"
mkdir -p "$ROOT/impdesk/resources/icons"
cp -R "$ROOT/resources/icons/hicolor" "$ROOT/impdesk/resources/icons/"
cp "$ROOT/resources/impdesk.svg" "$ROOT/resources/impdesk-small.svg" "$ROOT/impdesk/resources/"
echo "make_icons.sh: rendered ${#SIZES[@]} sizes for $APP_ID" >&2
