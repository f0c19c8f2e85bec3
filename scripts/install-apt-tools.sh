#!/usr/bin/env bash
# Installs one Debian package when any of the commands it provides is missing from PATH:
#   install-apt-tools.sh <package> <command>...
# Does nothing when every command is there; needs root (or sudo) otherwise. Used by the scripts that
# name a single package (OCR's poppler-utils, the OCR benchmark's tesseract-ocr).
set -euo pipefail

package=$1
shift
missing=0
for command in "$@"; do command -v "$command" >/dev/null || missing=1; done
[ "$missing" -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "$package is missing ($*); install it with your package manager" >&2
  exit 1
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "apt-get install $package" >&2
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$package" >/dev/null
for command in "$@"; do command -v "$command" >/dev/null; done
