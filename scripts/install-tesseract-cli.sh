#!/usr/bin/env bash
# Installs the native tesseract CLI (Debian tesseract-ocr) that `npm run bench:ocr` compares the
# project's tesseract.js pool against. Only the benchmark needs it: the OCR step itself never runs
# the CLI. Does nothing when `tesseract` is on PATH; needs root (or sudo) otherwise.
set -euo pipefail

if command -v tesseract >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-tesseract-cli: tesseract missing; install tesseract-ocr with your package manager" >&2
  exit 1
fi
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
echo "install-tesseract-cli: apt-get install tesseract-ocr (for the OCR benchmark's native baseline)"
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
# The bench points the CLI at the tesseract.js model with --tessdata-dir: no language package needed.
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends tesseract-ocr >/dev/null
command -v tesseract >/dev/null
